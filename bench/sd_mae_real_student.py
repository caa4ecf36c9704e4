"""SD-MAE student regimes on the three real labelled series (UCR KDD-TSAD 135, MIT-BIH, Yahoo; offline), next to the same
MAE without a student and IsolationForest: VUS-PR (aeon, buffer 100) first, AUC-ROC and point-adjusted F1 beside it.
Regimes: the default joint schedule and the joint schedule with the student on a stop-gradient latent (`detach_student`)
and a larger discrepancy weight (the regime chosen on the ETTh1 validation series by bench/sd_mae_student.py).

    nice -n 10 python bench/sd_mae_real_student.py --seeds 1 --steps 500
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.data import load_kdd_tsad_135, load_sktime_anomaly
from patchssl.anomaly import zscore, isolation_forest_scores, anomaly_metrics, smooth_scores, quantile_threshold
from patchssl.sd_mae import fit_sd_mae, sd_scores, point_scores

p = parser(__doc__, seeds=1)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--lambda_disc', type=float, default=4.)
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
L, BS = 100, 32
BASE = dict(d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
REGIMES = {'SD-MAE joint (old default)': dict(), f'SD-MAE stop-gradient, lambda_disc {a.lambda_disc:g}': dict(detach_student=True, lambda_disc=a.lambda_disc)}

def data():
    k = load_kdd_tsad_135(); tr, te = zscore(k['train'], k['test']); yield 'kdd_tsad_135', tr, te, k['labels']
    for nm in ('mitdb', 'yahoo'):
        x, y = load_sktime_anomaly(nm); n = int(.3 * len(x)); tr, te = zscore(x[:n], x[n:]); yield nm, tr, te, y[n:]

rows, t_all = [], time.time()
for name, tr, te, y in data():
    ref = tr[-max(L, int(len(tr) * .2)):]
    stride = 2 if len(tr) > 3000 else 1
    n_win = (len(tr) - max(L, int(len(tr) * .2)) - L) // stride + 1
    epochs = max(3, round(a.steps / max(1, -(-n_win // BS))))
    for seed in a.seeds:
        def add(model, score, s, s_ref):
            mt = anomaly_metrics(y, smooth_scores(s, 5), quantile_threshold(smooth_scores(s_ref, 5), .99), vus_buffer=100)
            rows.append(dict(dataset=name, seed=seed, model=model, score=score, vus_pr=mt['vus_pr'], auc_roc=mt['auc_roc'], pa_f1=mt.get('pa_f1')))
            print(rows[-1], flush=True)
        for nm, kw in REGIMES.items():
            m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=stride, bs=BS, seed=seed, **{**BASE, **kw}).model
            sc, sr = sd_scores(m, te, ref, smooth=1)
            for s, v in sc.items(): add(nm, s, v, sr[s])
        m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=stride, bs=BS, seed=seed, use_student=False, **BASE).model
        add('MAE (no student)', 'reconstruction', *(point_scores(m, s, 'reconstruction', masking='none') for s in (te, ref)))
        add('IsolationForest', 'windows', *(isolation_forest_scores(tr, s, L, 1, seed=seed) for s in (te, ref)))
df = pd.DataFrame(rows)
tab = df.groupby(['dataset', 'model', 'score'], sort=False)[['vus_pr', 'auc_roc', 'pa_f1']].mean().reset_index()
txt = (f"pa_f1 threshold: 99% quantile of the same score on the held-out last 20% of the training part (no labels). Real series, train = normal part (UCR 135) or first 30% (MIT-BIH, Yahoo; labels unused), test = the rest; {a.steps} Adam steps, "
       f"model {BASE}; scores smoothed over 5 steps, windows shown whole; mean over seeds {a.seeds}. VUS-PR is the main metric; "
       f"pa_f1 (point-adjusted, inflates) only beside it. Total {time.time() - t_all:.0f} s.\n\n" + md_table(tab))
write(a.name, dict(args=vars(a), rows=rows), txt, out=a.out)
