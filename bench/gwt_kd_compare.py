"""Two-teacher distillation through a global workspace (chapter 05): every row of the comparison on three wearable-sensor
sets, mean ± std of test accuracy over seeds, student parameters and inference time against the teachers.

    nice -n 15 python bench/gwt_kd_compare.py --threads 1
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write, md_table
from patchssl.gwt_kd import gwt_data, data_pis, compare, ROWS, terms_frame, test_accuracy

p = argparse.ArgumentParser()
p.add_argument('--sets', default='BasicMotions,PickupGestureWiimoteZ,Daphnet')
p.add_argument('--seeds', type=int, default=3)
p.add_argument('--teacher-epochs', type=int, default=30)
p.add_argument('--epochs', type=int, default=30)
p.add_argument('--lam', type=float, default=0.99, help='weight of distillation against cross-entropy (chosen on validation: bench/gwt_kd_tune.py)')
p.add_argument('--T', type=float, default=4., help='distillation temperature')
p.add_argument('--lr', type=float, default=3e-3)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--name', default='gwt_kd_compare')
p.add_argument('--cache', default='/tmp/patchssl_pi_cache', help='folder caching the persistence images')
a = p.parse_args()
torch.set_num_threads(a.threads)
cache = Path(a.cache)
recs, cs, t_start = [], [], time.time()
for name in a.sets.split(','):
    data = gwt_data(name)  # the validation part is fixed (seed 0) for every seed below
    t0 = time.time(); pis = data_pis(data, cache_dir=cache); pi_s = (time.time() - t0)
    for seed in range(a.seeds):
        t0 = time.time()
        df, learners, (tp, ts) = compare(data, pis, seed=seed, teacher_epochs=a.teacher_epochs, student_epochs=a.epochs, lr=a.lr, lam=a.lam, T=a.T)
        df['set'], df['seed'] = name, seed
        df['kept_epoch'] = [None, None] + [l.best_epoch.kept for l in learners.values()]
        df['val_acc'] = [test_accuracy(tp, pis['valid'], data.y_valid), test_accuracy(ts, data.X_valid, data.y_valid)] + \
                        [l.best_epoch.acc for l in learners.values()]
        recs.append(df)
        tf = terms_frame(learners['gwt']); tf['set'], tf['seed'] = name, seed; cs.append(tf)
        print(f"{name} seed {seed}: {time.time() - t0:.0f} s", dict(zip(df.row, df.acc.round(3))), flush=True)
res = pd.concat(recs)
order = ['teacher_pi', 'teacher_sig', *ROWS]
g = res.groupby(['row', 'set']).acc.agg(['mean', 'std']).reset_index()
tab = g.assign(v=lambda d: d['mean'].map('{:.3f}'.format) + ' ± ' + d['std'].map('{:.3f}'.format)).pivot(index='row', columns='set', values='v')
tab = tab.reindex(order)[[s for s in a.sets.split(',')]].reset_index()
from patchssl.gwt_kd import ROW_TEXT
tab.insert(1, 'method', [{'teacher_pi': 'teacher on persistence images', 'teacher_sig': 'teacher on raw series', **ROW_TEXT}[r] for r in tab.row])
gv = res.groupby(['row', 'set']).val_acc.mean().unstack('set').reindex(order)[[s for s in a.sets.split(',')]].round(3).reset_index()
wins = []  # the goal, per set and per seed: does the workspace row beat the student alone and the fixed-weight baseline?
for (sname, seed), d in res.groupby(['set', 'seed']):
    acc = d.set_index('row').acc
    wins.append(dict(set=sname, seed=seed, gwt=acc['gwt'], student=acc['student'], kd_fixed=acc['kd_fixed'],
                     beats_student=bool(acc['gwt'] > acc['student']), beats_kd_fixed=bool(acc['gwt'] > acc['kd_fixed'])))
wins = pd.DataFrame(wins)
cost = res.groupby(['set', 'row'])[['params', 's_per_sample', 'pi_s_per_sample']].median().reset_index()
cost = cost[cost.row.isin(['teacher_pi', 'teacher_sig', 'student', 'gwt'])]
cost['ms_per_sample'] = (cost.s_per_sample * 1e3).round(4); cost['pi_ms_per_sample'] = (cost.pi_s_per_sample * 1e3).round(3)
cost['params'] = cost.params.astype(int)
cost = cost[['set', 'row', 'params', 'ms_per_sample', 'pi_ms_per_sample']]
call = pd.concat(cs)
cmean = call.groupby(['set', 'epoch']).c.mean().unstack(0)
md = (f"Test accuracy, mean ± std over {a.seeds} seeds (same fixed validation part for every seed; each model keeps its best "
      f"validation epoch). Teachers {a.teacher_epochs} epochs, students {a.epochs} epochs, lr {a.lr:g}, lam {a.lam:g}, T {a.T:g}, CPU, {a.threads} thread(s); total "
      f"{(time.time() - t_start) / 60:.1f} min.\n\n" + md_table(tab) +
      "\n\nValidation accuracy of the kept epoch (teachers: of the kept model), mean over seeds:\n\n" + md_table(gv) +
      "\n\nTest accuracy per seed of the three rows the goal compares:\n\n" + md_table(wins) +
      "\n\nParameters used at test time and inference time per sample (median over seeds; `pi_ms_per_sample` = computing the "
      "persistence images the PI teacher needs; the students need none):\n\n" + md_table(cost) +
      "\n\nMean of c = d1/(d1+d2) per epoch of the workspace row (first, middle, last epoch):\n\n" +
      md_table(cmean.iloc[[0, len(cmean) // 2, -1]].reset_index().round(3)))
write(a.name, dict(args=vars(a), rows=res.to_dict('records'), c_per_epoch=cmean.reset_index().to_dict('records')), md)
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 3))
for s in cmean.columns: ax.plot(cmean.index, cmean[s], 'o-', ms=3, label=s)
ax.set(xlabel='epoch', ylabel='mean c (weight of the PI teacher)', title=f'c over training, workspace row, mean of {a.seeds} seeds'); ax.legend()
fig.tight_layout(); fig.savefig(Path(__file__).resolve().parents[1] / 'nbs' / 'images' / 'gwt_kd_c.png', dpi=90)
