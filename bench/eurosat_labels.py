"""Label efficiency on EuroSAT-MS, with fair budgets: probes (band statistics, encoder features, both in a two-block ridge)
and supervised runs (fine-tuned pretrained encoder, the same encoder from random weights, a small CNN from scratch) at
5, 10, 25 and 100 % of the 375 labelled training patches (stratified, drawn per seed), scored on the 94 test patches.

Encoders: `eurosat_target.py`'s ImageCrossMAE pretrained for `--epochs` epochs on the unlabelled training patches with the
reconstruction `--targets` (from its cache `/tmp/eurosat_cache`, pretrained there when missing), and the untrained model.

* part `probe`: ridge on the 26 band statistics (penalty by 5-fold CV on the labelled patches), logistic regression on them
  (C by 3-fold CV), ridge on each encoder's frozen features, and the two-block ridge `block_ridge` (band statistics + w x
  encoder block, w in 0..1 and the penalty chosen together by repeated 5-fold CV on the labelled patches; w = 0 = the
  statistics alone);
  with `--probe logistic` (results `eurosat_labels_probe_logistic`): the same two blocks in a multinomial logistic
  regression, `block_logistic` (w in 0..1 and C chosen together by repeated stratified 5-fold CV on the labelled patches;
  w = 0 = the statistics alone, also reported as its own row with that CV), beside the statistics' ridge and logistic rows;
* part `train`: every supervised run gets the same fixed budget of optimiser steps (each of `--budgets`), batch
  min(32, n/2), flips and 90-degree rotations, one-cycle schedule, AdamW (wd 0.01); lr 1e-3 for the transformer
  (pretrained or random) and 3e-3 for the CNN; nothing is chosen on the test patches.

    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe
    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe --probe logistic --targets pixels
    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts train --budgets 300
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd
from common import parser, parse, write, md_table, RESULTS
from eurosat_common import (EuroSAT, cached_encoder, features, ridge, logistic, block_ridge, block_logistic, stratified, Classifier, small_cnn,
                            train_supervised, DATA, CACHE)

p = parser(__doc__, seeds='3')
p.add_argument('--data', default=str(DATA))
p.add_argument('--parts', default='probe,train')
p.add_argument('--targets', default='pixels,band means', help='pretraining targets of the encoders (eurosat_target.py)')
p.add_argument('--epochs', type=int, default=20, help='pretraining epochs of the cached encoders')
p.add_argument('--budgets', default='300', help='optimiser steps of every supervised run (comma list)')
p.add_argument('--cache', default=str(CACHE), help='folder of the pretrained encoders (eurosat_target.py writes them)')
p.add_argument('--fractions', default='0.05,0.1,0.25,1')
p.add_argument('--probe', default='ridge', choices=['ridge', 'logistic'], help='family of the two-block probe (part probe)')
a = parse(p)
if a.quick: a.epochs, a.budgets, a.seeds, a.fractions = 2, '6', a.seeds[:1], '0.05,1'
d = EuroSAT(a.data)
tr, te = d.tr, d.te
xtr, xte = d.x[tr], d.x[te]
S = d.stats
FR = [float(f) for f in a.fractions.split(',')]
TG = [t.strip() for t in a.targets.split(',')]
prows, trows = [], []

def enc_name(t): return 'random encoder' if t is None else f'{t} encoder'

def probe_seed(seed):
    encs = {t: features(cached_encoder(d, t, seed, a.epochs, a.cache), d.x) for t in [None] + TG}
    for frac in FR:
        sub = stratified(d.ytr, seed, frac)
        ys = d.ytr[sub]
        r = dict(seed=seed, fraction=frac, n_labelled=len(sub))
        prows.append(dict(r, method='band stats (ridge)', test_acc=ridge(S[tr][sub], ys, S[te], d.yte)[0]))
        prows.append(dict(r, method='band stats (logistic)', test_acc=logistic(S[tr][sub], ys, S[te], d.yte)))
        if a.probe == 'logistic':
            acc, w, C, cv = block_logistic(S[tr][sub], None, ys, S[te], None, d.yte)
            prows.append(dict(r, method='band stats (logistic, repeated CV)', test_acc=acc, w=w, C=C, cv_acc=cv))
            for t, fs in encs.items():
                for k, f in fs.items():
                    acc, w, C, cv = block_logistic(S[tr][sub], f[tr][sub], ys, S[te], f[te], d.yte)
                    prows.append(dict(r, method=f'band stats + w * {enc_name(t)}: {k} (logistic)', test_acc=acc, w=w, C=C, cv_acc=cv))
            print(prows[-1], flush=True)
            continue
        for t, fs in encs.items():
            for k, f in fs.items():
                prows.append(dict(r, method=f'{enc_name(t)}: {k}', test_acc=ridge(f[tr][sub], ys, f[te], d.yte)[0]))
                acc, w, al, cv = block_ridge(S[tr][sub], f[tr][sub], ys, S[te], f[te], d.yte)
                prows.append(dict(r, method=f'band stats + w * {enc_name(t)}: {k}', test_acc=acc, w=w, alpha=al, cv_acc=cv))
        print(prows[-1], flush=True)
    report('probe' if a.probe == 'ridge' else 'probe_logistic', prows)

def train_seed(seed):
    for steps in [int(b) for b in a.budgets.split(',')]:
        for frac in FR:
            sub = stratified(d.ytr, seed, frac)
            xs, ys = xtr[sub], d.ytr[sub]
            r = dict(seed=seed, fraction=frac, n_labelled=len(sub), steps=steps)
            runs = [(f'fine-tune: {enc_name(t)}', lambda t=t: Classifier(cached_encoder(d, t, seed, a.epochs, a.cache).encoder), 1e-3) for t in TG]
            runs += [('fine-tune: random encoder', lambda: Classifier(cached_encoder(d, None, seed, a.epochs, a.cache).encoder), 1e-3),
                     ('small CNN from scratch', lambda: (np.random.seed(seed), small_cnn())[1], 3e-3)]
            for name, make, lr in runs:
                t0 = time.time()
                acc = train_supervised(make(), xs, ys, xte, d.yte, lr, seed, steps)
                trows.append(dict(r, method=name, test_acc=acc, seconds=round(time.time() - t0, 1)))
                print(trows[-1], flush=True)
            report('train', trows)

def report(part, rows):
    df = pd.DataFrame(rows)
    keys = ['fraction', 'method'] + (['steps'] if part == 'train' else [])
    agg = (df.groupby(keys, sort=False).agg(n_labelled=('n_labelled', 'mean'), test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'),
                                           n=('seed', 'count')).reset_index())
    if part.startswith('probe'): agg['w (mean)'] = df.groupby(keys, sort=False)['w'].mean().values if 'w' in df else np.nan
    note = (f"Label efficiency on EuroSAT-MS: a stratified {a.fractions} share of the {tr.sum()} labelled training patches (drawn per "
            f"seed, the same draw as chapter 03's study), scored on the {te.sum()} test patches (one patch = 0.011). Encoders: "
            f"ImageCrossMAE pretrained {a.epochs} epochs on the unlabelled training patches with the targets {TG} "
            f"(`eurosat_target.py`), per seed; `random encoder` = the same model untrained. ")
    note += ("Probes: ridge, penalty by 5-fold CV on the labelled patches; logistic, C by 3-fold CV; `band stats + w * E`: the two-block "
             "ridge, w (0 = statistics alone) and the penalty chosen together by repeated 5-fold CV on the labelled patches. "
             if part == 'probe' else
             "Probes: `band stats (ridge)` penalty by 5-fold CV; `band stats (logistic)` C by 3-fold CV; `(logistic)` rows: the two-block "
             "logistic regression `block_logistic`, each block standardised on the labelled patches, w (0 = statistics alone) in "
             "0..1 and C in 0.01..10 chosen together by 3 repeats of stratified 5-fold CV on the labelled patches; `band stats "
             "(logistic, repeated CV)` is its w = 0 row. `cv_acc`: that CV accuracy. "
             if part == 'probe_logistic' else
             "Supervised runs: the same fixed budget of optimiser steps (`steps`) for every method, batch min(32, n/2), flips and "
             "90-degree rotations, one-cycle, AdamW wd 0.01, lr 1e-3 (transformer) / 3e-3 (CNN); nothing chosen on test. ")
    note += f"Mean and sd over seeds {a.seeds} (`n` runs).\n\n"
    write(f'{a.name}_{part}', dict(args=vars(a), rows=rows), out=a.out, table_md=note + md_table(agg, 3) + "\n\nPer seed:\n\n" + md_table(df, 3))

for seed in a.seeds:
    if 'probe' in a.parts: probe_seed(seed)
    if 'train' in a.parts: train_seed(seed)
