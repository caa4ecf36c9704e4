"""Why does CrossMAE pretraining not help the EuroSAT-MS linear probe? An ablation on the 469 real 13-band patches.

Pretrain `ImageCrossMAE` on the 375 unlabelled training patches, then probe the 10 land-cover classes on the 94 test
patches (closed-form ridge probe, penalty chosen by 5-fold cross-validation on the training patches), against the same
encoder at its random initialisation and against hand-made band statistics. Factors: pretraining length, learning
rate, mask ratio, patch size, the normalisation of the 13 bands, flip/rotation augmentation, the number of pretraining
images, and the probe's features (mean of the last layer's tokens, mean and standard deviation over the tokens, both
for every encoder layer).

    nice -n 15 python bench/crossmae_eurosat.py --threads 1

`--quick`: the first seed, the rows 'random init' and 'notebook (5 epochs)' (unless `--only` names others), one epoch.
"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch, pandas as pd
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback
from common import write, md_table, parser, parse
from patchssl.transfer import seed_everything
from patchssl.crossmae import ImageCrossMAE, crossmae_learner, ridge_probe, load_eurosat_ms

ap = parser(__doc__, seeds='3')  # --threads, --seeds (a count, list or range), --name, --quick, --out
ap.add_argument('--data', default=str(Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms/eurosat_ms_subset.npz'))
ap.add_argument('--only', default='', help="config names to run, separated by ';' (names contain commas; default: all)")
ap.add_argument('--all-seeds', action='store_true', help='run every selected config with --seeds seeds (default: the factor rows run one)')
a = parse(ap)
SEEDS, NS = a.seeds, len(a.seeds)
es = load_eurosat_ms(a.data, tensors=False)
tr, te = ~es['is_test'], es['is_test']
ytr, yte = es['y'][tr], es['y'][te]

def normalise(kind):
    "The 13 bands z-scored with the training split's statistics, after a log ('log') or as they are ('linear')."
    v = np.log(es['x'] + 1e-3) if kind == 'log' else es['x']
    m, s = v[tr].mean((0, 2, 3), keepdims=True), v[tr].std((0, 2, 3), keepdims=True)
    return ((v - m) / s).astype(np.float32)
X = {k: normalise(k) for k in ('log', 'linear')}

ALPHAS = (0.01, 0.1, 1., 10., 100., 1000.)
def cv_probe(ftr, fte, k=5):
    "Ridge probe with the penalty chosen by k-fold cross-validation on the training features; test accuracy, alpha."
    ftr, fte = torch.as_tensor(ftr, dtype=torch.float64), torch.as_tensor(fte, dtype=torch.float64)
    folds = np.random.default_rng(0).permutation(len(ftr)) % k
    cv = {al: np.mean([ridge_probe(ftr[folds != f], ytr[folds != f], ftr[folds == f], ytr[folds == f], al)['accuracy'] for f in range(k)])
          for al in ALPHAS}
    best = max(cv, key=cv.get)
    return ridge_probe(ftr, ytr, fte, yte, best)['accuracy'], best

@torch.no_grad()
def features(model, x):
    "Probe features of unmasked images: {'mean': mean of the last (normed) layer's tokens, 'mean+std': and their std, 'layers': mean and std of every layer}."
    enc = model.encoder.eval()
    out = {'mean': [], 'mean+std': [], 'layers': []}
    for i in range(0, len(x), 128):
        t, info = enc(torch.as_tensor(x[i:i + 128]), return_layers=True)
        ms = lambda z: torch.cat([z.mean(1), z.std(1)], 1)
        out['mean'].append(t.mean(1)); out['mean+std'].append(ms(t)); out['layers'].append(torch.cat([ms(z) for z in info['layers']] + [ms(t)], 1))
    enc.train()
    return {k: torch.cat(v) for k, v in out.items()}

class Dihedral(Callback):
    "Random flips and 90-degree rotations of each training batch (the 8 symmetries of a square)."
    order = -1  # before the masking callback
    def before_batch(self):
        if not self.training: return
        x = self.xb[0]
        if torch.rand(()) < .5: x = x.flip(-1)
        x = torch.rot90(x, int(torch.randint(4, ())), (-2, -1))
        self.learn.xb = (x,)

BASE = dict(norm='log', patch=8, mask=.75, kept=.25, decoder='cross', epochs=5, lr=3e-3, bs=32, aug=False, n_img=375)
CONFIGS = {  # name: (changes to BASE, seeds); the factor rows run one seed (indicative only), against '25 epochs'
    'notebook (5 epochs)': ({}, 3),
    '25 epochs': (dict(epochs=25), 3),
    '25 epochs, lr 1e-3': (dict(epochs=25, lr=1e-3), 1),
    '25 epochs, mask 0.5': (dict(epochs=25, mask=.5), 1),
    '25 epochs, patch 16': (dict(epochs=25, patch=16), 1),
    '25 epochs, linear bands': (dict(epochs=25, norm='linear'), 1),
    '25 epochs, flips/rot90': (dict(epochs=25, aug=True), 1),
    '25 epochs, 188 images': (dict(epochs=25, n_img=188), 1),
    '100 epochs, lr 1e-3': (dict(epochs=100, lr=1e-3), 1),
}
only = [c.strip() for c in a.only.split(';') if c.strip()]
if a.quick: SEEDS, NS, only = SEEDS[:1], 1, only or ['notebook (5 epochs)']
if unknown := [c for c in only if c not in CONFIGS]: sys.exit(f'unknown config(s) {unknown}; one of {list(CONFIGS)}')
rows = []
def record(name, seed, cfg, feats, seconds, loss=None):
    x = X[cfg['norm']]
    r = dict(config=name, seed=seed, **{k: str(v) for k, v in cfg.items()}, seconds=round(seconds, 1), final_loss=loss)
    for k, f in feats.items(): r[f'acc_{k}'], r[f'alpha_{k}'] = cv_probe(f[tr], f[te])
    r['acc_mean_alpha10'] = ridge_probe(feats['mean'][tr], ytr, feats['mean'][te], yte, 10.)['accuracy']  # the earlier notebook's fixed penalty
    rows.append(r); print(r, flush=True)

# hand-made features: the band means (and standard deviations) of each patch
for norm in ('log',):
    x = X[norm]
    record('band statistics (no network)', 0, dict(BASE, norm=norm), {'mean': x.mean((2, 3)), 'mean+std': np.c_[x.mean((2, 3)), x.std((2, 3))]}, 0.)
def report():
    df = pd.DataFrame(rows)
    accs = [c for c in df.columns if c.startswith('acc_')]
    agg = df.groupby('config', sort=False).agg(**{f'{c}': (c, 'mean') for c in accs}, **{f'{c}_sd': (c, 'std') for c in accs},
                                                seconds=('seconds', 'mean'), n=('seed', 'count')).reset_index()
    agg = agg[['config'] + [k for c in accs for k in (c, c + '_sd')] + ['seconds', 'n']]
    note = (f"EuroSAT-MS subset: 375 unlabelled train patches for pretraining (unless fewer are named), 94 test patches, 10 classes "
            f"(chance 0.10); seeds per row in `n` (sd over seeds; one test patch = 0.011). ImageCrossMAE D=64, 2 layers, decoder width 64, "
            f"2 layers; defaults: log then per-band z-score, patch 8 (64 tokens), mask 0.75, cross decoder with kept 0.25, batch 32, "
            f"one-cycle lr 3e-3. Probe: closed-form ridge on standardised frozen features, penalty from {ALPHAS} by 5-fold CV on "
            f"the training patches. Features: `mean` = mean of the last layer's tokens (the notebook's probe), `mean+std` = mean "
            f"and std over the tokens, `layers` = mean and std of every encoder layer's tokens. `acc_mean_alpha10`: the `mean` features with the fixed penalty 10 that the notebook used before. `band statistics`: the per-patch "
            f"mean (and std) of each normalised band, no network.\n\n")
    write(a.name, dict(rows=rows, args=vars(a)), note + md_table(agg, 3) + "\n\nPer seed:\n\n" + md_table(df, 3), out=a.out)

ALL = {'random init': ({}, NS), **CONFIGS}
jobs = [(seed, name) for i, seed in enumerate(SEEDS) for name, (_, n) in ALL.items()
        if i < (NS if a.all_seeds else min(n, NS)) and (not only or name in only or name == 'random init')]
jobs.sort(key=lambda j: ALL[j[1]][0].get('epochs', 0) >= 100)  # the long runs last
for seed, name in jobs:
    over = ALL[name][0]
    cfg = dict(BASE, **over, **(dict(epochs=1) if a.quick else {}))
    x = X[cfg['norm']]
    seed_everything(seed)
    model = ImageCrossMAE(13, 64, patch_size=cfg['patch'], decoder=cfg['decoder'], kept_mask_ratio=cfg['kept'])
    t0, loss = time.time(), None
    if name != 'random init':
        idx = np.nonzero(tr)[0][np.random.default_rng(seed).permutation(tr.sum())[:cfg['n_img']]]
        ds = [(torch.as_tensor(x[i]),) for i in idx]
        dls = DataLoaders(DataLoader(ds, bs=cfg['bs'], shuffle=True, drop_last=True), DataLoader(ds[:32], bs=32), device='cpu')
        l = crossmae_learner(dls, model, cfg['mask'], cbs=[Dihedral()] if cfg['aug'] else None)
        with l.no_bar(), l.no_logging(): l.fit_one_cycle(cfg['epochs'], cfg['lr'])
        loss = round(float(l.recorder.losses[-1]), 4)
    record(name, seed, cfg, features(model, x), time.time() - t0, loss)
    report()  # the table so far, rewritten after every row

