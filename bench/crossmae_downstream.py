"""Downstream quality of CrossMAE pretraining per decoder, over random seeds: MAE decoder (every masked token
predicted), cross-attention decoder (kept 0.25), and cross with weighted feature maps (WFM); plus the encoder at its
random initialisation. Each pretrained encoder is scored twice: a closed-form linear probe on frozen features
(patchssl.crossmae: `forecast_probe`, `ridge_probe`; the ridge penalty chosen by 5-fold cross-validation on the
training rows, `ridge_cv_alpha`), and a fine-tune of encoder + linear head through the shared
transfer recipe (patchssl.transfer: `Learner.fine_tune_pretrained`, head alone first, then everything at lr/2).
Tasks: ETTh1 forecast at horizon 96 (lookback 336, patch 16), the 3-class scikit-image texture probe (brick / grass /
gravel, 32-pixel crops; pretraining on the other bundled photographs), and the 10-class EuroSAT-MS probe (13 bands,
375 unlabelled train patches for pretraining, 94 test patches).

    nice -n 10 python bench/crossmae_downstream.py --threads 1

`--quick`: the first seed, one epoch of every pretraining and fine-tune phase.
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch
from torch import nn
import torch.nn.functional as F
import pandas as pd
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from common import write, md_table, parser, parse
from patchssl import evaluate
from patchssl.data import etth1_dls
import patchssl.transfer  # noqa: F401  (Learner.fine_tune_pretrained)
from patchssl.transfer import seed_everything
from patchssl.crossmae import (SeriesCrossMAE, ImageCrossMAE, crossmae_learner, forecast_probe, ridge_probe, RIDGE_ALPHAS,
                               encode_features, image_crops, load_eurosat_ms, TEXTURES, PHOTOS)

ap = parser(__doc__, seeds='3')  # --threads, --seeds (a count, list or range), --name, --quick, --out
ap.add_argument('--tasks', default='etth1,texture,eurosat')
ap.add_argument('--series_epochs', type=int, default=5)
ap.add_argument('--image_epochs', type=int, default=8)
ap.add_argument('--eurosat_epochs', type=int, default=25)
ap.add_argument('--eurosat_lr', type=float, default=1e-3)
ap.add_argument('--ft_lr', type=float, default=3e-3, help='base lr of fine_tune_pretrained: the head alone at it, then everything at half of it')
ap.add_argument('--ft_head_epochs', type=int, default=2, help='head-only epochs of the image fine-tunes')
ap.add_argument('--ft_epochs', type=int, default=5, help='texture: epochs of everything after the head epochs')
ap.add_argument('--eurosat_ft_epochs', type=int, default=10)
ap.add_argument('--etth1_ft_head_epochs', type=int, default=1)
ap.add_argument('--etth1_ft_epochs', type=int, default=2)
ap.add_argument('--data', default=str(Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms/eurosat_ms_subset.npz'))
ap.add_argument('--variants', default='', help="comma-separated variant names to run (default: all), e.g. 'random init,cross (kept 0.25)'")
a = parse(ap)
if a.quick:
    a.seeds, a.series_epochs, a.image_epochs, a.eurosat_epochs = a.seeds[:1], 1, 1, 1
    a.ft_head_epochs = a.ft_epochs = a.eurosat_ft_epochs = a.etth1_ft_head_epochs = a.etth1_ft_epochs = 1
tasks = a.tasks.split(',')
VARIANTS = {'mae (all masked)': dict(decoder='mae'), 'cross (kept 0.25)': dict(decoder='cross', kept_mask_ratio=.25),
            'cross + WFM (kept 0.25)': dict(decoder='cross', kept_mask_ratio=.25, weight_fm=True)}

CLS_ALPHAS, FC_ALPHAS = RIDGE_ALPHAS, (10., 100., 1000., 1e4, 1e5)  # ridge penalties, chosen by 5-fold CV on the training rows

class Forecaster(nn.Module):
    "A (pretrained) SeriesEncoder and PatchTST's linear head over each variable's flattened patch tokens, de-normalised."
    def __init__(self, encoder, horizon):
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(encoder.n_patches * encoder.d_model, horizon)
    def forward(self, x):
        t, info = self.encoder(x)
        B, P, N = len(t), self.encoder.n_patches, self.encoder.n_vars
        y = self.head(t.reshape(B, P, N, -1).permute(0, 2, 1, 3).flatten(2)).transpose(1, 2)  # [B, H, N]
        m, s = info['stats']
        return y * s[..., 0] + m[..., 0]

class Classifier(nn.Module):
    "A (pretrained) ImageEncoder and a linear head on its mean-pooled tokens, standardised by a BatchNorm without affine (MAE's probe head)."
    def __init__(self, encoder, n_classes):
        super().__init__()
        self.encoder, self.head = encoder, nn.Sequential(nn.BatchNorm1d(encoder.d_model, affine=False), nn.Linear(encoder.d_model, n_classes))
    def forward(self, x): return self.head(self.encoder(x)[0].mean(1))

def tensor_dls(x, y, bs, seed, valid=None):
    g = torch.Generator().manual_seed(seed)
    xs, ys = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)
    ds = list(zip(xs, ys))
    vd = ds[:bs] if valid is None else list(zip(*[torch.as_tensor(v) for v in valid]))
    return DataLoaders(DataLoader(ds, bs=bs, shuffle=True, drop_last=True), DataLoader(vd, bs=256), device='cpu')

def predict(model, x): return evaluate.predict(model, x, bs=256)  # logits in eval mode (chapter 00j)

def fine_tune(model, dls, loss, epochs, head_epochs, lr):
    l = Learner(dls, model, loss_func=loss)
    with l.no_bar(), l.no_logging(): l.fine_tune_pretrained(epochs, lr, freeze_epochs=head_epochs)

def pretrain(model, dls, epochs, lr=3e-3):
    t0 = time.time()
    l = crossmae_learner(dls, model, 0.75)
    with l.no_bar(), l.no_logging(): l.fit_one_cycle(epochs, lr)
    return time.time() - t0

def stack(ds): return [torch.stack(v) for v in zip(*[ds[i] for i in range(len(ds))])]
seed_everything(0)  # before the DataLoaders: fastai seeds their shuffling from Python's random module
if 'etth1' in tasks:
    pdls = etth1_dls(336, horizon=0, bs=64, stride=8, eval_stride=48, num_workers=0)
    fd = etth1_dls(336, horizon=96, bs=256, stride=4, eval_stride=1, num_workers=0)
    (xa, ya), (xt, yt) = stack(fd.train_ds), stack(fd.test.dataset)
    xf, yf = xa[::2], ya[::2]  # fine-tune windows: stride 8
if 'texture' in tasks:
    xp, _ = image_crops(PHOTOS, 100, seed=0)
    mu, sd = xp.mean(), xp.std()
    nz = lambda v: (v - mu) / sd
    xtr, ytr = image_crops(TEXTURES, 200, part='left', seed=1)
    xte, yte = image_crops(TEXTURES, 200, part='right', seed=2)
if 'eurosat' in tasks:
    es = load_eurosat_ms(a.data, tensors=False)
    etr, ete = ~es['is_test'], es['is_test']
    lx = np.log(es['x'] + 1e-3)
    ex = ((lx - lx[etr].mean((0, 2, 3), keepdims=True)) / lx[etr].std((0, 2, 3), keepdims=True)).astype(np.float32)
    eytr, eyte = es['y'][etr], es['y'][ete]

def unlabelled_dls(x, seed, bs=64):
    xs = torch.as_tensor(x, dtype=torch.float32)
    idx = torch.randperm(len(xs), generator=torch.Generator().manual_seed(seed)); nv = len(xs) // 10
    ds = lambda ii: [(xs[i],) for i in ii]
    return DataLoaders(DataLoader(ds(idx[nv:]), bs=bs, shuffle=True, drop_last=True), DataLoader(ds(idx[:nv]), bs=bs), device='cpu')

rows = []
ALL = [('random init', dict(decoder='cross'))] + list(VARIANTS.items())
only = [v for v in a.variants.split(',') if v]
def main():
  for seed in a.seeds:
    for name, kw in [(n, kw) for n, kw in ALL if not only or n in only]:
        r = dict(seed=seed, variant=name)
        if 'etth1' in tasks:
            seed_everything(seed)
            sm = SeriesCrossMAE(7, 336, patch_len=16, **kw)
            r['series_pretrain_s'] = round(pretrain(sm, pdls, a.series_epochs), 1) if name != 'random init' else 0.
            t0 = time.time()
            fp = forecast_probe(sm, xa, ya, xt, yt, FC_ALPHAS)  # penalty by CV on contiguous blocks of training windows
            r['etth1_alpha'], r['etth1_probe_mse'] = fp['alpha'], fp['mse']
            r['etth1_probe_s'] = round(time.time() - t0, 1)
            seed_everything(seed)
            fc = Forecaster(sm.encoder, 96)
            t0 = time.time()
            fine_tune(fc, tensor_dls(xf, yf, 32, seed), nn.MSELoss(), a.etth1_ft_epochs, a.etth1_ft_head_epochs, a.ft_lr)
            r['etth1_ft_mse'], r['etth1_ft_s'] = F.mse_loss(predict(fc, xt), yt).item(), round(time.time() - t0, 1)
        if 'texture' in tasks:
            seed_everything(seed)
            im = ImageCrossMAE(1, 32, patch_size=4, **kw)
            r['image_pretrain_s'] = round(pretrain(im, unlabelled_dls(nz(xp), seed), a.image_epochs), 1) if name != 'random init' else 0.
            rp = ridge_probe(encode_features(im, nz(xtr)), ytr, encode_features(im, nz(xte)), yte, CLS_ALPHAS)
            r['texture_alpha'], r['texture_probe_acc'] = rp['alpha'], rp['accuracy']
            seed_everything(seed)
            cl = Classifier(im.encoder, 3)
            t0 = time.time()
            fine_tune(cl, tensor_dls(nz(xtr), ytr, 64, seed), nn.CrossEntropyLoss(), a.ft_epochs, a.ft_head_epochs, a.ft_lr)
            r['texture_ft_acc'], r['texture_ft_s'] = (predict(cl, nz(xte)).argmax(1).numpy() == yte).mean(), round(time.time() - t0, 1)
        if 'eurosat' in tasks:
            seed_everything(seed)
            em = ImageCrossMAE(13, 64, patch_size=8, **kw)
            r['eurosat_pretrain_s'] = round(pretrain(em, unlabelled_dls(ex[etr], seed, bs=32), a.eurosat_epochs, a.eurosat_lr), 1) if name != 'random init' else 0.
            rp = ridge_probe(encode_features(em, ex[etr]), eytr, encode_features(em, ex[ete]), eyte, CLS_ALPHAS)
            r['eurosat_alpha'], r['eurosat_probe_acc'] = rp['alpha'], rp['accuracy']
            seed_everything(seed)
            cl = Classifier(em.encoder, 10)
            t0 = time.time()
            fine_tune(cl, tensor_dls(ex[etr], eytr, 32, seed), nn.CrossEntropyLoss(), a.eurosat_ft_epochs, a.ft_head_epochs, a.ft_lr)
            r['eurosat_ft_acc'], r['eurosat_ft_s'] = (predict(cl, ex[ete]).argmax(1).numpy() == eyte).mean(), round(time.time() - t0, 1)
        rows.append(r); print(r, flush=True)
        report()  # the table so far, rewritten after every row

def report():
    df = pd.DataFrame(rows)
    scores = [c for c in df.columns if c.endswith(('_mse', '_acc'))]
    times = [c for c in df.columns if c.endswith('_s')]
    agg = df.groupby('variant', sort=False).agg(**{k: v for c in scores for k, v in ((c, (c, 'mean')), (c + '_sd', (c, 'std')))},
                                                 **{c: (c, 'mean') for c in times}, n=('seed', 'count')).reset_index()
    note = (f"seeds {a.seeds} asked, `n` done per variant (mean and sd over seeds). Probe: closed-form linear (ridge) probe on frozen "
            f"features, its penalty chosen by 5-fold cross-validation on the TRAINING features only (`*_alpha` per seed; classes from "
            f"{CLS_ALPHAS} on a fixed random partition, forecasts from {FC_ALPHAS} on contiguous blocks of windows); the test split is "
            f"used once, for the score. Fine-tune (`_ft_`): "
            f"the pretrained encoder + a linear head through `Learner.fine_tune_pretrained` (the head alone at lr {a.ft_lr:g}, then "
            f"everything at lr {a.ft_lr / 2:g}, one-cycle each; image heads: BatchNorm without affine + Linear on the mean-pooled "
            f"tokens, MAE's probe head; ETTh1: PatchTST's flatten + Linear head per variable); 'random init' fine-tunes the "
            f"untrained encoder, i.e. supervised training from scratch with the same budget. ")
    if 'etth1' in tasks: note += (f"ETTh1: lookback 336, patch 16 (147 tokens), mask 0.75, {a.series_epochs} pretraining epochs on "
            f"{len(pdls.train_ds)} train windows (stride 8); probe fitted on {len(xa)} train windows (stride 4); fine-tune on "
            f"{len(xf)} train windows (stride 8, batch 32), head {a.etth1_ft_head_epochs} + {a.etth1_ft_epochs} epochs, MSE loss; both scored on all {len(xt)} test windows, horizon 96, "
            f"z-scored MSE (lower is better). ")
    if 'texture' in tasks: note += (f"Texture: 1,400 photo crops (patch 4, 64 tokens), mask 0.75, {a.image_epochs} epochs; ridge probe on "
            f"mean-pooled features and fine-tune (head {a.ft_head_epochs} + {a.ft_epochs} epochs, batch 64) on 600 train crops, scored on 600 test crops from the other "
            f"half of each texture. ")
    if 'eurosat' in tasks: note += (f"EuroSAT-MS: log then per-band z-score, patch 8 (64 tokens), mask 0.75, {a.eurosat_epochs} "
            f"pretraining epochs at lr {a.eurosat_lr:g} on the 375 train patches (batch 32); ridge probe on mean-pooled features; fine-tune "
            f"(head {a.ft_head_epochs} + {a.eurosat_ft_epochs} epochs, batch 32) on the 375 labelled train patches; 94 test patches (one = 0.011). ")
    note += ("Encoder D=64, 2 layers; decoder width 64, 2 layers. `*_pretrain_s`: wall time of the whole pretraining (encoder included); "
             "`*_probe_s`, `*_ft_s`: of the probe (with its cross-validation) and of the fine-tune.\n\n")
    write(a.name, dict(rows=rows, args=vars(a)), note + md_table(agg, 4) + "\n\nPer seed:\n\n" + md_table(df, 4), out=a.out)

main()
