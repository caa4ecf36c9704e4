"""SD-MAE: does the student add anything? Ablation of the student regime (issue 24) on ETTh1 with injected anomalies,
chosen on the VALIDATION series (its own injected events; the test series is not used).

For each regime and seed: point AUC-ROC / VUS-PR of discrepancy, reconstruction and their standardised sum on the
injected validation series (windows shown whole, smooth 5), and the repair check on clean validation windows with one
injected event each: the teacher's error against the clean window on the changed cells (small = the teacher repairs)
and the teacher-student gap on the changed vs the other cells (the discrepancy's signal-to-noise).

    nice -n 10 python bench/sd_mae_student.py --seeds 3 --steps 500
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.anomaly import etth1_anomalies, anomaly_metrics, series_windows
from patchssl.sd_mae import fit_sd_mae, sd_scores, repair_check

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--regimes', nargs='*', default=None)
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
L, BS = 100, 32
BASE = dict(recipe='reference', d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
REGIMES = {
    'joint (default)': dict(),
    'joint, student on stop-gradient latent': dict(detach_student=True),
    'joint, stop-gradient, lambda_disc 2': dict(detach_student=True, lambda_disc=2.),
    'joint, stop-gradient, lambda_disc 4': dict(detach_student=True, lambda_disc=4.),
    'joint, stop-gradient, lambda_disc 8': dict(detach_student=True, lambda_disc=8.),
    'two_stage_pseudo 0.25': dict(schedule='two_stage_pseudo', stage1=0.7, pseudo_frac=0.25),
    'two_stage_pseudo 0.5': dict(schedule='two_stage_pseudo', stage1=0.7, pseudo_frac=0.5),
}
regimes = {k: v for k, v in REGIMES.items() if a.regimes is None or any(r in k for r in a.regimes)}
rows, t_all = [], time.time()
for seed in a.seeds:
    e = etth1_anomalies(seed=seed)
    tr, ref = e.splits.train, e.splits.train[-1700:]
    n_win = (len(tr) - int(len(tr) * .2) - L) // 2 + 1
    epochs = max(3, round(a.steps / -(-n_win // BS)))
    rw = series_windows(e.splits.valid[L:], L, 20)[0]
    for nm, kw in regimes.items():
        t0 = time.time()
        m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=2, bs=BS, seed=seed, **{**BASE, **kw}).model
        fit_s = time.time() - t0
        sc, _ = sd_scores(m, e.valid_x, ref, smooth=5)
        rc = repair_check(m, rw, seed=seed)
        r = dict(regime=nm, seed=seed, fit_s=fit_s,
                 teacher_err_changed=rc.loc['teacher - clean', 'changed cells'], input_err_changed=rc.loc['input - clean', 'changed cells'],
                 gap_changed=rc.loc['teacher - student', 'changed cells'], gap_other=rc.loc['teacher - student', 'other cells'])
        for s, v in sc.items():
            mt = anomaly_metrics(e.valid_y, v, vus_buffer=100)
            r[f'{s}_auc'], r[f'{s}_vus'] = mt['auc_roc'], mt['vus_pr']
        rows.append(r); print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
df = pd.DataFrame(rows)
cols = [c for c in df.columns if c not in ('regime', 'seed')]
mean, sd = df.groupby('regime', sort=False)[cols].mean(), df.groupby('regime', sort=False)[cols].std()
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c].fillna(0))] for c in cols}, index=mean.index)
txt = (f"ETTh1, injected VALIDATION series (choice made here, test untouched); {a.steps} Adam steps of batch {BS}, model {BASE}; "
       f"scores smooth 5, windows shown whole; mean ± sd over seeds {a.seeds}. Repair columns: mean squared error on the "
       f"injected cells of clean validation windows (teacher_err_changed vs input_err_changed: how much the teacher repairs) and "
       f"the teacher-student gap on the changed vs the other cells. Total {time.time() - t_all:.0f} s.\n\n" + md_table(tab.reset_index()))
write(a.name, dict(args=vars(a), rows=rows), txt, out=a.out)
