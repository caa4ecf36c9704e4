"""Chapter 05: why the persistence-image (PI) teacher sat at chance on PickupGestureWiimoteZ, and the fix. For each set:
pixel statistics of the raw images, a logistic-regression bound on the flattened images (C chosen on the validation
part), and the PI teacher (WRN2d, depth 10, width 2) trained on raw images and on images divided by each channel's
training pixel std (`data_pis(normalize=True)`), over seeds: validation accuracy of the kept epoch, the epoch kept,
test accuracy.

    nice -n 15 python bench/gwt_kd_pi_teacher.py --threads 1

`--quick`: the first set and seed, 2 epochs.
"""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.gwt_kd import gwt_data, data_pis, WRN2d, teacher_learner, gwt_dls
from patchssl.evaluate import test_accuracy
from patchssl.transfer import seed_everything

p = parser(__doc__, seeds='3')
p.add_argument('--sets', default='BasicMotions,PickupGestureWiimoteZ,Daphnet')
p.add_argument('--epochs', type=int, default=30)
p.add_argument('--cache', default='/tmp/patchssl_pi_cache')
a = parse(p)
if a.quick: a.sets, a.epochs, a.seeds = a.sets.split(',')[0], 2, a.seeds[:1]
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

stats, recs, t_start = [], [], time.time()
for name in a.sets.split(','):
    data = gwt_data(name)
    raw = data_pis(data, cache_dir=a.cache, normalize=False)
    P = raw['train']
    with torch.no_grad():  # the first convolution's output on raw images, at initialisation
        seed_everything(0); stem = WRN2d(data.n_vars, P.shape[-1], data.n_classes, 10, 2).stem(torch.as_tensor(P[:16])).std().item()
    flat = {s: v.reshape(len(v), -1) for s, v in raw.items()}
    sc = StandardScaler().fit(flat['train'])
    lr_va = {C: LogisticRegression(C=C, max_iter=3000).fit(sc.transform(flat['train']), data.y_train) for C in (0.01, 0.1, 1.)}
    bestC = max(lr_va, key=lambda C: lr_va[C].score(sc.transform(flat['valid']), data.y_valid))
    stats.append(dict(set=name, n_train=len(P), pixel_max=float(P.max()), pixel_mean=float(P.mean()), pixel_std=float(P.std()),
                      stem_out_std=stem, logreg_C=bestC, logreg_valid=lr_va[bestC].score(sc.transform(flat['valid']), data.y_valid),
                      logreg_test=lr_va[bestC].score(sc.transform(flat['test']), data.y_test), chance=1 / data.n_classes))
    for norm in (False, True):
        pis = data_pis(data, cache_dir=a.cache, normalize=norm)
        for seed in a.seeds:
            seed_everything(seed)
            m = WRN2d(data.n_vars, P.shape[-1], data.n_classes, 10, 2)
            learn = teacher_learner(gwt_dls(data, pis, 16, inputs=('pi',)), m)
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, 3e-3)
            pred = m.eval()
            recs.append(dict(set=name, images='normalised' if norm else 'raw', seed=seed, kept=learn.best_epoch.kept,
                             valid=learn.best_epoch.acc, test=test_accuracy(m, pis['test'], data.y_test),
                             test_classes_predicted=int(len(np.unique(torch.cat([m(torch.as_tensor(pis['test'][i:i + 64])).argmax(-1)
                                                                                  for i in range(0, len(pis['test']), 64)]).numpy())))))
            print(recs[-1], flush=True)
st, res = pd.DataFrame(stats), pd.DataFrame(recs)
g = res.groupby(['set', 'images']).agg(valid=('valid', 'mean'), test_mean=('test', 'mean'), test_std=('test', 'std'),
                                        kept=('kept', lambda k: ','.join(map(str, k))),
                                        classes_predicted=('test_classes_predicted', lambda k: ','.join(map(str, k)))).reset_index()
md = (f"Raw persistence images (32x32, spread 0.05) of the training split, and a logistic regression on the flattened raw images "
      f"(C in 0.01/0.1/1 chosen on the validation part):\n\n" + md_table(st.round(4)) +
      f"\n\nPI teacher (WRN2d depth 10 width 2, {a.epochs} epochs one-cycle 3e-3, bs 16, best validation epoch kept), raw vs "
      f"normalised images, seeds {', '.join(map(str, a.seeds))}; `kept` and `classes_predicted` (distinct classes predicted on the test split) "
      f"per seed; total {(time.time() - t_start) / 60:.1f} min:\n\n" + md_table(g.round(3)))
write(a.name, dict(args=vars(a), stats=stats, rows=recs), md, out=a.out)
