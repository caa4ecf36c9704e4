"""Shared pieces of the `eurosat_*` benches (CrossMAE on the 469 real EuroSAT-MS patches): the data with `BandNorm`
fitted on the training split, the ImageCrossMAE of chapter 03's EuroSAT study, pretraining with a chosen reconstruction
target, ridge probes with the penalty by CV on the training rows, a two-block ridge (band statistics + encoder features,
the encoder block's weight and the penalty chosen by CV on the labelled rows), the same two blocks in a logistic regression
(`block_logistic`; both share `block_cv`, `cv_score` and `block_test`, only the model path and the folds differ),
stratified label fractions, and the supervised runs (fine-tune, CNN from scratch) with a fixed budget of optimiser steps.

Not a script: `eurosat_target.py`, `eurosat_labels.py` and `eurosat_lowlabel.py` import it.
"""
import sys, time, math
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch
from torch import nn
import torch.nn.functional as F
from common import seed_everything
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
from fastai.callback.schedule import *  # noqa: fit_one_cycle
from patchssl.geodata import load_eurosat_ms, BandNorm
from patchssl.crossmae import ImageCrossMAE, crossmae_learner, encode_features, CrossMaskingCallback
from patchssl.transfer import ridge_probe, RIDGE_ALPHAS, save_checkpoint, load_checkpoint

DATA = Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms'
CACHE = Path('/tmp/eurosat_cache')
T = lambda v: torch.as_tensor(v)

class EuroSAT:
    "The subset, `BandNorm('dataset')` fitted on the training patches only, the normalised images and the 26 band statistics."
    def __init__(self, path=DATA):
        es = load_eurosat_ms(path, tensors=False)
        self.tr, self.te = ~es['is_test'], es['is_test']
        self.y, self.ytr, self.yte = es['y'], es['y'][self.tr], es['y'][self.te]
        self.norm = BandNorm('dataset').fit(es['x'][self.tr])
        self.x = self.norm(es['x'])
        self.stats = self.norm.stats(es['x'])

def new_model(): return ImageCrossMAE(13, 64, patch_size=8, decoder='cross', kept_mask_ratio=0.25, cls_token=True)

# ----- reconstruction targets ---------------------------------------------------------------------------------------
TARGETS = ('pixels', 'band means', 'blur', 'pixels - patch mean')

def make_target(target:str, patches:torch.Tensor, C:int=13, ps:int=8)->torch.Tensor:
    "Turn the pixel target `[B, T, C*ps*ps]` (channel-major inside a patch) into `target`, the same shape."
    if target == 'pixels': return patches
    B, Tn, _ = patches.shape
    p = patches.reshape(B, Tn, C, ps, ps)
    if target == 'band means': q = p.mean((-2, -1), keepdim=True).expand_as(p)
    elif target == 'pixels - patch mean': q = p - p.mean((-2, -1), keepdim=True)
    elif target == 'blur':  # means of 4x4 blocks: each patch kept as a 2x2 grid of band means
        q = p.reshape(B, Tn, C, 2, ps // 2, 2, ps // 2).mean((-3, -1), keepdim=True).expand(B, Tn, C, 2, ps // 2, 2, ps // 2)
    else: raise ValueError(f"target={target!r} is not one of {TARGETS}")
    return q.reshape(B, Tn, -1).contiguous()

class TargetCallback(Callback):
    "After the masking callback: replace the pixel target by `make_target(target, ...)` (the loss and the masks are unchanged)."
    order = CrossMaskingCallback.order + 1
    def __init__(self, target): self.target = target
    def before_batch(self):
        t, pred = self.learn.yb
        self.learn.yb = (make_target(self.target, t), pred)

# ----- probes ---------------------------------------------------------------------------------------------------------
def features(model, x):
    "Frozen features of every image: CLS + mean of the patch tokens, and mean + std of the patch tokens."
    t = encode_features(model, x, False, bs=128)  # [n, 1 + T, D]: CLS first
    cls, p = t[:, 0], t[:, 1:]
    return {'cls+mean': torch.cat([cls, p.mean(1)], 1).numpy(), 'mean+std': torch.cat([p.mean(1), p.std(1)], 1).numpy()}

def ridge(ftr, ytr, fte, yte):
    "Ridge probe, penalty by 5-fold CV on the training rows: (test accuracy, penalty)."
    r = ridge_probe(T(ftr).double(), T(ytr), T(fte).double(), T(yte), RIDGE_ALPHAS)
    return r['accuracy'], r['alpha']

def cv_acc(f, yy, k=5, seed=0):
    "k-fold CV accuracy of the ridge probe (penalty by inner CV) on training rows only."
    folds = np.random.default_rng(seed).permutation(len(f)) % k
    return float(np.mean([ridge_probe(T(f[folds != i]), T(yy[folds != i]), T(f[folds == i]), T(yy[folds == i]), RIDGE_ALPHAS)['accuracy']
                          for i in range(k)]))

def logistic(ftr, ytr, fte, yte, lams=(1e-3, 1e-2, 1e-1), k=3):
    "Multinomial logistic regression on standardised features (L-BFGS), the L2 penalty from `lams` by k-fold CV on the training rows."
    def fit(Xa, ya, lam):
        mu, sd = Xa.mean(0), Xa.std(0) + 1e-6
        Z = torch.cat([(Xa - mu) / sd, torch.ones(len(Xa), 1, dtype=Xa.dtype)], 1)
        W = torch.zeros(Z.shape[1], 10, dtype=Xa.dtype, requires_grad=True)
        opt = torch.optim.LBFGS([W], lr=1, max_iter=200, line_search_fn='strong_wolfe')
        def closure():
            opt.zero_grad(); l = F.cross_entropy(Z @ W, ya) + lam * W[:-1].pow(2).sum(); l.backward(); return l
        opt.step(closure)
        return lambda Xb: (torch.cat([(Xb - mu) / sd, torch.ones(len(Xb), 1, dtype=Xb.dtype)], 1) @ W).argmax(1)
    Xtr, Xte = torch.as_tensor(np.asarray(ftr), dtype=torch.float64), torch.as_tensor(np.asarray(fte), dtype=torch.float64)
    yt = torch.as_tensor(ytr)
    folds = torch.as_tensor(np.random.default_rng(0).permutation(len(Xtr)) % k)
    cv = [np.mean([(fit(Xtr[folds != f], yt[folds != f], lam)(Xtr[folds == f]) == yt[folds == f]).double().mean().item() for f in range(k)]) for lam in lams]
    return float((fit(Xtr, yt, lams[int(np.argmax(cv))])(Xte).numpy() == yte).mean())

WEIGHTS = (0., 0.05, 0.1, 0.2, 0.5, 1.)

def _zfit(a): mu, sd = a.mean(0), a.std(0) + 1e-6; return lambda b: (b - mu) / sd

def _solve(Z, Y, alpha):
    A = np.c_[Z, np.ones(len(Z))]
    P = np.eye(A.shape[1]) * alpha; P[-1, -1] = 0
    return np.linalg.solve(A.T @ A + P, A.T @ Y)

def stratified_folds(y, k, seed):
    """Fold ids (0..k-1) with every class spread over the folds as evenly as its count allows (a random offset per class).
    Not sklearn's `StratifiedKFold(k, shuffle=True)`: that refuses when every class has fewer than k members, which is
    the 5 % split here (2 labelled patches per class); these folds leave some folds without a class instead."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), int)
    for c in np.unique(y):
        ic = rng.permutation(np.nonzero(y == c)[0])
        folds[ic] = (rng.integers(k) + np.arange(len(ic))) % k
    return folds

def _design(Sa, Ea, Sb, Eb, w):
    "[band stats, w * encoder block], each block standardised on the rows `a`; w = 0: the statistics alone."
    zs, ze = _zfit(Sa), _zfit(Ea)
    if w == 0: return zs(Sa), zs(Sb)
    return np.c_[zs(Sa), w * ze(Ea)], np.c_[zs(Sb), w * ze(Eb)]

N_CLASSES = 10

def _ridge_path(alphas):
    "Model path of `block_ridge`: one closed-form ridge on one-hot targets per penalty (a predict function each)."
    def path(Za, ya):
        Y = np.eye(N_CLASSES)[ya]
        for al in alphas:
            W = _solve(Za, Y, al)
            yield lambda Zb, W=W: (np.c_[Zb, np.ones(len(Zb))] @ W).argmax(1)
    return path

def _logistic_path(Cs):
    """Model path of `block_logistic`: one model per C, from the strongest penalty up, each warm-started from the previous
    one (one model object: use each predict function before drawing the next)."""
    def path(Za, ya):
        import warnings
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits
        m = LogisticRegression(max_iter=500, warm_start=True)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter('ignore')  # lbfgs convergence warnings at weak penalties on tiny folds
            for C in Cs: yield m.set_params(C=C).fit(Za, ya).predict
    return path

def _folds(family, y, k, r):
    "Fold ids of repeat r: unstratified for ridge (a permutation mod k), stratified for logistic (as the committed tables)."
    return np.random.default_rng(r).permutation(len(y)) % k if family == 'ridge' else stratified_folds(y, k, r)

def _path(family, pens):
    "The model path of `family` over the penalties `pens`."
    if family not in ('ridge', 'logistic'): raise ValueError(f"family={family!r} is not 'ridge' or 'logistic'")
    return _ridge_path(pens) if family == 'ridge' else _logistic_path(pens)

def block_cv(S_tr, E_tr, ytr, weights, pens, family, k=5, reps=3):
    """Repeated k-fold CV of the two-block probe on the labelled rows: `(correct, sizes)`, the correct predictions of every
    repeat, fold, weight and penalty `[reps, k, len(weights), len(pens)]` and the fold sizes `[reps, k]`. Only the model
    path and the folds depend on `family` ('ridge' or 'logistic')."""
    path, k = _path(family, pens), min(k, len(ytr))
    correct, sizes = np.zeros((reps, k, len(weights), len(pens))), np.zeros((reps, k))
    for r in range(reps):
        folds = _folds(family, ytr, k, r)
        for f in range(k):
            va = folds == f
            sizes[r, f] = va.sum()
            if not va.any(): continue
            for i, w in enumerate(weights):
                Za, Zb = _design(S_tr[~va], E_tr[~va], S_tr[va], E_tr[va], w)
                for j, pred in enumerate(path(Za, ytr[~va])): correct[r, f, i, j] = (pred(Zb) == ytr[va]).sum()
    return correct, sizes

def cv_score(correct, sizes, family):
    """CV accuracy of every (weight, penalty) `[W, P]` from `block_cv`: for ridge the mean of the folds' accuracies, for
    logistic the pooled accuracy over all held-out rows, summed fold by fold in the committed tables' order (so their
    first-of-ties choices are reproduced exactly)."""
    reps, k = sizes.shape
    s = np.zeros(correct.shape[2:])
    for r in range(reps):
        for f in range(k):
            if sizes[r, f] == 0: continue
            s += correct[r, f] / sizes[r, f] / (k * reps) if family == 'ridge' else correct[r, f] / (sizes[r].sum() * reps)
    return s

def block_test(S_tr, E_tr, ytr, S_te, E_te, yte, w, pens, family):
    "Test accuracy of the two-block probe fitted on all labelled rows at weight w, for every penalty in `pens`."
    Za, Zb = _design(S_tr, E_tr, S_te, E_te, w)
    return np.array([(pred(Zb) == yte).mean() for pred in _path(family, pens)(Za, ytr)])

def _block(S_tr, E_tr, ytr, S_te, E_te, yte, weights, pens, family, k, reps):
    "CV over (w, penalty) with `block_cv`, first of ties (the smallest w, then the first penalty); (test acc, w, penalty, cv acc)."
    if E_tr is None: E_tr, E_te, weights = np.zeros((len(S_tr), 1)), np.zeros((len(S_te), 1)), (0.,)
    if len(S_tr) != len(ytr) or len(E_tr) != len(ytr):
        raise ValueError(f"block_{family}: {len(S_tr)} statistics rows, {len(E_tr)} encoder rows and {len(ytr)} labels; "
                         "pass the same labelled rows to all three")
    score = cv_score(*block_cv(S_tr, E_tr, ytr, weights, pens, family, k, reps), family)
    i, j = np.unravel_index(np.argmax(score), score.shape)
    acc = block_test(S_tr, E_tr, ytr, S_te, E_te, yte, weights[i], pens[:j + 1], family)[j]
    return float(acc), float(weights[i]), float(pens[j]), float(score[i, j])

def block_ridge(S_tr, E_tr, ytr, S_te, E_te, yte, weights=WEIGHTS, alphas=RIDGE_ALPHAS, k=5, reps=3):
    """Ridge on [band stats, w * encoder features], each block standardised on the labelled rows; `w` (0 = stats alone)
    and the penalty chosen together by repeated k-fold CV on the labelled rows (first of ties: the smallest weight, then
    the smallest penalty). Returns (test accuracy, w, alpha, cv accuracy)."""
    return _block(S_tr, E_tr, ytr, S_te, E_te, yte, weights, alphas, 'ridge', k, reps)

LOGISTIC_CS = (0.01, 0.03, 0.1, 0.3, 1., 3., 10.)

def block_logistic(S_tr, E_tr, ytr, S_te, E_te, yte, weights=WEIGHTS, Cs=LOGISTIC_CS, k=5, reps=3):
    """Multinomial logistic regression (L2, lbfgs) on [band stats, w * encoder features], each block standardised on the
    labelled rows; `w` (0 = stats alone) and the inverse penalty `C` chosen together by repeated stratified k-fold CV on the
    labelled rows (first of ties: the smallest w, then the strongest penalty). `E_tr=None`: the statistics alone (w = 0).
    Returns (test accuracy, w, C, cv accuracy)."""
    return _block(S_tr, E_tr, ytr, S_te, E_te, yte, weights, Cs, 'logistic', k, reps)

# ----- pretraining ----------------------------------------------------------------------------------------------------
def pretrain(d:EuroSAT, target:str, seed:int, epochs:int, probe_at=(), on_probe=None, cache=CACHE):
    "Pretrain on the training patches (no labels) with `target`; `on_probe(model, epoch, seconds)` at the epochs `probe_at` (0 = before)."
    seed_everything(seed)
    model = new_model()
    ds = [(torch.from_numpy(v),) for v in d.x[d.tr]]
    dls = DataLoaders(DataLoader(ds, bs=32, shuffle=True, drop_last=True), DataLoader(ds[:64], bs=64), device='cpu')
    learn = crossmae_learner(dls, model, 0.75, cbs=[TargetCallback(target)])
    t0 = time.time()
    class Probe(Callback):
        order = 90
        def after_epoch(self):
            if self.epoch + 1 in probe_at and on_probe: on_probe(model, self.epoch + 1, time.time() - t0)
    if 0 in probe_at and on_probe: on_probe(model, 0, 0.)
    learn.add_cb(Probe())
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 1e-3)
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
        save_checkpoint(Path(cache)/f'{target}_{seed}_{epochs}.pt', model, epoch=epochs,
                        extra=dict(target=target, seed=seed, final_loss=float(learn.recorder.losses[-1])))
    return model

def cached_encoder(d:EuroSAT, target:str, seed:int, epochs:int, cache=CACHE):
    "The model pretrained with `target` for `epochs` (from the cache, pretrained there if missing); `target=None`: untrained."
    if target is None: seed_everything(seed); return new_model()
    ck = Path(cache)/f'{target}_{seed}_{epochs}.pt'
    if not ck.exists(): return pretrain(d, target, seed, epochs, cache=cache)
    m = new_model(); m.load_state_dict(load_checkpoint(ck)['state_dict']); return m

# ----- labels -----------------------------------------------------------------------------------------------------------
def stratified(ytr, seed, frac):
    "Indices (into the training rows) of `frac` of the labelled training patches, every class at least once (as chapter 03's study)."
    rng = np.random.default_rng(1000 + seed)
    idx = []
    for c in np.unique(ytr):
        ic = np.nonzero(ytr == c)[0]
        idx.extend(rng.permutation(ic)[:max(1, round(frac * len(ic)))])
    return np.sort(np.array(idx))

class Dihedral(Callback):
    "Random flips and 90-degree rotations of each training batch."
    order = -1
    def before_batch(self):
        if not self.training: return
        x = self.xb[0]
        if torch.rand(()) < .5: x = x.flip(-1)
        self.learn.xb = (torch.rot90(x, int(torch.randint(4, ())), (-2, -1)), *self.xb[1:])

class Classifier(nn.Module):
    "An image encoder and a linear head on [CLS, mean of the patch tokens]."
    def __init__(self, enc, n_classes=10):
        super().__init__(); self.enc = enc; self.head = nn.Linear(2 * enc.d_model, n_classes)
    def forward(self, x):
        t, _ = self.enc(x)
        return self.head(torch.cat([t[:, 0], t[:, 1:].mean(1)], 1))

def small_cnn():
    "Three strided 3x3 convolutions (32, 64, 64) with batch norm, global average pooling, a linear head (about 57k weights)."
    return nn.Sequential(nn.Conv2d(13, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def train_supervised(model, xs, ys, xte, yte, lr, seed, steps, wd=0.01):
    "A fixed budget of `steps` optimiser steps (one-cycle), flips and rotations, batch min(32, n/2); the test accuracy."
    seed_everything(seed)
    bs = min(32, max(4, len(xs) // 2))
    ds = [(torch.from_numpy(xs[i]), torch.tensor(ys[i])) for i in range(len(xs))]
    epochs = max(1, math.ceil(steps / (len(ds) // bs)))
    dls = DataLoaders(DataLoader(ds, bs=bs, shuffle=True, drop_last=True), DataLoader(ds[:bs], bs=bs), device='cpu')
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), cbs=[Dihedral()], wd=wd)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
    model.eval()
    with torch.no_grad(): pred = torch.cat([model(torch.from_numpy(xte[i:i + 64])) for i in range(0, len(xte), 64)]).argmax(-1)
    return float((pred.numpy() == yte).mean())
