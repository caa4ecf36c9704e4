"""SD-MAE: why the student adds nothing, measured along training (issue 24). ETTh1 with injected events, VALIDATION series only.

For each regime and seed, one model trained for `--steps` Adam steps is checked after every `--every` epochs:
* the repair check on clean validation windows with one injected event each (`repair_check`): the teacher against the
  clean window on the changed cells with the event shown (does it repair?) and hidden (the most the context allows),
  and the teacher-student gap on changed / other cells (the discrepancy's signal-to-noise), next to the reconstruction
  error's own signal-to-noise (teacher - input on changed cells / teacher - clean on the others);
* point AUC-ROC of the discrepancy and the reconstruction on the injected validation series (smooth 5, shown whole).

    nice -n 10 python bench/sd_mae_curve.py --seeds 3 --steps 1400
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from fastai.callback.core import Callback
from patchssl.anomaly import etth1_anomalies, anomaly_metrics, series_windows
from patchssl.sd_mae import fit_sd_mae, sd_scores, repair_check

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=1400)
p.add_argument('--checks', type=int, default=5, help='checks along training (evenly over the epochs)')
p.add_argument('--regimes', nargs='*', default=None)
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
L, BS, STRIDE = 100, 32, 4
BASE = dict(recipe='reference', d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
REGIMES = {'joint, stop-gradient student': dict(detach_student=True),
           'repairing teacher': dict(schedule='two_stage_pseudo', stage1=0.85, pseudo_frac=0.5, repair_weight=4.)}
regimes = {k: v for k, v in REGIMES.items() if a.regimes is None or any(r in k for r in a.regimes)}

class Check(Callback):
    "Repair check and validation AUC-ROC after chosen epochs."
    order = 200
    def __init__(self, at, fn): self.at, self.fn = set(at), fn
    def after_epoch(self):
        if self.epoch + 1 in self.at: self.fn(self.learn.model, self.epoch + 1, self.iter + 1)

rows, t_all = [], time.time()
for seed in a.seeds:
    e = etth1_anomalies(seed=seed)
    tr, ref = e.splits.train, e.splits.train[-1700:]
    n_batches = -(-((len(tr) - int(len(tr) * .2) - L) // STRIDE + 1) // BS)
    epochs = max(3, round(a.steps / n_batches))
    at = sorted({max(1, round(epochs * (k + 1) / a.checks)) for k in range(a.checks)})
    rw = series_windows(e.splits.valid[L:], L, 20)[0]
    for nm, kw in regimes.items():
        t0 = time.time()
        def check(m, ep, _):
            rc = repair_check(m, rw, seed=seed)
            sc, _ = sd_scores(m, e.valid_x, ref, smooth=5)
            r = dict(regime=nm, seed=seed, epoch=ep, steps=ep * n_batches, elapsed_s=time.time() - t0,
                     input_changed=rc.loc['input - clean', 'changed cells'], teacher_changed=rc.loc['teacher - clean', 'changed cells'],
                     teacher_hidden_changed=rc.loc['teacher, event hidden - clean', 'changed cells'],
                     teacher_other=rc.loc['teacher - clean', 'other cells'], teacher_input_changed=rc.loc['teacher - input', 'changed cells'],
                     gap_changed=rc.loc['teacher - student', 'changed cells'], gap_other=rc.loc['teacher - student', 'other cells'],
                     **{f'{s}_auc': anomaly_metrics(e.valid_y, sc[s], vus_buffer=None)['auc_roc'] for s in ('discrepancy', 'reconstruction', 'combined')})
            r['rec_snr'], r['disc_snr'] = r['teacher_input_changed'] / r['teacher_other'], r['gap_changed'] / r['gap_other']
            rows.append(r); print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
        m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=STRIDE, bs=BS, seed=seed, cbs=[Check(at, check)], **{**BASE, **kw})
df = pd.DataFrame(rows)
cols = ['teacher_changed', 'teacher_hidden_changed', 'input_changed', 'rec_snr', 'disc_snr', 'discrepancy_auc', 'reconstruction_auc', 'combined_auc']
g = df.groupby(['regime', 'steps'], sort=False)[cols]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c])] for c in cols}, index=mean.index).reset_index()
txt = (f"ETTh1, injected VALIDATION series and clean validation windows (one injected event each, magnitude 3); {a.steps} Adam steps of batch "
       f"{BS} (windows every {STRIDE} steps), model {BASE}; mean ± sd over seeds {a.seeds}. teacher_changed / teacher_hidden_changed / "
       f"input_changed: mean squared error against the clean window on the changed cells, event shown / event hidden / the input itself. "
       f"rec_snr: (teacher - input on changed cells) / (teacher - clean on other cells), the reconstruction error's signal-to-noise; "
       f"disc_snr: (teacher - student on changed cells) / (on other cells), the discrepancy's. AUC-ROC: point, smooth 5, windows shown whole. "
       f"Total {time.time() - t_all:.0f} s.\n\n" + md_table(tab))
write(a.name, dict(args=vars(a), rows=rows), txt, out=a.out)
