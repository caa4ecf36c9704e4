"""Why does the CrossMAE probe stay below band statistics on EuroSAT-MS? Ablations on the 469 real 13-band patches.

Part `arms` pretrains `ImageCrossMAE` (D 64, 2 layers, patch 8, a CLS token, cross decoder, mask 0.75, kept 0.25) on the
375 training patches only, in four arms:

* `dataset`: log, then each band z-scored with the training patches' statistics (`BandNorm('dataset')`, chapter 00h);
* `image`: log, then each band of each patch z-scored with its own statistics (`BandNorm('image')`): band levels removed;
* `dataset + crops`: as `dataset`, every batch randomly cropped at 1/4, 9/16 or all of the area and resized back to 64;
* `dataset + textures`: as `dataset`, with 375 crops of scikit-image's brick/grass/gravel (grey, broadcast to 13 bands)
  added to the pretraining set (the same number of steps).

Along each pretraining the closed-form ridge probe (penalty by 5-fold CV on the training patches) is fitted on frozen
features after 0 (random encoder), 2, 5, 10 and 20 epochs: pooling CLS, mean of patch tokens, CLS + mean, mean + std of
the tokens, each alone and with the band statistics (`BandNorm.stats`, 26 numbers) appended. At the end, logistic
regression (C by 5-fold CV on the training patches) on the same features. The 5-fold CV accuracy on the training split is
recorded beside every test accuracy: that is what a choice may be made on.

Part `labels` (label efficiency): 5, 10, 25 and 100 % of the labelled training patches (stratified, per seed), against
band statistics (ridge and logistic) and a small CNN from scratch at the same fraction: the probe of the `dataset` arm's
20-epoch encoder (CLS + mean, alone and with band statistics), and a fine-tune of that encoder with a linear head
(one-cycle lr 1e-3, flips / 90-degree rotations, a fixed budget of optimiser steps, nothing chosen on test). The CNN gets
the same augmentation, budget and batch size (one-cycle lr 3e-3).

    nice -n 10 python bench/crossmae_eurosat_diagnosis.py --threads 1 --seeds 3
"""
import sys, time, math
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from torch import nn
import torch.nn.functional as F
from common import parser, parse, write, md_table, seed_everything, RESULTS
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
from fastai.callback.schedule import *  # noqa: fit_one_cycle
from patchssl.geodata import load_eurosat_ms, BandNorm, image_crops, TEXTURES
from patchssl.crossmae import ImageCrossMAE, crossmae_learner, encode_features
from patchssl.transfer import ridge_probe, RIDGE_ALPHAS, save_checkpoint, load_checkpoint

p = parser(__doc__, seeds='3')
p.add_argument('--data', default=str(Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms'))
p.add_argument('--parts', default='arms,labels')
p.add_argument('--arms', default='dataset:3,image:3,dataset + crops:1,dataset + textures:1', help='arm:seeds (at most --seeds)')
p.add_argument('--epochs', type=int, default=20)
p.add_argument('--steps', type=int, default=100, help='optimiser steps of every fine-tune and CNN run')
p.add_argument('--fractions', default='0.05,0.1,0.25,1')
p.add_argument('--cache', default='/tmp/crossmae_eurosat_cache', help='folder for the pretrained encoders (reused by part labels)')
a = parse(p)
if a.quick: a.epochs, a.steps, a.seeds = 2, 6, a.seeds[:1]
CURVE = sorted({0, 2, 5, 10, a.epochs} & set(range(a.epochs + 1)))
es = load_eurosat_ms(a.data, tensors=False)
tr, te = ~es['is_test'], es['is_test']
y, ytr, yte = es['y'], es['y'][~es['is_test']], es['y'][es['is_test']]
NORM = {m: BandNorm(m).fit(es['x'][tr]) for m in ('dataset', 'image')}
X = {m: n(es['x']) for m, n in NORM.items()}
STATS = NORM['dataset'].stats(es['x'])  # the same 26 standardised numbers for either mode
cache = Path(a.cache); cache.mkdir(parents=True, exist_ok=True)
T = lambda v: torch.as_tensor(v)

from eurosat_common import cv_acc, ridge, logistic  # the probes shared with the other EuroSAT studies

def features(model, x):
    "Probe feature sets of frozen `model` on images `x` (every image), alone and with the band statistics."
    t = encode_features(model, x, False, bs=128)  # [n, 1 + T, D]: CLS first
    cls, p = t[:, 0], t[:, 1:]
    fs = {k: v.numpy() for k, v in dict(cls=cls, mean=p.mean(1), **{'cls+mean': torch.cat([cls, p.mean(1)], 1),
                                                                  'mean+std': torch.cat([p.mean(1), p.std(1)], 1)}).items()}
    return {**fs, **{f'{k} + band stats': np.c_[v, STATS] for k, v in fs.items()}}

class MultiScaleCrop(Callback):
    "Each training image cropped at a random scale (1/4, 9/16 or all of its area) and place, resized back to its size."
    order = -1
    def before_batch(self):
        if not self.training: return
        x = self.xb[0]; S = x.shape[-1]; out = []
        for xi in x:
            s = int(np.random.choice([S // 2, 3 * S // 4, S]))
            i, j = np.random.randint(0, S - s + 1, 2)
            c = xi[None, :, i:i + s, j:j + s]
            out.append(c[0] if s == S else F.interpolate(c, size=(S, S), mode='bilinear', align_corners=False)[0])
        self.learn.xb = (torch.stack(out),)

class Dihedral(Callback):
    "Random flips and 90-degree rotations of each training batch."
    order = -1
    def before_batch(self):
        if not self.training: return
        x = self.xb[0]
        if torch.rand(()) < .5: x = x.flip(-1)
        self.learn.xb = (torch.rot90(x, int(torch.randint(4, ())), (-2, -1)), *self.xb[1:])

def texture_crops(n):
    "n grey 64x64 crops of the three textures, z-scored and broadcast to the 13 bands."
    g, _ = image_crops(TEXTURES, n // len(TEXTURES), size=64, part='all', seed=0)
    g = (g - g.mean()) / g.std()
    return np.repeat(g, 13, axis=1).astype(np.float32)

def new_model(): return ImageCrossMAE(13, 64, patch_size=8, decoder='cross', kept_mask_ratio=0.25, cls_token=True)

def pretrain(arm, seed):
    "Pretrain one arm for one seed; the probe rows along the way, the model (cached)."
    norm = 'image' if arm == 'image' else 'dataset'
    x = X[norm]
    pre, cbs, epochs = x[tr], [], a.epochs
    if arm == 'dataset + crops': cbs = [MultiScaleCrop()]
    if arm == 'dataset + textures': pre, epochs = np.concatenate([pre, texture_crops(len(pre))]), max(1, a.epochs // 2)
    seed_everything(seed)
    model = new_model()
    ds = [(torch.from_numpy(v),) for v in pre]
    dls = DataLoaders(DataLoader(ds, bs=32, shuffle=True, drop_last=True), DataLoader(ds[:64], bs=64), device='cpu')
    learn = crossmae_learner(dls, model, 0.75, cbs=cbs)
    rows, t0 = [], time.time()
    at = sorted({round(e * epochs / a.epochs) for e in CURVE})  # probe points, in this arm's own epochs
    class Probe(Callback):
        order = 90
        def after_epoch(self):
            if self.epoch + 1 in at: rows.extend(probe_rows(model, x, arm, seed, (self.epoch + 1) * a.epochs // epochs, time.time() - t0))
    rows.extend(probe_rows(model, x, arm, seed, 0, 0.))
    learn.add_cb(Probe())
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 1e-3)
    save_checkpoint(cache/f'{arm}_{seed}.pt', model, epoch=epochs, extra=dict(arm=arm, seed=seed, final_loss=float(learn.recorder.losses[-1])))
    fs = features(model, x)
    for k in ('cls+mean', 'cls+mean + band stats'):
        rows.append(dict(arm=arm, seed=seed, epoch=a.epochs, features=k, probe='logistic', test_acc=logistic(fs[k][tr], ytr, fs[k][te], yte)))
    return rows

def probe_rows(model, x, arm, seed, epoch, secs):
    out = []
    for k, f in features(model, x).items():
        acc, al = ridge(f[tr], ytr, f[te], yte)
        out.append(dict(arm=arm, seed=seed, epoch=epoch, features=k, probe='ridge', test_acc=acc, alpha=al, cv_acc=cv_acc(f[tr], ytr),
                        seconds=round(secs, 1)))
    print(out[-1] | dict(features='(last of the set)'), flush=True)
    return out

def baseline_rows():
    rows = []
    for k, f in {'band stats': STATS, 'band means': STATS[:, :13]}.items():
        acc, al = ridge(f[tr], ytr, f[te], yte)
        rows.append(dict(arm='no network', seed=0, epoch=0, features=k, probe='ridge', test_acc=acc, alpha=al, cv_acc=cv_acc(f[tr], ytr)))
        rows.append(dict(arm='no network', seed=0, epoch=0, features=k, probe='logistic', test_acc=logistic(f[tr], ytr, f[te], yte)))
    return rows

def arms_report(rows):
    df = pd.DataFrame(rows)
    last = df[df.epoch.isin([0, a.epochs])]
    agg = (last.groupby(['arm', 'epoch', 'features', 'probe'], sort=False)
               .agg(test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'), cv_acc=('cv_acc', 'mean'), n=('seed', 'count')).reset_index())
    curve = (df[df.probe == 'ridge'].groupby(['arm', 'features', 'epoch'], sort=False)
               .agg(test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'), cv_acc=('cv_acc', 'mean')).reset_index())
    note = (f"EuroSAT-MS subset: pretraining on the {tr.sum()} training patches only; probes fitted on their labels, scored on the "
            f"{te.sum()} test patches (one patch = 0.011), 10 classes. ImageCrossMAE D 64, 2 layers, patch 8 (64 tokens) + CLS, cross "
            f"decoder (64, 2 layers), mask 0.75, kept 0.25, batch 32, one-cycle lr 1e-3, {a.epochs} epochs (the textures arm: "
            f"{max(1, a.epochs // 2)} epochs of twice the images). `epoch 0` = the random encoder. `ridge`: closed-form ridge, penalty "
            f"by 5-fold CV on the training patches; `logistic`: C by 5-fold CV. `cv_acc`: 5-fold CV accuracy on the training patches "
            f"(what a choice may use). `band stats`: each patch's per-band mean and sd of the log bands (26 numbers), no network. "
            f"Mean and sd over seeds {a.seeds} (`n` runs).\n\n")
    write(a.name, dict(args=vars(a), rows=rows), out=a.out, table_md=note + md_table(agg, 3) + "\n\nProbe along pretraining (ridge):\n\n" + md_table(curve, 3))

def stratified(seed, frac):
    "Indices (into the training rows) of `frac` of the labelled training patches, every class at least once."
    rng = np.random.default_rng(1000 + seed)
    idx = []
    for c in np.unique(ytr):
        ic = np.nonzero(ytr == c)[0]
        idx.extend(rng.permutation(ic)[:max(1, round(frac * len(ic)))])
    return np.sort(np.array(idx))

class Classifier(nn.Module):
    "A pretrained image encoder and a linear head on [CLS, mean of the patch tokens]."
    def __init__(self, enc, n_classes=10):
        super().__init__(); self.enc = enc; self.head = nn.Linear(2 * enc.d_model, n_classes)
    def forward(self, x):
        t, _ = self.enc(x)
        return self.head(torch.cat([t[:, 0], t[:, 1:].mean(1)], 1))

def small_cnn():
    return nn.Sequential(nn.Conv2d(13, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def train_supervised(model, xs, ys, lr, seed):
    "Fixed budget of `a.steps` optimiser steps (one-cycle), flips and rotations; the test accuracy."
    seed_everything(seed)
    bs = min(32, max(4, len(xs) // 2))
    ds = [(torch.from_numpy(xs[i]), torch.tensor(ys[i])) for i in range(len(xs))]
    steps_per_epoch = len(ds) // bs
    epochs = max(1, math.ceil(a.steps / steps_per_epoch))
    dls = DataLoaders(DataLoader(ds, bs=bs, shuffle=True, drop_last=True), DataLoader(ds[:bs], bs=bs), device='cpu')
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), cbs=[Dihedral()])
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    model.eval()
    with torch.no_grad(): pred = torch.cat([model(torch.from_numpy(X['dataset'][te][i:i + 64])) for i in range(0, te.sum(), 64)]).argmax(-1)
    return float((pred.numpy() == yte).mean())

def labels_seed(seed, rows):
    "The label-efficiency rows of one seed (its `dataset` encoder from the cache, pretrained if missing)."
    fracs = [float(f) for f in a.fractions.split(',')]
    x = X['dataset']
    ck = cache/f'dataset_{seed}.pt'
    if not ck.exists(): pretrain('dataset', seed)
    ckpt = load_checkpoint(ck)
    model = new_model(); model.load_state_dict(ckpt['state_dict'])
    fs = features(model, x)
    for frac in fracs:
        sub = stratified(seed, frac)
        xs, ys = x[tr][sub], ytr[sub]
        r = dict(seed=seed, fraction=frac, n_labelled=len(sub))
        for name, f in [('probe: encoder (CLS + mean)', fs['cls+mean']), ('probe: encoder + band stats', fs['cls+mean + band stats']),
                        ('band stats (ridge)', STATS)]:
            rows.append(dict(r, method=name, test_acc=ridge(f[tr][sub], ys, f[te], yte)[0]))
        rows.append(dict(r, method='band stats (logistic)', test_acc=logistic(STATS[tr][sub], ys, STATS[te], yte)))
        t0 = time.time()
        ft = Classifier(new_model().encoder)
        ft.enc.load_state_dict({k[len('encoder.'):]: v for k, v in ckpt['state_dict'].items() if k.startswith('encoder.')})
        rows.append(dict(r, method='fine-tune: pretrained encoder', test_acc=train_supervised(ft, xs, ys, 1e-3, seed), seconds=round(time.time() - t0, 1)))
        t0 = time.time()
        rows.append(dict(r, method='small CNN from scratch', test_acc=train_supervised(small_cnn(), xs, ys, 3e-3, seed), seconds=round(time.time() - t0, 1)))
        print(rows[-6:], flush=True)
        labels_report(rows)

def labels_report(rows):
    df = pd.DataFrame(rows)
    agg = (df.groupby(['fraction', 'method'], sort=False).agg(n_labelled=('n_labelled', 'mean'), test_acc=('test_acc', 'mean'),
                                                             test_sd=('test_acc', 'std'), n=('seed', 'count')).reset_index())
    note = (f"Label efficiency on EuroSAT-MS: a stratified {a.fractions} share of the {tr.sum()} labelled training patches (drawn per "
            f"seed), scored on the {te.sum()} test patches. Encoder: the `dataset` arm of `{a.name}` ({a.epochs} pretraining epochs on "
            f"the unlabelled training patches, per seed). Probes: ridge with the penalty by 5-fold CV on the labelled patches. "
            f"Fine-tune and CNN: {a.steps} optimiser steps, batch min(32, n/2), flips and 90-degree rotations, one-cycle lr 1e-3 "
            f"(fine-tune) / 3e-3 (CNN); no early stopping, nothing chosen on test. Mean and sd over seeds {a.seeds}.\n\n")
    write(a.name + '_labels', dict(args=vars(a), rows=rows), out=a.out, table_md=note + md_table(agg, 3) + "\n\nPer seed:\n\n" + md_table(df, 3))

def figure():
    "Two panels: the probe along pretraining per arm, and label efficiency."
    import json, matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    d = pd.DataFrame(json.loads((Path(a.out or RESULTS)/f'{a.name}.json').read_text())['rows'])
    base = d[(d.arm == 'no network') & (d.features == 'band stats') & (d.probe == 'ridge')].test_acc.mean()
    for arm, feats, st in [('dataset', 'cls+mean', 'C0-'), ('image', 'cls+mean', 'C1-'), ('image', 'cls+mean + band stats', 'C1--'),
                           ('dataset', 'cls+mean + band stats', 'C0--'), ('dataset + crops', 'cls+mean', 'C2-'), ('dataset + textures', 'cls+mean', 'C4-')]:
        c = d[(d.arm == arm) & (d.features == feats) & (d.probe == 'ridge')].groupby('epoch').test_acc.agg(['mean', 'std'])
        if len(c): ax[0].errorbar(c.index, c['mean'], c['std'], fmt=st, capsize=2, label=f'{arm}: {feats}')
    ax[0].axhline(base, color='k', ls=':', label='band stats, no network')
    ax[0].set_xlabel('pretraining epochs'); ax[0].set_ylabel('test accuracy (ridge probe)'); ax[0].legend(fontsize=7); ax[0].set_title('probe along pretraining', fontsize=9)
    lf = Path(a.out or RESULTS)/f'{a.name}_labels.json'
    if lf.exists():
        l = pd.DataFrame(json.loads(lf.read_text())['rows'])
        for m, g in l.groupby('method', sort=False):
            s = g.groupby('fraction').test_acc.agg(['mean', 'std'])
            ax[1].errorbar(s.index, s['mean'], s['std'], marker='o', capsize=2, label=m)
        ax[1].set_xscale('log'); ax[1].set_xticks([0.05, 0.1, 0.25, 1], ['5%', '10%', '25%', '100%'])
        ax[1].set_xlabel('labelled training patches'); ax[1].legend(fontsize=7); ax[1].set_title('label efficiency', fontsize=9)
    fig.tight_layout(); fig.savefig(Path(a.out or RESULTS)/f'{a.name}.png', dpi=110)

parts = a.parts.split(',')
ARMS = [(n.strip(), int(k)) for n, k in (v.rsplit(':', 1) for v in a.arms.split(','))]
rows, lrows = baseline_rows(), []
for i, seed in enumerate(a.seeds):  # seed by seed, so that a shortened run still has whole seeds of every part
    if 'arms' in parts:
        for arm, n in ARMS:
            if i < n: rows += pretrain(arm, seed); arms_report(rows)
    if 'labels' in parts: labels_seed(seed, lrows)
figure()
