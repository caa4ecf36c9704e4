"""Can a fusion of the own-student SD-MAE's scores beat both of them on injected ETTh1? (issue 24, item 1: "the combined
score beats both")

For each seed (model seed = injection seed) and each input normalisation (`--norms`; `instance_norm` of `SDMAE`), one
model of `fit_sd_mae`'s default recipe ('own_student', the model of bench/sd_mae_own_student.py, 800 Adam steps) is
scored (bench/sd_mae_views.py: discrepancy, reconstruction, reconstruction with blocks hidden, cross-view discrepancy;
windows every 10 steps, smoothed over 5) on the injected VALIDATION series, on `--extra` more copies of the validation
split with other injected events (a larger validation set: 10 events each), on the injected TEST series and on clean
held-out training data (the scale of the z-scores). Each score also comes locally standardised
(`local_standardize_scores`, 500 past steps, the clean scores as history).

Every fusion of `fuse_scores` (z, rank, max, product; discrepancy weights 0 .. inf; partner discrepancy or cross-view)
is chosen on the validation series alone ('valid') or on the validation series and the extra copies ('valid+extra');
the test series is scored with the choice. The test AUC-ROC of every fusion is written too, for the figure only (never
to choose): it says whether ANY fusion would have beaten both scores. Raw scores of every model go to
bench/results/sd_mae_fusion_grid.npz for the chapter's figure.

    nice -n 10 python bench/sd_mae_fusion_grid.py --seeds 3 --threads 1
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table, RESULTS
from patchssl.anomaly import (etth1_anomalies, inject_anomalies, anomaly_metrics, local_standardize_scores)
from patchssl.sd_mae import fit_sd_mae, choose_fusion, fuse_scores, FUSIONS
from sd_mae_views import all_scores
from sd_mae_common import L, BS, STRIDE, SMOOTH, BASE, etth1_epochs

p = parser(__doc__, seeds=3)
p.add_argument('--steps', type=int, default=500, help='Adam steps of stage 1 / 0.375 (the recipe trains 1.6x as many)')
p.add_argument('--norms', nargs='*', default=['none', 'mean'])
p.add_argument('--extra', type=int, default=3, help='extra injected copies of the validation split')
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
MODEL = {**BASE, 'recipe': 'own_student'}          # BASE's sizes; the recipe's options (see SD_RECIPES)
PARTNERS = ('discrepancy', 'cross-view discrepancy')
WEIGHTS = (0., .25, .5, 1., 2., 4., 8., np.inf)
LOCAL_W = 500

def local(sc, hist):
    return {k: local_standardize_scores(v, LOCAL_W, history=hist[k]) for k, v in sc.items()}

def grid(sc, nr, y):
    return choose_fusion(sc, nr, y, weights=WEIGHTS, methods=FUSIONS, partners=PARTNERS)

rows, sel, tgrid, arrays, t_all = [], [], [], {}, time.time()
for seed in a.seeds:
    e = etth1_anomalies(seed=seed)
    tr, ref = e.splits.train, e.splits.train[-1700:]
    epochs = round(etth1_epochs(tr, a.steps) * 1.6)
    extra = [inject_anomalies(e.splits.valid[L:], 10, seed=1000 + 10 * seed + k)[:2] for k in range(a.extra)]
    for norm in a.norms:
        t0 = time.time()
        m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=STRIDE, bs=BS, seed=seed, instance_norm=norm, **MODEL).model
        fit_s = time.time() - t0
        (sv, sr), (st, _) = all_scores(m, e.valid_x, ref, SMOOTH), all_scores(m, e.test_x, ref, SMOOTH)
        sx = [all_scores(m, x, ref, SMOOTH)[0] for x, _ in extra]
        for k in sv:
            arrays[f'{seed}/{norm}/valid/{k}'], arrays[f'{seed}/{norm}/test/{k}'] = sv[k], st[k]
            arrays[f'{seed}/{norm}/normal/{k}'] = sr[k]
        arrays[f'{seed}/valid_y'], arrays[f'{seed}/test_y'] = e.valid_y, e.test_y
        arrays[f'{seed}/test_kind'] = np.array([next((ev.kind for ev in e.test_events.itertuples() if ev.start <= t < ev.end), '')
                                                for t in range(len(e.test_y))])
        yx = np.concatenate([e.valid_y] + [y for _, y in extra])
        for post in ('raw', 'local'):
            if post == 'raw': V, R, T, X = sv, sr, st, sx
            else:                                          # history: the clean held-out scores
                V, T, X = local(sv, sr), local(st, sr), [local(s, sr) for s in sx]
                R = {k: local_standardize_scores(v, LOCAL_W) for k, v in sr.items()}
            VX = {k: np.concatenate([V[k]] + [s[k] for s in X]) for k in V}
            base = dict(seed=seed, norm=norm, post=post, fit_s=fit_s)
            for k in V:
                mv, mt = anomaly_metrics(e.valid_y, V[k], vus_buffer=100), anomaly_metrics(e.test_y, T[k], vus_buffer=100)
                rows.append(dict(base, score=k, valid_auc=mv['auc_roc'], test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
            for vn, (vs, vy) in {'valid': (V, e.valid_y), 'valid+extra': (VX, yx)}.items():
                ch = grid(vs, R, vy)
                b = ch.iloc[0]
                f, _ = fuse_scores(T['reconstruction'], T[b.partner], R['reconstruction'], R[b.partner], b.weight, b.method)
                mt = anomaly_metrics(e.test_y, f, vus_buffer=100)
                rows.append(dict(base, score=f'fused (chosen on {vn})', valid_auc=b.auc_roc, test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
                sel.append(dict(base, chosen_on=vn, partner=b.partner, method=b.method, weight=float(b.weight), valid_auc=b.auc_roc))
                for g in ch.itertuples():
                    if vn == 'valid+extra':
                        ft, _ = fuse_scores(T['reconstruction'], T[g.partner], R['reconstruction'], R[g.partner], g.weight, g.method)
                        tgrid.append(dict(base, partner=g.partner, method=g.method, weight=g.weight, valid_extra_auc=g.auc_roc,
                                          test_auc=anomaly_metrics(e.test_y, ft, vus_buffer=None)['auc_roc']))
        print(seed, norm, f'fit {fit_s:.0f}s', [(r['post'], r['score'][:18], round(r['test_auc'], 3)) for r in rows[-14:]], flush=True)
Path(a.out or RESULTS).mkdir(parents=True, exist_ok=True)
np.savez_compressed(Path(a.out or RESULTS)/f'{a.name}.npz', **{k: (v.astype(np.float32) if v.dtype.kind == 'f' else v) for k, v in arrays.items()})
df, sdf, gdf = pd.DataFrame(rows), pd.DataFrame(sel), pd.DataFrame(tgrid)
g = df.groupby(['norm', 'post', 'score'], sort=False)[['valid_auc', 'test_auc', 'test_vus']]
mean, sd = g.mean(), g.std().fillna(0)
tab = pd.DataFrame({c: [f'{m:.3f} ± {v:.3f}' for m, v in zip(mean[c], sd[c])] for c in mean.columns}, index=mean.index).reset_index()
gg = (gdf.groupby(['norm', 'post', 'partner', 'method', 'weight'], sort=False)[['valid_extra_auc', 'test_auc']].mean().reset_index())
best_t = gg.sort_values('test_auc', ascending=False).groupby(['norm', 'post']).head(3)
corr = []
for (seed, norm) in {(r['seed'], r['norm']) for r in rows}:
    tk = arrays[f'{seed}/{norm}/test/reconstruction'], arrays[f'{seed}/{norm}/test/discrepancy']
    yv = arrays[f'{seed}/test_y']
    corr.append(dict(seed=seed, norm=norm, spearman_all=pd.Series(tk[0]).corr(pd.Series(tk[1]), 'spearman'),
                     spearman_anomalous=pd.Series(tk[0][yv == 1]).corr(pd.Series(tk[1][yv == 1]), 'spearman')))
ctab = pd.DataFrame(corr).sort_values(['norm', 'seed'])
txt = (f"ETTh1, injected events. Model: `fit_sd_mae` recipe 'own_student' with sizes { {k: v for k, v in BASE.items() if k != 'recipe'} }, {epochs} epochs (about "
       f"{round(a.steps * 1.6)} Adam steps of batch {BS}, windows every {STRIDE} steps); scores smoothed over {SMOOTH} steps; "
       f"'local': each score locally standardised over the {LOCAL_W} steps before (clean held-out scores as history). "
       f"Fusions (`fuse_scores` {FUSIONS}, weights {WEIGHTS}, partners {PARTNERS}) chosen on the validation series, or on it and "
       f"{a.extra} more injected copies of the validation split ({10 * (a.extra + 1)} events in all); mean ± sd over seeds "
       f"{a.seeds}. Total {time.time() - t_all:.0f} s.\n\n## Scores and the chosen fusions (point AUC-ROC; VUS-PR buffer 100)\n\n"
       + md_table(tab) + "\n\n## Fusions chosen (per model)\n\n" + md_table(sdf.drop(columns='fit_s').round(3)) +
       "\n\n## The three fusions with the best TEST AUC-ROC (mean over seeds; shown, never used to choose)\n\n" + md_table(best_t.round(3)) +
       "\n\n## Rank correlation of reconstruction and discrepancy on the test series\n\n" + md_table(ctab.round(3)))
write(a.name, dict(args=vars(a), rows=rows, selected=sel, test_grid=gg.to_dict('records'), corr=corr), txt, out=a.out)
