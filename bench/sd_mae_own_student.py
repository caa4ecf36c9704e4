"""SD-MAE with a student that has its OWN encoder (issue 24): does a student that shares nothing with the teacher, and is
taught only by the teacher's output on clean windows, disagree with the teacher where the reconstruction does not?

ETTh1 with injected events. Every choice (fusion partner / method / weight) is made on the injected VALIDATION series;
the injected TEST series (its own events) is scored with it and reported beside it.

Regimes (training; the model of bench/sd_mae_repair.py, width 32, 2 encoder / 2 teacher layers, 1 student decoder layer):
* joint, shared encoder: the chapter's default (the student decodes the teacher's latent);
* own student, two-stage: the teacher (encoder + 2-layer decoder) is trained first; then it is frozen and the student
  (its own embedding, a 1-layer encoder, a 1-layer decoder, its own projector) learns only the frozen teacher's output
  (stop-gradient target, `student_weight=0`) on clean windows, seeing the teacher's mask (`student_mask_ratio=None`),
  the whole window (0) or a higher ratio (0.6: it must also fill in what it does not see, as the teacher does);
* own student, repairing teacher: the same, with pseudo-anomalies in stage 1 that only the teacher learns to repair
  (`two_stage_pseudo`, 50% of the windows, `repair_weight=4`); the student never sees a pseudo-anomaly or its repair.

Scores (bench/sd_mae_views.py, windows every 10 steps, smoothed over 5 steps): discrepancy and reconstruction of windows
shown whole, reconstruction with each block hidden, cross-view discrepancy, and the fusion chosen on validation.
Repair check on clean validation windows with one injected event each (`repair_check`): the discrepancy's
signal-to-noise (teacher - student on changed / other cells) beside the reconstruction's (teacher - input).

    nice -n 10 python bench/sd_mae_own_student.py --seeds 3 --steps 500
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from sd_mae_common import BS, STRIDE, SMOOTH, BASE, OWN, OWN_REPAIR as REPAIR, OWN_REGIMES as REGIMES, run_etth1_regimes

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--regimes', nargs='*', default=None, help='parts of the regime names to run (default all)')
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
regimes = {k: v for k, v in REGIMES.items() if a.regimes is None or any(r in k for r in a.regimes)}

t_all = time.time()
rows, fus, epochs = run_etth1_regimes(regimes, a.seeds, a.steps)
df = pd.DataFrame(rows)
cols = ['valid_auc', 'valid_vus', 'test_auc', 'test_vus']
g = df.groupby(['regime', 'score'], sort=False)[cols]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c])] for c in cols}, index=mean.index).reset_index()
rep = df.drop_duplicates(['regime', 'seed'])
rc_cols = ['fit_s', 'teacher_err_changed', 'input_err_changed', 'disc_snr', 'rec_snr']
rg = rep.groupby('regime', sort=False)[rc_cols]
rtab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(rg.mean()[c], rg.std().fillna(0)[c])] for c in rc_cols}, index=rg.mean().index).reset_index()
ftab = pd.DataFrame([{k: v for k, v in f.items() if k != 'grid'} for f in fus])
grid = pd.DataFrame([dict(g, regime=f['regime'], seed=f['seed']) for f in fus for g in f['grid']])
gtab = (grid.groupby(['regime', 'partner', 'method', 'weight'], sort=False).auc_roc.mean().unstack('weight')
        .sort_index(axis=1).rename(columns=lambda w: f'w={w:g}').round(3).reset_index())
txt = (f"ETTh1, injected events; choices on the VALIDATION series, the TEST series (other events) scored with them. {a.steps} Adam steps "
       f"of batch {BS} (windows every {STRIDE} steps, {epochs} epochs), model {BASE}; own-student regimes {OWN} (repairing teacher: "
       f"{ {k: v for k, v in REPAIR.items() if k not in OWN or OWN[k] != v} }); scores smoothed over {SMOOTH} steps; mean ± sd over seeds {a.seeds} "
       f"(model seed = injection seed). Total {time.time() - t_all:.0f} s.\n\n## Scores (point AUC-ROC, VUS-PR buffer 100)\n\n" + md_table(tab) +
       "\n\n## Repair check (clean validation windows, one injected event each)\n\n"
       "teacher_err_changed: mean squared teacher - clean window on the changed cells (input - clean: input_err_changed); disc_snr: "
       "teacher - student on the changed / on the other cells (the discrepancy's signal-to-noise); rec_snr: the same for teacher - input "
       "(the reconstruction's).\n\n" + md_table(rtab) + "\n\n## Fusion chosen on validation (per model)\n\n" + md_table(ftab) +
       "\n\n## The fusion grid on VALIDATION (point AUC-ROC, mean over seeds; weight 0 = reconstruction alone, inf = partner alone)\n\n" +
       md_table(gtab))
write(a.name, dict(args=vars(a), rows=rows, fusion=fus), txt, out=a.out)
