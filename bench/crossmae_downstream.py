"""Downstream quality of CrossMAE pretraining per decoder, over random seeds: MAE decoder (every masked token
predicted), cross-attention decoder (kept 0.25), and cross with weighted feature maps (WFM); plus the encoder at its
random initialisation. Two tasks, each a closed-form linear probe on frozen features (patchssl.crossmae):
ETTh1 forecast at horizon 96 (lookback 336, patch 16), and the 3-class scikit-image texture probe (brick / grass /
gravel, 32-pixel crops; pretraining on the other bundled photographs).

    nice -n 15 python bench/crossmae_downstream.py --threads 1
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch
import pandas as pd
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from common import write, md_table
from patchssl.data import etth1_dls
from patchssl.transfer import seed_everything
from patchssl.crossmae import (SeriesCrossMAE, ImageCrossMAE, crossmae_learner, forecast_probe, ridge_probe, encode_features,
                               image_crops, TEXTURES, PHOTOS)

ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--seeds', type=int, default=3)
ap.add_argument('--series_epochs', type=int, default=5)
ap.add_argument('--image_epochs', type=int, default=8)
a = ap.parse_args()
torch.set_num_threads(a.threads)
VARIANTS = {'mae (all masked)': dict(decoder='mae'), 'cross (kept 0.25)': dict(decoder='cross', kept_mask_ratio=.25),
            'cross + WFM (kept 0.25)': dict(decoder='cross', kept_mask_ratio=.25, weight_fm=True)}

def stack(ds): return [torch.stack(v) for v in zip(*[ds[i] for i in range(len(ds))])]
seed_everything(0)  # before the DataLoaders: fastai seeds their shuffling from Python's random module
pdls = etth1_dls(336, horizon=0, bs=64, stride=8, eval_stride=48, num_workers=0)
fd = etth1_dls(336, horizon=96, bs=256, stride=4, eval_stride=1, num_workers=0)
(xa, ya), (xt, yt) = stack(fd.train_ds), stack(fd.test.dataset)

xp, _ = image_crops(PHOTOS, 100, seed=0)
mu, sd = xp.mean(), xp.std()
nz = lambda v: (v - mu) / sd
xtr, ytr = image_crops(TEXTURES, 200, part='left', seed=1)
xte, yte = image_crops(TEXTURES, 200, part='right', seed=2)
def crop_dls(x, seed):
    xs = torch.as_tensor(nz(x), dtype=torch.float32)
    idx = torch.randperm(len(xs), generator=torch.Generator().manual_seed(seed)); nv = len(xs) // 10
    ds = lambda ii: [(xs[i],) for i in ii]
    return DataLoaders(DataLoader(ds(idx[nv:]), bs=64, shuffle=True, drop_last=True), DataLoader(ds(idx[:nv]), bs=64), device='cpu')

rows = []
for seed in range(a.seeds):
    for name, kw in [('random init', dict(decoder='cross'))] + list(VARIANTS.items()):
        seed_everything(seed)
        sm = SeriesCrossMAE(7, 336, patch_len=16, **kw)
        t0 = time.time()
        if name != 'random init':
            l = crossmae_learner(pdls, sm, 0.75)
            with l.no_bar(), l.no_logging(): l.fit_one_cycle(a.series_epochs, 3e-3)
        ts = time.time() - t0
        fp = forecast_probe(sm, xa, ya, xt, yt)
        seed_everything(seed)
        im = ImageCrossMAE(1, 32, patch_size=4, **kw)
        t0 = time.time()
        if name != 'random init':
            l = crossmae_learner(crop_dls(xp, seed), im, 0.75)
            with l.no_bar(), l.no_logging(): l.fit_one_cycle(a.image_epochs, 3e-3)
        ti = time.time() - t0
        acc = ridge_probe(encode_features(im, nz(xtr)), ytr, encode_features(im, nz(xte)), yte)['accuracy']
        rows.append(dict(seed=seed, variant=name, etth1_mse=fp['mse'], etth1_mae=fp['mae'], texture_acc=acc,
                         series_pretrain_s=round(ts, 1), image_pretrain_s=round(ti, 1)))
        print(rows[-1], flush=True)
df = pd.DataFrame(rows)
agg = df.groupby('variant', sort=False).agg(etth1_mse=('etth1_mse', 'mean'), etth1_mse_sd=('etth1_mse', 'std'),
                                             texture_acc=('texture_acc', 'mean'), texture_acc_sd=('texture_acc', 'std'),
                                             series_pretrain_s=('series_pretrain_s', 'mean'), image_pretrain_s=('image_pretrain_s', 'mean')).reset_index()
note = (f"{a.seeds} seeds. ETTh1: lookback 336, patch 16 (147 tokens), mask 0.75, {a.series_epochs} pretraining epochs on "
        f"{len(pdls.train_ds)} train windows (stride 8), closed-form forecast probe (alpha 1000) on {len(xa)} train windows, scored on all "
        f"{len(xt)} test windows, horizon 96, z-scored MSE. Texture: 1,400 photo crops (patch 4, 64 tokens), mask 0.75, {a.image_epochs} "
        f"epochs; ridge probe on mean-pooled features, 600 train / 600 test crops from disjoint halves. Encoder D=64, 2 layers; "
        f"decoder width 64, 2 layers. `*_pretrain_s`: wall time of the whole pretraining (encoder included).\n\n")
write('crossmae_downstream', dict(rows=rows, args=vars(a)), note + md_table(agg, 4) + "\n\nPer seed:\n\n" + md_table(df, 4))
