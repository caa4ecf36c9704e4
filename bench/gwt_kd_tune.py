"""Chapter 05: choose the distillation settings (lam, T, lr, epochs) on the fixed VALIDATION parts only; the test splits are
not read. Teachers are trained once per set and seed, the student alone once, then the two rows the goal compares the
workspace with (kd_fixed, gwt) for every setting of the grid. Reports the validation accuracy of the kept (best) epoch and
the mean validation accuracy and loss over the last 5 epochs (less noisy on 8-42 validation series).

    nice -n 15 python bench/gwt_kd_tune.py --threads 1

`--quick`: the first set and seed, teachers 2 epochs, the grid's first setting at 2 epochs.
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.gwt_kd import gwt_data, data_pis, train_teachers, train_student, BestEpoch
from patchssl.evaluate import test_accuracy

p = parser(__doc__, seeds='2')
p.add_argument('--sets', default='BasicMotions,PickupGestureWiimoteZ,Daphnet')
p.add_argument('--teacher-epochs', type=int, default=30)
p.add_argument('--grid', default='0.99:4:3e-3:30,0.9:4:3e-3:30,0.5:4:3e-3:30,0.9:2:3e-3:30,0.5:2:3e-3:30',
               help='settings lam:T:lr:epochs, comma-separated')
p.add_argument('--rows', default='kd_fixed,gwt')
p.add_argument('--no-normalize', action='store_true', help='raw persistence images (the state before the fix)')
p.add_argument('--cache', default='/tmp/patchssl_pi_cache')
a = parse(p)
if a.quick: a.sets, a.seeds, a.teacher_epochs, a.grid = a.sets.split(',')[0], a.seeds[:1], 2, ':'.join(a.grid.split(',')[0].split(':')[:3] + ['2'])
grid = [dict(zip(('lam', 'T', 'lr', 'epochs'), map(float, g.split(':')))) for g in a.grid.split(',')]

def val_stats(learn):
    v = np.array([r[1:3] for r in learn.recorder.values], float)  # valid loss, accuracy per epoch
    be = [c for c in learn.cbs if isinstance(c, BestEpoch)][0]
    return dict(val_best=be.acc, kept=be.kept, val_last5=v[-5:, 1].mean(), val_loss_last5=v[-5:, 0].mean())

recs, t_start = [], time.time()
for name in a.sets.split(','):
    data = gwt_data(name)
    pis = data_pis(data, cache_dir=a.cache, normalize=not a.no_normalize)
    for seed in a.seeds:
        t0 = time.time()
        tp, ts = train_teachers(data, pis, epochs=a.teacher_epochs, seed=seed)
        for kind, m, X in (('teacher_pi', tp, pis['valid']), ('teacher_sig', ts, data.X_valid)):  # the kept epoch's model
            recs.append(dict(set=name, seed=seed, row=kind, setting='-', val_best=test_accuracy(m, X, data.y_valid)))
        done = set()
        for g in grid:
            for row in ['student'] + a.rows.split(','):
                if row == 'student':  # lam and T do not matter for the student alone: once per (lr, epochs)
                    if (g['lr'], g['epochs']) in done: continue
                    done.add((g['lr'], g['epochs']))
                learn = train_student(row, data, pis, tp, ts, epochs=int(g['epochs']), lr=g['lr'], seed=seed, lam=g['lam'], T=g['T'])
                st = f"lr={g['lr']:g} ep={int(g['epochs'])}" if row == 'student' else f"lam={g['lam']:g} T={g['T']:g} lr={g['lr']:g} ep={int(g['epochs'])}"
                recs.append(dict(set=name, seed=seed, row=row, setting=st, **val_stats(learn)))
        print(f"{name} seed {seed}: {time.time() - t0:.0f} s", flush=True)
        print(pd.DataFrame([r for r in recs if r['set'] == name and r['seed'] == seed]).to_string(), flush=True)
res = pd.DataFrame(recs)
g = res.groupby(['row', 'setting', 'set'])[['val_best', 'val_last5']].mean().round(3)
tab = g.unstack('set')
tab.columns = [f'{s} {m}' for m, s in tab.columns]
tab['mean val_last5'] = g.val_last5.unstack('set').mean(1).round(3)
tab['mean val_best'] = g.val_best.unstack('set').mean(1).round(3)
tab = tab.reset_index()
md = (f"Validation accuracy only (the test splits are not read), mean over seeds {', '.join(map(str, a.seeds))}; teachers {a.teacher_epochs} "
      f"epochs; persistence images {'raw' if a.no_normalize else 'normalised (unit pixel std per channel on train)'}; "
      f"total {(time.time() - t_start) / 60:.1f} min. `val_best` = accuracy of the kept epoch, `val_last5` = mean over the last 5 epochs.\n\n"
      + md_table(tab))
write(a.name, dict(args=vars(a), rows=res.to_dict('records')), md, out=a.out)
