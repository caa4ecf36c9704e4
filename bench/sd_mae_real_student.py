"""SD-MAE student regimes on the three real labelled series (UCR KDD-TSAD 135, MIT-BIH, Yahoo; offline), next to the same
MAE without a student and IsolationForest: VUS-PR (aeon, buffer 100) first, AUC-ROC and point-adjusted F1 beside it.

Regimes (`--regimes`): the joint schedule with the student on a stop-gradient latent (`detach_student`; the default, the regime
whose discrepancy was best on the ETTh1 validation series in bench/sd_mae_repair.py) and the repairing teacher of
bench/sd_mae_repair.py (two_stage_pseudo, 50% pseudo-anomalies, stage 1 = 85% of the epochs, `repair_weight=4`).
Scores (bench/sd_mae_views.py): discrepancy and reconstruction of windows shown whole, reconstruction with each block
hidden, the cross-view discrepancy, 'combined' (robust z-scores summed, the label-free default) and 'fused' with the
fusion given by `--fusion partner:method:weight`, chosen on the injected ETTh1 validation series by bench/sd_mae_repair.py
(these series have no labelled validation part, so nothing is chosen on them).

    nice -n 10 python bench/sd_mae_real_student.py --seeds 3 --steps 1400 --fusion discrepancy:rank:0.25
    nice -n 10 python bench/sd_mae_real_student.py --seeds 3 --steps 500 --regimes 'own residual student, repairing' --name sd_mae_real_own_student
    (run before the 'longer stage 2' regime was added, which the same --regimes now also selects)
    nice -n 10 python bench/sd_mae_real_student.py --seeds 3 --steps 500 --regimes 'longer stage 2' --name sd_mae_real_own_student_long
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.anomaly import isolation_forest_scores, anomaly_metrics, smooth_scores, quantile_threshold
from patchssl.sd_mae import fit_sd_mae, point_scores, fuse_scores
from sd_mae_views import all_scores
from sd_mae_common import REAL_SERIES, real_series

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=1400)
p.add_argument('--fusion', default='discrepancy:z:1', help="partner:method:weight of the 'fused' score (chosen on ETTh1 validation)")
p.add_argument('--datasets', nargs='*', default=list(REAL_SERIES), choices=REAL_SERIES)
p.add_argument('--regimes', nargs='*', default=['stop-gradient'], help='parts of the regime names to run')
a = parse(p)
partner, method, weight = a.fusion.split(':'); weight = float(weight)
import warnings; warnings.filterwarnings('ignore')
L, BS, SMOOTH = 100, 32, 5
BASE = dict(recipe='reference', d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
REGIMES = {'SD-MAE joint, stop-gradient student': dict(detach_student=True),
           'SD-MAE repairing teacher': dict(schedule='two_stage_pseudo', stage1=0.85, pseudo_frac=0.5, repair_weight=4.),
           # bench/sd_mae_own_student.py: the student with its own encoder, a residual output, the whole window, taught by the teacher only
           'SD-MAE own residual student': dict(student_encoder='own', n_student_enc_layers=1, schedule='two_stage', stage1=0.6,
                                               student_mask_ratio=0., student_residual=True),
           'SD-MAE own residual student, repairing teacher': dict(student_encoder='own', n_student_enc_layers=1, schedule='two_stage_pseudo',
                                                                  stage1=0.6, pseudo_frac=0.5, repair_weight=4., student_mask_ratio=0.,
                                                                  student_residual=True),
           # the same teacher, the student trained 2.5x longer (stage 1 = 37.5% of 1.6x the epochs): the best regime on the ETTh1
           # validation series in bench/sd_mae_own_student.py
           'SD-MAE own residual student, repairing teacher, longer stage 2': dict(
               student_encoder='own', n_student_enc_layers=1, schedule='two_stage_pseudo', stage1=0.375, pseudo_frac=0.5, repair_weight=4.,
               student_mask_ratio=0., student_residual=True, steps_factor=1.6)}
REGIMES = {k: v for k, v in REGIMES.items() if any(r in k for r in a.regimes)}

rows, t_all = [], time.time()
for name, tr, te, y in real_series(a.datasets):
    ref = tr[-max(L, int(len(tr) * .2)):]
    stride = 2 if len(tr) > 3000 else 1
    n_win = (len(tr) - max(L, int(len(tr) * .2)) - L) // stride + 1
    epochs = max(7, round(a.steps / max(1, -(-n_win // BS))))
    for seed in a.seeds:
        def add(model, score, s, s_ref):
            mt = anomaly_metrics(y, s, quantile_threshold(s_ref, .99), vus_buffer=100)
            rows.append(dict(dataset=name, seed=seed, model=model, score=score, vus_pr=mt['vus_pr'], auc_roc=mt['auc_roc'], pa_f1=mt.get('pa_f1')))
            print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
        for nm, kw in REGIMES.items():
            t0 = time.time()
            kw = dict(kw); ep = round(epochs * kw.pop('steps_factor', 1))
            m = fit_sd_mae(tr, epochs=ep, seq_len=L, stride=stride, bs=BS, seed=seed, **{**BASE, **kw}).model
            print(name, seed, nm, f'{ep} epochs, fit {time.time() - t0:.0f} s', flush=True)
            sc, sr = all_scores(m, te, ref, SMOOTH)
            for s in sc: add(nm, s, sc[s], sr[s])
            add(nm, 'combined', *fuse_scores(sc['reconstruction'], sc['discrepancy'], sr['reconstruction'], sr['discrepancy']))
            add(nm, f'fused ({a.fusion})', *fuse_scores(sc['reconstruction'], sc[partner], sr['reconstruction'], sr[partner], weight, method))
        m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=stride, bs=BS, seed=seed, use_student=False, **BASE).model
        add('MAE (no student)', 'reconstruction', *(smooth_scores(point_scores(m, s, 'reconstruction', masking='none'), SMOOTH) for s in (te, ref)))
        add('IsolationForest', 'windows', *(smooth_scores(isolation_forest_scores(tr, s, L, 1, seed=seed), SMOOTH) for s in (te, ref)))
df = pd.DataFrame(rows)
g = df.groupby(['dataset', 'model', 'score'], sort=False)[['vus_pr', 'auc_roc', 'pa_f1']]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({'vus_pr': [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean.vus_pr, sd.vus_pr)],
                    'auc_roc': [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean.auc_roc, sd.auc_roc)], 'pa_f1': mean.pa_f1.round(3).values},
                   index=mean.index).reset_index()
txt = (f"Real series, train = normal part (UCR 135) or first 30% (MIT-BIH, Yahoo; labels unused), test = the rest; about {a.steps} Adam "
       f"steps of batch {BS} (at least 7 epochs), model {BASE}; scores smoothed over {SMOOTH} steps; mean ± sd over seeds {a.seeds}. "
       f"VUS-PR is the main metric; pa_f1 (point-adjusted, inflates; threshold: 99% quantile of the same score on the held-out last 20% "
       f"of the training part, no labels) only beside it. 'fused': reconstruction + {weight:g} x {partner} ({method}), the fusion chosen "
       f"on the injected ETTh1 validation series. Total {time.time() - t_all:.0f} s.\n\n" + md_table(tab))
write(a.name, dict(args=vars(a), rows=rows), txt, out=a.out)
