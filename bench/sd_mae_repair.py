"""SD-MAE: a teacher that repairs, a student with another view, and score fusion chosen on validation (issue 24).

ETTh1 with injected events. Every choice (regime, score, fusion partner / method / weight) is made on the injected
VALIDATION series; the injected TEST series (its own events) is scored with the choices and reported beside it.

Regimes (training):
* joint, student on a stop-gradient latent (the best joint regime of bench/sd_mae_student.py);
* two_stage_pseudo 0.25 (its best regime: teacher first with 25% pseudo-anomalies, then the student);
* repairing teacher: two_stage_pseudo with 50% pseudo-anomalies, a longer stage 1 (85% of the epochs) and an extra
  teacher loss on the cells the pseudo-anomaly changed (`repair_weight`), so the teacher is taught to give back the
  clean window there;
* the same at mask ratio 0.5.

Scores of each trained model (windows every 10 steps, smoothed over 5 steps):
* discrepancy / reconstruction: windows shown whole (`sd_scores`);
* reconstruction, blocks: each block of 10 steps hidden in turn, error on the hidden block (`masking='blocks'`);
* cross-view discrepancy: the teacher on the window shown whole against the student with the block hidden (the student
  predicts from the context only, the teacher sees the values);
* fused: reconstruction + w x (discrepancy or cross-view), robust z-scores or ranks, chosen on validation (`choose_fusion`).
Repair check on clean validation windows with one injected event each (`repair_check`).

    nice -n 10 python bench/sd_mae_repair.py --seeds 3 --steps 500
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from sd_mae_common import BS, STRIDE, SMOOTH, BASE, run_etth1_regimes

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--regimes', nargs='*', default=None)
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
REPAIR = dict(schedule='two_stage_pseudo', stage1=0.85, pseudo_frac=0.5, repair_weight=4.)
REGIMES = {
    'joint, stop-gradient student': dict(detach_student=True),
    'two_stage_pseudo 0.25': dict(schedule='two_stage_pseudo', stage1=0.7, pseudo_frac=0.25),
    'repairing teacher': REPAIR,
    'repairing teacher, mask 0.5': {**REPAIR, 'mask_ratio': 0.5},
}
regimes = {k: v for k, v in REGIMES.items() if a.regimes is None or any(r in k for r in a.regimes)}

t_all = time.time()
rows, fus, _ = run_etth1_regimes(regimes, a.seeds, a.steps)
df = pd.DataFrame(rows)
cols = ['valid_auc', 'valid_vus', 'test_auc', 'test_vus']
g = df.groupby(['regime', 'score'], sort=False)[cols]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c])] for c in cols}, index=mean.index).reset_index()
rep = df.drop_duplicates(['regime', 'seed']).assign(gap_ratio=lambda d: d.gap_changed / d.gap_other)
rc_cols = ['fit_s', 'teacher_err_changed', 'input_err_changed', 'gap_changed', 'gap_other', 'gap_ratio']
rg = rep.groupby('regime', sort=False)[rc_cols]
rtab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(rg.mean()[c], rg.std().fillna(0)[c])] for c in rc_cols}, index=rg.mean().index).reset_index()
ftab = pd.DataFrame([{k: v for k, v in f.items() if k != 'grid'} for f in fus])
txt = (f"ETTh1, injected events; choices on the VALIDATION series, the TEST series (other events) scored with them. {a.steps} Adam steps "
       f"of batch {BS} (windows every {STRIDE} steps), model {BASE}; scores smoothed over {SMOOTH} steps; mean ± sd over seeds {a.seeds} "
       f"(model seed = injection seed). Total {time.time() - t_all:.0f} s.\n\n## Scores (point AUC-ROC, VUS-PR buffer 100)\n\n" + md_table(tab) +
       "\n\n## Repair check (clean validation windows, one injected event each; mean squared differences)\n\n"
       "teacher_err_changed: teacher vs clean window on the changed cells (input vs clean: input_err_changed); gap: teacher vs student "
       "on the changed / other cells, gap_ratio = their ratio (the discrepancy's signal-to-noise).\n\n" + md_table(rtab) +
       "\n\n## Fusion chosen on validation (per model)\n\n" + md_table(ftab))
write(a.name, dict(args=vars(a), rows=rows, fusion=fus), txt, out=a.out)
