"""Two-teacher distillation through a global workspace (chapter 05): every row of the comparison on three wearable-sensor
sets, mean ± std of test accuracy over seeds, a paired per-seed comparison of the rows the goal compares, student
parameters and inference time against the teachers.

    nice -n 10 python bench/gwt_kd_compare.py --threads 1

Default settings, chosen on the fixed validation parts only (`bench/results/gwt_kd_tune.md`, test splits not read), by
this rule: one setting shared by every distillation row (the fixed-weight baseline is the lab's earlier code with the
same loss and schedule, so it gets the same lam, T, lr and epochs); lr 3e-3, because the teachers and the student alone
are trained at the same lr and the student alone is much worse at 1e-3 (mean val_last5 0.800 against 0.870); among the
settings at that lr, the one whose workspace row has the highest mean over the three sets of `val_last5` (validation
accuracy averaged over the last 5 epochs and 2 seeds; `val_best`, the accuracy of the kept epoch, ties at 0.883 for three
settings): lam 0.9, T 2 (0.863). Only PickupGestureWiimoteZ discriminates (the validation parts of BasicMotions and of
the earlier 2 s Daphnet task saturate) and its validation part has 10 series, so the choice is weak evidence.

The row `gwt` is the workspace with `logits='memory'` (the head reads the memory slots in training, as at test time),
chosen on validation among three fixes of a train/test mismatch (`bench/results/gwt_kd_fix.md`); `gwt_slots` is the
first reading (the head reads this sample's teacher slots in training). The Daphnet task is `DAPHNET_TASK` (0.5 s windows
of the vertical axis), chosen on the student alone's validation accuracy (`bench/results/gwt_kd_daphnet.md`).

Results are written after every (set, seed), so an interrupted run leaves the finished part in `bench/results/`.
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.gwt_kd import gwt_data, data_pis, compare, ROWS, ROW_TEXT, terms_frame, DAPHNET_TASK
from patchssl.evaluate import test_accuracy, mean_sd, paired_diff

p = parser(__doc__, name='gwt_kd_compare', seeds='3')  # --threads, --seeds (a count, list or range), --name, --quick, --out
p.add_argument('--sets', default='BasicMotions,PickupGestureWiimoteZ,Daphnet')
p.add_argument('--rows', default=','.join(ROWS), help=f"student rows, comma-separated, from {', '.join(ROWS)} (student, kd_fixed and gwt are needed)")
p.add_argument('--teacher-epochs', type=int, default=30)
p.add_argument('--epochs', type=int, default=30)
p.add_argument('--lam', type=float, default=0.9, help='weight of distillation against cross-entropy (chosen on validation: see the docstring)')
p.add_argument('--T', type=float, default=2., help='distillation temperature (chosen on validation)')
p.add_argument('--lr', type=float, default=3e-3, help='peak learning rate of teachers and students')
p.add_argument('--cache', default='/tmp/patchssl_pi_cache', help='folder caching the persistence images')
p.add_argument('--no-figure', action='store_true', help='do not write nbs/images/gwt_kd_c.png')
a = parse(p)
if a.quick: a.teacher_epochs, a.epochs, a.seeds = 2, 2, a.seeds[:1]
SETS = a.sets.split(',')
RUN_ROWS = a.rows.split(',')
if not {'student', 'kd_fixed', 'gwt'} <= set(RUN_ROWS) or set(RUN_ROWS) - set(ROWS): raise SystemExit(f"--rows {a.rows}: rows from {list(ROWS)}, with student, kd_fixed and gwt")
ORDER = ['teacher_pi', 'teacher_sig', *RUN_ROWS]

def paired(res:pd.DataFrame)->tuple:
    "Per (set, seed) the goal's rows side by side, and per set the paired differences gwt - student and gwt - kd_fixed."
    wins = []
    for (sname, seed), d in res.groupby(['set', 'seed']):
        acc = d.set_index('row').acc
        wins.append(dict(set=sname, seed=seed, gwt=acc['gwt'], student=acc['student'], kd_fixed=acc['kd_fixed'],
                         gwt_minus_student=acc['gwt'] - acc['student'], gwt_minus_kd_fixed=acc['gwt'] - acc['kd_fixed']))
    wins = pd.DataFrame(wins)
    summ = []
    for sname, d in wins.groupby('set', sort=False):
        n_test = int(res[res.set == sname].n_test.iloc[0])
        r = dict(set=sname, seeds=len(d), one_test_series=1 / n_test)
        for other in ('student', 'kd_fixed'):
            pd_ = paired_diff(d.gwt, d[other])
            r[f'vs {other}: mean diff ± std'], r[f'vs {other}: W/T/L'] = pd_['mean diff ± sd'], pd_['W/T/L']
        m = res[res.set == sname].groupby('row').acc.mean()
        r['goal met (means)'] = bool(m['gwt'] > m['student'] and m['gwt'] > m['kd_fixed'])
        summ.append(r)
    return wins, pd.DataFrame(summ)

def report(recs:list, cs:list, done:bool):
    res = pd.concat(recs)
    sets = [s for s in SETS if s in set(res.set)]
    tab = mean_sd(res, 'acc', by='row', columns='set').set_index('row').reindex(ORDER)[sets].reset_index()
    tab.insert(1, 'method', [{'teacher_pi': 'teacher on persistence images', 'teacher_sig': 'teacher on raw series', **ROW_TEXT}[r] for r in tab.row])
    gv = res.groupby(['row', 'set']).val_acc.mean().unstack('set').reindex(ORDER)[sets].round(3).reset_index()
    wins, summ = paired(res)
    n_met = int(summ['goal met (means)'].sum())
    cost = res.groupby(['set', 'row'])[['params', 's_per_sample', 'pi_s_per_sample']].median().reset_index()
    cost = cost[cost.row.isin(['teacher_pi', 'teacher_sig', 'student', 'gwt'])].copy()
    cost['ms_per_sample'] = (cost.s_per_sample * 1e3).round(4); cost['pi_ms_per_sample'] = (cost.pi_s_per_sample * 1e3).round(3)
    cost['params'] = cost.params.astype(int)
    cost = cost[['set', 'row', 'params', 'ms_per_sample', 'pi_ms_per_sample']]
    call = pd.concat(cs)
    cmean = call.groupby(['set', 'epoch']).c.mean().unstack(0)
    seeds_done = res.groupby('set').seed.nunique().to_dict()
    head = ("" if done else f"**Partial (run interrupted or still running): seeds finished per set {seeds_done}.**\n\n")
    md = (head + f"Test accuracy, mean ± std over {len(a.seeds)} seeds (same fixed validation part for every seed; each model keeps its best "
          f"validation epoch). Teachers {a.teacher_epochs} epochs, students {a.epochs} epochs, lr {a.lr:g}, lam {a.lam:g}, T {a.T:g}, "
          f"persistence images normalised per channel, Daphnet task {DAPHNET_TASK}, CPU, {a.threads} thread(s); total {(time.time() - t_start) / 60:.1f} min.\n\n" + md_table(tab) +
          "\n\nValidation accuracy of the kept epoch (teachers: of the kept model), mean over seeds:\n\n" + md_table(gv) +
          "\n\nTest accuracy per seed of the three rows the goal compares (same seed = same teachers, same split, same student "
          "initialisation):\n\n" + md_table(wins) +
          "\n\nPaired per-seed differences of the workspace row (mean ± std over seeds; W/T/L = seeds where it wins/ties/loses; "
          "`one_test_series` = the accuracy of one test series):\n\n" + md_table(summ) +
          f"\n\nGoal (workspace mean above both the student alone and the fixed-weight baseline on >= 2 of {len(sets)} sets): "
          f"met on {n_met} set(s): **{'met' if n_met >= 2 else 'not met'}**.\n\n"
          "Parameters used at test time and inference time per sample (median over seeds; `pi_ms_per_sample` = computing the "
          "persistence images the PI teacher needs; the students need none):\n\n" + md_table(cost) +
          "\n\nMean of c = d1/(d1+d2) per epoch of the workspace row (first, middle, last epoch):\n\n" +
          md_table(cmean.iloc[[0, len(cmean) // 2, -1]].reset_index().round(3)))
    write(a.name, dict(args=vars(a), daphnet=DAPHNET_TASK, finished=done, seeds_done=seeds_done, rows=res.to_dict('records'),
                       paired=summ.to_dict('records'), c_per_epoch=cmean.reset_index().to_dict('records')), md, out=a.out)
    return cmean

recs, cs, t_start = [], [], time.time()
for name in SETS:
    data = gwt_data(name)  # the validation part is fixed (seed 0) for every seed below
    pis = data_pis(data, cache_dir=Path(a.cache))  # normalised per channel (the default)
    for seed in a.seeds:
        t0 = time.time()
        df, learners, (tp, ts) = compare(data, pis, RUN_ROWS, seed=seed, teacher_epochs=a.teacher_epochs, student_epochs=a.epochs, lr=a.lr, lam=a.lam, T=a.T)
        df['set'], df['seed'], df['n_test'] = name, seed, len(data.y_test)
        df['kept_epoch'] = [None, None] + [l.best_epoch.kept for l in learners.values()]
        df['val_acc'] = [test_accuracy(tp, pis['valid'], data.y_valid), test_accuracy(ts, data.X_valid, data.y_valid)] + \
                        [l.best_epoch.acc for l in learners.values()]
        recs.append(df)
        tf = terms_frame(learners['gwt']); tf['set'], tf['seed'] = name, seed; cs.append(tf)
        print(f"{name} seed {seed}: {time.time() - t0:.0f} s", dict(zip(df.row, df.acc.round(3))), flush=True)
        last = name == SETS[-1] and seed == a.seeds[-1]
        if not last: report(recs, cs, done=False)
cmean = report(recs, cs, done=True)
if not a.no_figure and not a.quick:
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    for s in cmean.columns: ax.plot(cmean.index, cmean[s], 'o-', ms=3, label=s)
    ax.set(xlabel='epoch', ylabel='mean c (weight of the PI teacher)', title=f'c over training, workspace row, mean of {len(a.seeds)} seeds'); ax.legend()
    fig.tight_layout(); fig.savefig(Path(__file__).resolve().parents[1] / 'nbs' / 'images' / 'gwt_kd_c.png', dpi=90)
