"""SD-MAE on the three real labelled series (UCR KDD-TSAD 135, MIT-BIH, Yahoo; offline) with one rule for all three and
nothing chosen on their labels (issue 24, item 1: the combined score must beat IsolationForest and the reconstruction on
at least 2 of 3).

Split as bench/sd_mae_real_student.py: train = the normal part (UCR 135) or the first 30% (MIT-BIH, Yahoo; labels unused),
z-scored with its statistics; test = the rest; the last 20% of the training part (at least one window) is held out: the
model does not train on it. For each series, seed and input normalisation (`--norms`, `SDMAE(instance_norm=...)`), one
model of `fit_sd_mae`'s default recipe ('own_student', the model of bench/sd_mae_own_student.py, about 800 Adam steps,
at least 7 epochs) is trained and scored (bench/sd_mae_views.py, smoothed over 5 steps). The combined score is chosen
WITHOUT any label of the series:

* 'fused (k injected copies)': `choose_fusion_injected` on k copies (`--copies`, 5 and 20) of the held-out part with
  injected events (partner discrepancy or cross-view discrepancy, every method and weight of `fuse_scores`);
* 'fused (ETTh1 validation)': the fusion `--fusion` chosen on the injected ETTh1 validation series.

Each comes raw and locally standardised ('local': `local_standardize_scores`, the 500 steps before, the held-out scores
as history). The rule fixed before the run: instance_norm 'mean', the fusion chosen on 5 injected copies, raw scores
(`--rule`; 20 copies were added after a first model without instance normalisation showed how few events 5 copies give).
The same model without instance normalisation is bench/results/sd_mae_real_own_student_fused.md (`--norms none mean`
runs both). IsolationForest (windows of 100) is the baseline; VUS-PR (aeon, buffer 100) first, AUC-ROC beside it.

    nice -n 10 python bench/sd_mae_real_norm.py --seeds 3 --threads 1
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.anomaly import (isolation_forest_scores, anomaly_metrics, smooth_scores, local_standardize_scores,
                              quantile_threshold)
from patchssl.sd_mae import fit_sd_mae, fuse_scores, choose_fusion_injected, FUSIONS
from sd_mae_views import all_scores
from sd_mae_common import L, BS, SMOOTH, BASE, REAL_SERIES, real_series

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500, help='Adam steps before the recipe\'s 1.6x')
p.add_argument('--norms', nargs='*', default=['mean'])
p.add_argument('--copies', nargs='*', type=int, default=[5, 20], help='injected copies of the held-out part to choose on')
p.add_argument('--fusion', default='discrepancy:z:inf', help='partner:method:weight chosen on the ETTh1 validation series')
p.add_argument('--datasets', nargs='*', default=list(REAL_SERIES), choices=REAL_SERIES)
p.add_argument('--rule', default='mean/raw/fused (5 injected copies)', help='norm/post/score: the rule fixed before the run')
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
MODEL = {**BASE, 'recipe': 'own_student'}
PARTNERS = ('discrepancy', 'cross-view discrepancy')
LOCAL_W = 500
e_partner, e_method, e_weight = a.fusion.split(':'); e_weight = float(e_weight)

rows, chosen, t_all = [], [], time.time()
for name, tr, te, y in real_series(a.datasets):
    ref = tr[-max(L, int(len(tr) * .2)):]
    stride = 2 if len(tr) > 3000 else 1
    n_win = (len(tr) - len(ref) - L) // stride + 1
    epochs = round(max(7, round(a.steps / max(1, -(-n_win // BS)))) * 1.6)
    for seed in a.seeds:
        def add(model, post, score, s, s_ref):
            mt = anomaly_metrics(y, s, quantile_threshold(s_ref, .99), vus_buffer=100)
            rows.append(dict(dataset=name, seed=seed, model=model, post=post, score=score, vus_pr=mt['vus_pr'],
                             auc_roc=mt['auc_roc'], pa_f1=mt.get('pa_f1')))
        for norm in a.norms:
            t0 = time.time()
            m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=stride, bs=BS, seed=seed, instance_norm=norm, **MODEL).model
            fit_s = time.time() - t0
            sc, sr = all_scores(m, te, ref, SMOOTH)
            fn = lambda s: all_scores(m, s, ref, SMOOTH)[0]
            best = {}
            for nc in a.copies:
                b = best[nc] = choose_fusion_injected(m, ref, fn, n_copies=nc, seed=seed, partners=PARTNERS).iloc[0]
                chosen.append(dict(dataset=name, seed=seed, norm=norm, copies=nc, partner=b.partner, method=b.method,
                                   weight=float(b.weight), injected_auc=b.auc_roc, fit_s=fit_s))
            for post in ('raw', 'local'):
                if post == 'raw': S, R = sc, sr
                else: S, R = {k: local_standardize_scores(v, LOCAL_W, history=sr[k]) for k, v in sc.items()}, \
                             {k: local_standardize_scores(v, LOCAL_W) for k, v in sr.items()}
                for k in S: add(f'SD-MAE {norm}', post, k, S[k], R[k])
                for nc, b in best.items():
                    add(f'SD-MAE {norm}', post, f'fused ({nc} injected copies)',
                        *fuse_scores(S['reconstruction'], S[b.partner], R['reconstruction'], R[b.partner], b.weight, b.method))
                add(f'SD-MAE {norm}', post, 'fused (ETTh1 validation)',
                    *fuse_scores(S['reconstruction'], S[e_partner], R['reconstruction'], R[e_partner], e_weight, e_method))
            print(name, seed, norm, f'{epochs} epochs, fit {fit_s:.0f} s', 'chosen', chosen[-len(best):], [(r['post'], r['score'][:14], round(r['vus_pr'], 3)) for r in rows[-12:]], flush=True)
        itr, iref = (smooth_scores(isolation_forest_scores(tr, s, L, 1, seed=seed), SMOOTH) for s in (te, ref))
        add('IsolationForest', 'raw', 'windows', itr, iref)
        add('IsolationForest', 'local', 'windows', local_standardize_scores(itr, LOCAL_W, history=iref),
            local_standardize_scores(iref, LOCAL_W))
df, cdf = pd.DataFrame(rows), pd.DataFrame(chosen)
g = df.groupby(['dataset', 'model', 'post', 'score'], sort=False)[['vus_pr', 'auc_roc', 'pa_f1']]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({'vus_pr': [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean.vus_pr, sd.vus_pr)],
                    'auc_roc': [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean.auc_roc, sd.auc_roc)], 'pa_f1': mean.pa_f1.round(3).values},
                   index=mean.index).reset_index()
# the goal, per series: the rule's score against IsolationForest (raw) and the same model's reconstruction (raw and local)
rn, rp, rs = a.rule.split('/')
goal = []
for ds, d in df.groupby('dataset', sort=False):
    mv = d.groupby(['model', 'post', 'score']).vus_pr.mean()
    c, ifo = mv[(f'SD-MAE {rn}', rp, rs)], mv[('IsolationForest', 'raw', 'windows')]
    rec = mv[(f'SD-MAE {rn}', rp, 'reconstruction')]
    goal.append(dict(dataset=ds, rule=a.rule, combined_vus=c, iforest_vus=ifo, reconstruction_vus=rec, beats_both=bool(c > ifo and c > rec)))
gdf = pd.DataFrame(goal)
txt = (f"Real series; model `fit_sd_mae` recipe 'own_student' with sizes { {k: v for k, v in BASE.items() if k != 'recipe'} }, about {round(a.steps * 1.6)} Adam steps of "
       f"batch {BS} (at least 7 epochs before the 1.6x); scores smoothed over {SMOOTH} steps; mean ± sd over seeds {a.seeds}. "
       f"'SD-MAE none' / 'SD-MAE mean': `instance_norm`. 'fused (k injected copies)': chosen by `choose_fusion_injected` on k "
       f"(= {a.copies}) copies of the held-out part (partners {PARTNERS}, methods {FUSIONS}); 'fused (ETTh1 validation)': {a.fusion}. "
       f"'local': `local_standardize_scores` over {LOCAL_W} past steps. pa_f1 (point-adjusted, inflates; threshold: 99% "
       f"quantile on the held-out part) only beside VUS-PR. Total {time.time() - t_all:.0f} s.\n\n"
       f"## The goal, with the rule fixed before the run ({a.rule}; VUS-PR, mean over seeds)\n\n" + md_table(gdf.round(3)) +
       "\n\n## Every score\n\n" + md_table(tab) + "\n\n## Fusion chosen on the injected copies (per model)\n\n" + md_table(cdf.round(3)))
write(a.name, dict(args=vars(a), rows=rows, chosen=chosen, goal=goal), txt, out=a.out)
