"""SD-MAE on real labelled series (issue 4): UCR KDD-TSAD 135 (aeon), MIT-BIH and Yahoo (shipped with sktime),
next to two baselines: the same MAE without a student (reconstruction error) and IsolationForest on windows.

Writes bench/results/sd_mae_real.{json,md}.   python bench/sd_mae_real.py   (~5 min on 2 cores)
Smoke test: python bench/sd_mae_real.py --epochs 1 --tiny --datasets yahoo --vus_buffer 10 --out smoke_sd_mae_real
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write, md_table
from patchssl.data import load_kdd_tsad_135, load_sktime_anomaly
from patchssl.anomaly import zscore, isolation_forest_scores, anomaly_metrics, quantile_threshold
from patchssl.sd_mae import fit_sd_mae, point_scores

ap = argparse.ArgumentParser()
ap.add_argument('--epochs', type=int, default=20)
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--vus_buffer', type=int, default=100)
ap.add_argument('--datasets', nargs='*', default=['kdd_tsad_135', 'mitdb', 'yahoo'])
ap.add_argument('--tiny', action='store_true', help='a tiny model (smoke test)')
ap.add_argument('--out', default='sd_mae_real', help='results name under bench/results (a smoke test should not overwrite the real run)')
a = ap.parse_args()
torch.set_num_threads(a.threads)

TINY = dict(d_model=16, n_heads=2, n_layers=1, n_teacher_layers=1, n_student_layers=1) if a.tiny else {}

def datasets():
    if 'kdd_tsad_135' in a.datasets:
        k = load_kdd_tsad_135()
        tr, te = zscore(k['train'], k['test'])
        yield 'kdd_tsad_135', tr, te, k['labels'], 'train = the normal train part (1200), test = test part (7501)'
    for nm in ('mitdb', 'yahoo'):
        if nm not in a.datasets: continue
        x, y = load_sktime_anomaly(nm)
        n = int(.3 * len(x))
        tr, te = zscore(x[:n], x[n:])
        yield nm, tr, te, y[n:], f'train = first 30% ({n} steps, labels unused, {int(y[:n].sum())} labelled anomalous), test = the rest'

rows, extra = [], {}
for name, tr, te, y, how in datasets():
    stride = 1 if len(tr) < 3000 else 5
    scorers = {}
    t0 = time.time(); sd = fit_sd_mae(tr, epochs=a.epochs, stride=stride, recipe='reference', **TINY).model; t_sd = time.time() - t0
    for sc in ('discrepancy', 'reconstruction', 'both'):
        scorers[f'SD-MAE {sc}'] = (lambda m=sd, sc=sc: (point_scores(m, te, sc), point_scores(m, tr, sc)), t_sd)
    t0 = time.time(); mae = fit_sd_mae(tr, epochs=a.epochs, stride=stride, use_student=False, recipe='reference', **TINY).model; t_mae = time.time() - t0
    scorers['MAE (no student) reconstruction'] = (lambda: (point_scores(mae, te, 'reconstruction'), point_scores(mae, tr, 'reconstruction')), t_mae)
    scorers['IsolationForest windows'] = (lambda: (isolation_forest_scores(tr, te, 100, 1), isolation_forest_scores(tr, tr, 100, 1)), 0.)
    for sname, (f, t_fit) in scorers.items():
        t0 = time.time(); s_te, s_tr = f(); t_sc = time.time() - t0
        thr = quantile_threshold(s_tr, .99)          # labels never used: 99% quantile of scores on the training part
        m = anomaly_metrics(y, s_te, thr, a.vus_buffer)
        r = dict(dataset=name, scorer=sname, **m, fit_s=t_fit, score_s=t_sc)
        if name == 'kdd_tsad_135':
            lab = np.where(y)[0]; top = int(np.argmax(s_te))
            r['top_score_step'] = top
            r['ucr_hit'] = bool(lab[0] - 100 <= top <= lab[-1] + 100)
        rows.append(r); print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
    extra[name] = how

import pandas as pd
df = pd.DataFrame(rows)
cols = ['dataset', 'scorer', 'auc_roc', 'auc_pr', 'vus_pr', 'best_f1', 'f1', 'pa_f1', 'fit_s', 'score_s']
kdd = df[df.dataset == 'kdd_tsad_135'][['scorer', 'top_score_step', 'ucr_hit']] if 'ucr_hit' in df else None
note = (f"SD-MAE {'tiny' if a.tiny else 'default'} size (L=100, p=10, 'patch', mask 0.6), {a.epochs} epochs. Point scores: windows every 10 steps, all 10 mask positions. "
        "Threshold for f1 / pa_f1: 99% quantile of the scores on the training part (no labels). best_f1 chooses its threshold on the "
        "test labels (oracle). pa_f1 is point-adjusted and inflates. VUS-PR with max_buffer_size="
        f"{a.vus_buffer}.\n\n" + '\n'.join(f"- {k}: {v}" for k, v in extra.items()) +
        ("\n\nKDD-TSAD 135, labelled anomaly at steps 4187-4198; UCR criterion: top point score within 100 steps of it:\n\n" +
         md_table(kdd) if kdd is not None else '') + '\n\n')
write(a.out, dict(args=vars(a), rows=df.to_dict('records'), splits=extra), note + md_table(df[cols]))
