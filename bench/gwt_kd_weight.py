"""Chapter 05: is it the dynamic teacher weight c that costs the workspace row accuracy against the fixed-weight baseline?

Per set and seed, the teachers are trained again exactly as in `bench/gwt_kd_compare.py` (same seed, same settings; their
test accuracy is printed next to the one in `bench/results/gwt_kd_compare.json` as a reproducibility check), then:
- `gwt`: the workspace row (dynamic c = d1/(d1+d2)), again, to check it reproduces;
- `gwt_w0.3`: the same workspace model and alignment loss, but c fixed at 0.3 (the fixed-weight baseline's weight).
Paired against `kd_fixed` and `student` of the same seed in `gwt_kd_compare.json`.

    nice -n 10 python bench/gwt_kd_weight.py --threads 1
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write, md_table, RESULTS
from patchssl.gwt_kd import (gwt_data, data_pis, train_teachers, train_student, build_student, kd_learner, gwt_dls, GWTLoss,
                             test_accuracy, seed_everything, _fit)

p = argparse.ArgumentParser()
p.add_argument('--sets', default='PickupGestureWiimoteZ,Daphnet')
p.add_argument('--seeds', type=int, default=3)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--name', default='gwt_kd_weight')
p.add_argument('--cache', default='/tmp/patchssl_pi_cache')
a = p.parse_args()
torch.set_num_threads(a.threads)
ref = json.loads((RESULTS/'gwt_kd_compare.json').read_text())
ra = ref['args']
prev = pd.DataFrame(ref['rows']).set_index(['set', 'seed', 'row']).acc
recs, t_start = [], time.time()
for name in a.sets.split(','):
    data = gwt_data(name)
    pis = data_pis(data, cache_dir=Path(a.cache))
    for seed in range(a.seeds):
        t0 = time.time()
        tp, ts = train_teachers(data, pis, epochs=ra['teacher_epochs'], lr=ra['lr'], seed=seed)
        r = dict(set=name, seed=seed, teacher_pi=test_accuracy(tp, pis['test'], data.y_test), teacher_pi_compare=prev[(name, seed, 'teacher_pi')],
                 teacher_sig=test_accuracy(ts, data.X_test, data.y_test), teacher_sig_compare=prev[(name, seed, 'teacher_sig')])
        learn = train_student('gwt', data, pis, tp, ts, ra['epochs'], ra['lr'], seed=seed, lam=ra['lam'], T=ra['T'])
        r.update(gwt=test_accuracy(learn.model.eval(), data.X_test, data.y_test), gwt_compare=prev[(name, seed, 'gwt')])
        seed_everything(seed)  # the same start as train_student
        model = build_student('gwt', data, tp, ts)
        learn = kd_learner(gwt_dls(data, pis, 16), model, GWTLoss(lam=ra['lam'], T=ra['T'], w_pi=0.3))
        _fit(learn, ra['epochs'], ra['lr'], seed)
        r.update({'gwt_w0.3': test_accuracy(learn.model.eval(), data.X_test, data.y_test),
                  'kd_fixed (compare)': prev[(name, seed, 'kd_fixed')], 'student (compare)': prev[(name, seed, 'student')]})
        recs.append(r)
        print(f"{name} seed {seed}: {time.time() - t0:.0f} s", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
res = pd.DataFrame(recs)
summ = res.drop(columns='seed').groupby('set', sort=False).agg(['mean', 'std'])
summ = pd.DataFrame({c: summ[(c, 'mean')].map('{:.3f}'.format) + ' ± ' + summ[(c, 'std')].map('{:.3f}'.format)
                     for c in ['gwt', 'gwt_w0.3', 'kd_fixed (compare)', 'student (compare)']}).reset_index()
d = res.assign(diff=lambda x: x['gwt_w0.3'] - x['gwt'], diff_kd=lambda x: x['gwt_w0.3'] - x['kd_fixed (compare)'])
summ['gwt_w0.3 - gwt (paired)'] = [f"{g['diff'].mean():+.3f} ± {g['diff'].std():.3f}" for _, g in d.groupby('set', sort=False)]
summ['gwt_w0.3 - kd_fixed (paired)'] = [f"{g['diff_kd'].mean():+.3f} ± {g['diff_kd'].std():.3f}" for _, g in d.groupby('set', sort=False)]
md = (f"Test accuracy; settings of `bench/gwt_kd_compare.py` (teachers and students {ra['epochs']} epochs, lr {ra['lr']:g}, lam {ra['lam']:g}, "
      f"T {ra['T']:g}); total {(time.time() - t_start) / 60:.1f} min. `*_compare` / `(compare)`: the same seed's value in "
      "`bench/results/gwt_kd_compare.json`.\n\nPer seed:\n\n" + md_table(res) + "\n\nMean ± std over seeds:\n\n" + md_table(summ))
write(a.name, dict(args=vars(a), compare_args=ra, rows=res.to_dict('records')), md)
