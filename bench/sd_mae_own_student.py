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
from patchssl.anomaly import etth1_anomalies, anomaly_metrics, series_windows
from patchssl.sd_mae import fit_sd_mae, repair_check, choose_fusion, fuse_scores
from sd_mae_views import all_scores

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--regimes', nargs='*', default=None, help='parts of the regime names to run (default all)')
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
L, BS, STRIDE, SMOOTH = 100, 32, 4, 5
BASE = dict(d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
OWN = dict(student_encoder='own', n_student_enc_layers=1, schedule='two_stage', stage1=0.6)
REPAIR = dict(OWN, schedule='two_stage_pseudo', pseudo_frac=0.5, repair_weight=4.)
REGIMES = {
    'joint, shared encoder (default)': dict(),
    'own student, teacher mask': dict(OWN),
    'own student, whole window': dict(OWN, student_mask_ratio=0.),
    'own student, mask 0.6': dict(OWN, student_mask_ratio=0.6),
    'own student, repairing teacher, whole window': dict(REPAIR, student_mask_ratio=0.),
    'own student, repairing teacher, mask 0.6': dict(REPAIR, student_mask_ratio=0.6),
    'own residual student, whole window': dict(OWN, student_mask_ratio=0., student_residual=True),
    'own residual student, repairing teacher, whole window': dict(REPAIR, student_mask_ratio=0., student_residual=True),
    # the same teacher (300 steps of stage 1), the student trained 2.5x longer (500 steps of stage 2): 800 steps in all
    'own residual student, repairing teacher, whole window, longer stage 2': dict(REPAIR, student_mask_ratio=0., student_residual=True,
                                                                                 stage1=0.375, steps_factor=1.6),
}
regimes = {k: v for k, v in REGIMES.items() if a.regimes is None or any(r in k for r in a.regimes)}

rows, fus, t_all = [], [], time.time()
for seed in a.seeds:
    e = etth1_anomalies(seed=seed)
    tr, ref = e.splits.train, e.splits.train[-1700:]
    n_win = (len(tr) - int(len(tr) * .2) - L) // STRIDE + 1
    epochs = max(3, round(a.steps / -(-n_win // BS)))
    rw = series_windows(e.splits.valid[L:], L, 20)[0]
    for nm, kw in regimes.items():
        t0 = time.time()
        kw = dict(kw); ep = round(epochs * kw.pop('steps_factor', 1))
        m = fit_sd_mae(tr, epochs=ep, seq_len=L, stride=STRIDE, bs=BS, seed=seed, **{**BASE, **kw}).model
        fit_s = time.time() - t0
        rc = repair_check(m, rw, seed=seed)
        base = dict(regime=nm, seed=seed, fit_s=fit_s, epochs=ep,
                    teacher_err_changed=rc.loc['teacher - clean', 'changed cells'], input_err_changed=rc.loc['input - clean', 'changed cells'],
                    disc_snr=rc.loc['teacher - student', 'changed cells'] / rc.loc['teacher - student', 'other cells'],
                    rec_snr=rc.loc['teacher - input', 'changed cells'] / rc.loc['teacher - input', 'other cells'])
        (sv, rv), (stt, _) = all_scores(m, e.valid_x, ref, SMOOTH), all_scores(m, e.test_x, ref, SMOOTH)
        for s in sv:
            mv, mt = anomaly_metrics(e.valid_y, sv[s], vus_buffer=100), anomaly_metrics(e.test_y, stt[s], vus_buffer=100)
            rows.append(dict(base, score=s, valid_auc=mv['auc_roc'], valid_vus=mv['vus_pr'], test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
        ch = choose_fusion(sv, rv, e.valid_y, partners=('discrepancy', 'cross-view discrepancy'))
        best = ch.iloc[0]
        ft, _ = fuse_scores(stt['reconstruction'], stt[best.partner], rv['reconstruction'], rv[best.partner], best.weight, best.method)
        fv, _ = fuse_scores(sv['reconstruction'], sv[best.partner], rv['reconstruction'], rv[best.partner], best.weight, best.method)
        mv, mt = anomaly_metrics(e.valid_y, fv, vus_buffer=100), anomaly_metrics(e.test_y, ft, vus_buffer=100)
        rows.append(dict(base, score='fused (chosen on validation)', valid_auc=mv['auc_roc'], valid_vus=mv['vus_pr'], test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
        fus.append(dict(regime=nm, seed=seed, partner=best.partner, method=best.method, weight=float(best.weight)))
        print(nm, seed, f'fit {fit_s:.0f}s', {r['score']: (round(r['valid_auc'], 3), round(r['test_auc'], 3)) for r in rows[-len(sv) - 1:]},
              'fusion', fus[-1]['partner'], fus[-1]['method'], fus[-1]['weight'], 'snr disc/rec', round(base['disc_snr'], 2),
              round(base['rec_snr'], 2), flush=True)
df = pd.DataFrame(rows)
cols = ['valid_auc', 'valid_vus', 'test_auc', 'test_vus']
g = df.groupby(['regime', 'score'], sort=False)[cols]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c])] for c in cols}, index=mean.index).reset_index()
rep = df.drop_duplicates(['regime', 'seed'])
rc_cols = ['fit_s', 'teacher_err_changed', 'input_err_changed', 'disc_snr', 'rec_snr']
rg = rep.groupby('regime', sort=False)[rc_cols]
rtab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(rg.mean()[c], rg.std().fillna(0)[c])] for c in rc_cols}, index=rg.mean().index).reset_index()
ftab = pd.DataFrame(fus)
txt = (f"ETTh1, injected events; choices on the VALIDATION series, the TEST series (other events) scored with them. {a.steps} Adam steps "
       f"of batch {BS} (windows every {STRIDE} steps, {epochs} epochs), model {BASE}; own-student regimes {OWN} (repairing teacher: "
       f"{ {k: v for k, v in REPAIR.items() if k not in OWN or OWN[k] != v} }); scores smoothed over {SMOOTH} steps; mean ± sd over seeds {a.seeds} "
       f"(model seed = injection seed). Total {time.time() - t_all:.0f} s.\n\n## Scores (point AUC-ROC, VUS-PR buffer 100)\n\n" + md_table(tab) +
       "\n\n## Repair check (clean validation windows, one injected event each)\n\n"
       "teacher_err_changed: mean squared teacher - clean window on the changed cells (input - clean: input_err_changed); disc_snr: "
       "teacher - student on the changed / on the other cells (the discrepancy's signal-to-noise); rec_snr: the same for teacher - input "
       "(the reconstruction's).\n\n" + md_table(rtab) + "\n\n## Fusion chosen on validation (per model)\n\n" + md_table(ftab))
write(a.name, dict(args=vars(a), rows=rows, fusion=fus), txt, out=a.out)
