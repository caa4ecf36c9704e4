"""Chapter 05: is it the dynamic teacher weight c that costs the workspace row accuracy against the fixed-weight baseline?

Per set and seed, the teachers are trained again exactly as in the reference comparison run (`--reference`, default
`bench/results/gwt_kd_compare_2s.json`, the run these results were made with: the 2 s Daphnet task, the workspace row
reading the teacher slots in training; same seed, same settings; their test accuracy is printed next to the reference's
as a reproducibility check), then:
- `gwt`: the reference's workspace row (dynamic c = d1/(d1+d2), `logits='slots'`), again, to check it reproduces;
- `gwt_w0.3`: the same workspace model and alignment loss, but c fixed at 0.3 (the fixed-weight baseline's weight).
Paired against `kd_fixed` and `student` of the same seed in the reference.

    nice -n 10 python bench/gwt_kd_weight.py --threads 1

`--quick`: the first set and seed, teachers and students 2 epochs (not the reference's: the teachers' test
accuracies then differ from the reference's, as they should).
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from gwt_kd_common import compare_reference, reference_data, reference_teachers
from patchssl.gwt_kd import train_student, build_student, kd_learner, gwt_dls, GWTLoss, seed_everything, _fit
from patchssl.evaluate import test_accuracy, mean_sd, paired_diff

p = parser(__doc__, name='gwt_kd_weight', seeds='3')  # --threads, --seeds, --name, --quick, --out
p.add_argument('--sets', default='PickupGestureWiimoteZ,Daphnet')
p.add_argument('--cache', default='/tmp/patchssl_pi_cache')
p.add_argument('--reference', default='gwt_kd_compare_2s', help='the comparison run (bench/results/NAME.json) to pair with and take settings from')
p.add_argument('--logits', default='slots', help="the workspace rows' logits option (the reference's workspace row: 'slots')")
a = parse(p)
ra, daphnet, prev = compare_reference(a.reference)
if a.quick: ra, a.sets, a.seeds = {**ra, 'epochs': 2, 'teacher_epochs': 2}, a.sets.split(',')[0], a.seeds[:1]
recs, t_start = [], time.time()
for name in a.sets.split(','):
    data, pis = reference_data(name, daphnet, a.cache)
    for seed in a.seeds:
        t0 = time.time()
        tp, ts, r = reference_teachers(name, seed, data, pis, ra, prev)
        learn = train_student('gwt', data, pis, tp, ts, ra['epochs'], ra['lr'], seed=seed, lam=ra['lam'], T=ra['T'], logits=a.logits)
        r.update(gwt=test_accuracy(learn.model.eval(), data.X_test, data.y_test), gwt_compare=prev[(name, seed, 'gwt')])
        seed_everything(seed)  # the same start as train_student
        model = build_student('gwt', data, tp, ts, logits=a.logits)
        learn = kd_learner(gwt_dls(data, pis, 16), model, GWTLoss(lam=ra['lam'], T=ra['T'], w_pi=0.3))
        _fit(learn, ra['epochs'], ra['lr'], seed)
        r.update({'gwt_w0.3': test_accuracy(learn.model.eval(), data.X_test, data.y_test),
                  'kd_fixed (compare)': prev[(name, seed, 'kd_fixed')], 'student (compare)': prev[(name, seed, 'student')]})
        recs.append(r)
        print(f"{name} seed {seed}: {time.time() - t0:.0f} s", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}, flush=True)
res = pd.DataFrame(recs)
summ = mean_sd(res, ['gwt', 'gwt_w0.3', 'kd_fixed (compare)', 'student (compare)'], by='set')
for other, col in (('gwt', 'gwt'), ('kd_fixed', 'kd_fixed (compare)')):
    summ[f'gwt_w0.3 - {other} (paired)'] = [paired_diff(g['gwt_w0.3'], g[col])['mean diff ± sd'] for _, g in res.groupby('set', sort=False)]
md = (f"Test accuracy; settings of `bench/gwt_kd_compare.py` (teachers and students {ra['epochs']} epochs, lr {ra['lr']:g}, lam {ra['lam']:g}, "
      f"T {ra['T']:g}); total {(time.time() - t_start) / 60:.1f} min. `*_compare` / `(compare)`: the same seed's value in "
      f"`bench/results/{a.reference}.json`.\n\nPer seed:\n\n" + md_table(res) + "\n\nMean ± std over seeds:\n\n" + md_table(summ))
write(a.name, dict(args=vars(a), compare_args=ra, rows=res.to_dict('records')), md, out=a.out)
