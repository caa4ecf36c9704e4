"""SD-MAE with an own residual student on ETTh1 with injected events: where does the student disagree with the teacher
when the reconstruction error does not? (issue 24, item 3)

Trains one model of the regime given by `--regime` (a name of bench/sd_mae_own_student.py, default the own residual
student whose teacher learns to repair pseudo-anomalies, with the longer student stage), scores the injected TEST series with the reconstruction error
and the discrepancy (windows shown whole, smoothed over 5 steps), both standardised on clean training data (median /
IQR, no labels), and draws: the two scores along the test series with the events shaded; the point AUC-ROC of each
score per injected kind; and, for the event where the discrepancy stands out most above the reconstruction (mean
standardised score over the event), one window: the input, the teacher and the student. Writes
nbs/images/sd_mae_own_student.png and a table (per-kind AUC-ROC, per-event standardised scores).

    nice -n 10 python bench/sd_mae_own_student_figure.py --steps 500
"""
import sys
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
from sklearn.metrics import roc_auc_score
from patchssl.anomaly import etth1_anomalies, standardize_scores, ANOMALY_KINDS
from patchssl.sd_mae import fit_sd_mae, sd_scores

p = parser(__doc__, seeds=1)
p.add_argument('--steps', type=int, default=500)
p.add_argument('--regime', default='own residual student, repairing teacher, whole window, longer stage 2')
a = parse(p)
import warnings; warnings.filterwarnings('ignore')
from sd_mae_common import BASE, OWN_REGIMES, L, BS, STRIDE, etth1_epochs   # the regimes of bench/sd_mae_own_student.py
REG = dict(OWN_REGIMES[a.regime])
factor = REG.pop('steps_factor', 1)
seed = a.seeds[0]
e = etth1_anomalies(seed=seed)
tr, ref = e.splits.train, e.splits.train[-1700:]
epochs = round(etth1_epochs(tr, a.steps) * factor)
m = fit_sd_mae(tr, epochs=epochs, seq_len=L, stride=STRIDE, bs=BS, seed=seed, **{**BASE, **REG}).model.eval()
sc, sr = sd_scores(m, e.test_x, ref, smooth=5)
z = {k: standardize_scores(sc[k], sr[k]) for k in ('reconstruction', 'discrepancy')}
y = e.test_y
kinds = []
for k in ANOMALY_KINDS:
    keep = y == 0
    for _, ev in e.test_events[e.test_events.kind == k].iterrows(): keep[ev.start:ev.end] = True
    if (y[keep] == 1).any(): kinds.append(dict(kind=k, **{s: roc_auc_score(y[keep], sc[s][keep]) for s in z}))
kinds.append(dict(kind='all', **{s: roc_auc_score(y, sc[s]) for s in z}))
kdf = pd.DataFrame(kinds)
ev = e.test_events.copy()
for s in z: ev[s] = [z[s][r.start:r.end].mean() for r in ev.itertuples()]
ev['discrepancy - reconstruction'] = ev.discrepancy - ev.reconstruction
best = ev.sort_values('discrepancy - reconstruction').iloc[-1]

fig = plt.figure(figsize=(12, 6.2), layout='constrained')
gs = fig.add_gridspec(2, 3, width_ratios=[2.2, 1, 1.2])
ax = fig.add_subplot(gs[0, :2])
for r in ev.itertuples(): ax.axvspan(r.start, r.end, color='C3', alpha=.2, lw=0)
ax.plot(z['reconstruction'], lw=.6, color='C0', label='reconstruction (z)')
ax.plot(z['discrepancy'], lw=.6, color='C1', label='discrepancy (z)')
ax.axvspan(best.start, best.end, color='C3', alpha=.45, lw=0)
ax.set_yscale('symlog'); ax.legend(fontsize=7, loc='upper left'); ax.tick_params(labelsize=7)
ax.set_xlabel('ETTh1 test step (red: injected events; dark: the window drawn below right)', fontsize=8)
ax.set_title('scores along the test series, standardised on clean training data', fontsize=9)
ax = fig.add_subplot(gs[0, 2])
xs = np.arange(len(kdf))
ax.bar(xs - .2, kdf.reconstruction, .4, color='C0', label='reconstruction'); ax.bar(xs + .2, kdf.discrepancy, .4, color='C1', label='discrepancy')
ax.set_xticks(xs, [k.replace('_', '\n') for k in kdf.kind], fontsize=7); ax.set_ylim(.3, 1); ax.axhline(.5, color='k', lw=.4, ls=':')
ax.set_title('point AUC-ROC per injected kind', fontsize=9); ax.legend(fontsize=7); ax.tick_params(labelsize=7)
ax = fig.add_subplot(gs[1, 0])
ax.bar(np.arange(len(ev)) - .2, ev.reconstruction, .4, color='C0', label='reconstruction')
ax.bar(np.arange(len(ev)) + .2, ev.discrepancy, .4, color='C1', label='discrepancy')
ax.set_xticks(np.arange(len(ev)), [f"{k.replace('_', ' ')}\n{s}" for k, s in zip(ev.kind, ev.start)], fontsize=6)
ax.set_yscale('symlog'); ax.set_title('mean standardised score over each event', fontsize=9); ax.legend(fontsize=7); ax.tick_params(labelsize=7)
w0 = int(np.clip((best.start + best.end) // 2 - L // 2, 0, len(e.test_x) - L))
win = torch.as_tensor(e.test_x[w0:w0 + L], dtype=torch.float32)[None]
with torch.no_grad(): t, s = (o[0].numpy() for o in m(win, torch.zeros_like(win, dtype=torch.bool)))
clean = e.splits.test[L:]                                                 # the test split before injection
v = int(np.argmax(np.abs(e.test_x[best.start:best.end] - clean[best.start:best.end]).mean(0)))   # the variable the event changed most
for col, (arr, nm) in zip((1, 2), (((win[0].numpy(), t, s), 'input, teacher, student'), ((t - win[0].numpy(), t - s), 'the two scores, unsmoothed'))):
    ax = fig.add_subplot(gs[1, col]); st = np.arange(w0, w0 + L)
    ax.axvspan(best.start, best.end, color='C3', alpha=.2, lw=0)
    if col == 1:
        ax.plot(st, arr[0][:, v], color='k', lw=1, label='input'); ax.plot(st, arr[1][:, v], color='C0', lw=1.1, label='teacher')
        ax.plot(st, arr[2][:, v], color='C1', lw=1.1, ls='--', label='student')
    else:
        ax.plot(st, arr[0][:, v], color='C0', lw=1, label='teacher - input (reconstruction error)')
        ax.plot(st, arr[1][:, v], color='C1', lw=1, label='teacher - student (discrepancy)')
        ax.axhline(0, color='k', lw=.4)
    ax.set_title(f"{best.kind.replace('_', ' ')} {best.start}-{best.end}, {e.columns[v]}: {nm}", fontsize=8); ax.legend(fontsize=6.5); ax.tick_params(labelsize=7)
fig.suptitle(f'SD-MAE, {a.regime} ({epochs} epochs, one training run): where the student disagrees and the reconstruction does not', fontsize=9)
out = Path(__file__).resolve().parents[1]/'nbs'/'images'/'sd_mae_own_student.png'
fig.savefig(out, dpi=100)
write(a.name, dict(args=vars(a), kinds=kinds, events=ev.to_dict('records'), window_start=w0, variable=e.columns[v], figure=out.name),
      f"ETTh1 injected test series, one model ({a.regime}, seed {seed}, {epochs} epochs of windows every {STRIDE} steps); scores of windows "
      f"shown whole, smoothed over 5 steps, standardised on clean training data. Figure nbs/images/{out.name}.\n\n"
      f"## Point AUC-ROC per injected kind (normal steps + the steps of that kind)\n\n" + md_table(kdf) +
      "\n\n## Mean standardised score over each event\n\n" + md_table(ev[['kind', 'start', 'end', 'reconstruction', 'discrepancy', 'discrepancy - reconstruction']]), out=a.out)
