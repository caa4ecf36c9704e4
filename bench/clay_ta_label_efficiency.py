"""Does pretraining the Clay encoder pay on the air-temperature (TA) task when labels are few? Synthetic GK-2A-like data.

For each seed: pretrain a small ClayEncoder with MAE on the unlabelled training patches (16 spectral channels, GK-2A
wavelengths, gsd 2 km), once with Clay's per-patch normalised target (`norm_pix_loss=True`) and once with the pixels as
given (`norm_pix_loss=False`: the chunks are already z-scored per dataset, so the target keeps each band's level). After
every pretraining epoch a closed-form ridge probe (penalty by 5-fold CV on the training rows) on the frozen features +
the head's auxiliary inputs records the validation RMSE (the probe-vs-epochs curve). Then the TA head of chapter 06
(frozen encoder, then briefly unfrozen at lr/10) is trained at 5, 10, 25 and 100% of the labelled training rows on
(a) the untrained encoder with the same initialisation, (b) each pretrained encoder; gradient boosting on the
centre-pixel features is the reference. Every fraction gets the same number of optimiser steps. Hyperparameters are
fixed in advance; test RMSE is reported, nothing is chosen on it.

    nice -n 10 python bench/clay_ta_label_efficiency.py --threads 1 --seeds 3
"""
import json, sys, tempfile, time, math
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from torch.utils.data import TensorDataset
from common import parser, parse, write, md_table
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback
from fastai.callback.schedule import *  # noqa
from patchssl.clay_ta import (make_synthetic_gk2a, build_index, build_patches, chunk_files, read_chunk, ClayEncoder, ClaySSL,
                              ssl_learner, ClayTA, ta_learner, evaluate_ta, ta_metadata, BT_WAVES_UM, RF_WAVES_UM)
from patchssl.transfer import seed_everything, ridge_probe, RIDGE_ALPHAS

ap = parser(__doc__, seeds='3')
ap.add_argument('--days', type=int, default=40)
ap.add_argument('--stations', type=int, default=40)
ap.add_argument('--pre_epochs', type=int, default=15)
ap.add_argument('--probe_steps', type=int, default=400, help='optimiser steps with the encoder frozen, at every label fraction')
ap.add_argument('--unfreeze_steps', type=int, default=100, help='optimiser steps with every layer training, at lr/10')
ap.add_argument('--bs', type=int, default=64)
ap.add_argument('--d_model', type=int, default=64)
ap.add_argument('--n_layers', type=int, default=2)
ap.add_argument('--fractions', default='0.05,0.1,0.25,1')
ap.add_argument('--variants', default='patch,pixels', help='MAE targets: patch (norm_pix_loss=True), pixels (False)')
a = parse(ap)
if a.quick: a.days, a.stations, a.pre_epochs, a.probe_steps, a.unfreeze_steps = 12, 16, 2, 30, 10
fractions = [float(f) for f in a.fractions.split(',')]
t0 = time.time()
tmp = Path(tempfile.mkdtemp())
root = make_synthetic_gk2a(tmp/'data', n_days=a.days, n_stations=a.stations, size=48, seed=0)
d0 = pd.Timestamp('2022-01-01')
build_index(root, tmp/'index', str(d0 + pd.Timedelta(days=int(a.days * .7))), str(d0 + pd.Timedelta(days=int(a.days * .85))))
man = build_patches(tmp/'index', root/'static.npz', tmp/'pt', chunk_rows=2048, workers=1)
stats = json.loads((tmp/'pt/stats.json').read_text())
print('rows', man['rows'], flush=True)
KEYS = ('x', 'time7', 'loc', 'landcover_onehot', 'y')
def load(split):
    ds = [read_chunk(f) for f in chunk_files(tmp/'pt', split)]
    return [torch.cat([d[k] for d in ds]) for k in KEYS]
D = {s: load(s) for s in ('train', 'val', 'test')}
waves = BT_WAVES_UM + RF_WAVES_UM
n_tr = len(D['train'][-1])

def new_encoder(seed):
    seed_everything(seed); return ClayEncoder(2, a.d_model, 4, a.n_layers)

def aux(S):
    "The head's auxiliary inputs (as ClayTA builds them), for the ridge probe."
    x, t7, loc, lc, _ = S; other = x[:, 16:]
    return torch.cat([other[:, :, 4, 4], other.mean((2, 3)), t7, (loc - loc.new_tensor([36., 128., 0.])) / loc.new_tensor([5., 5., 1e4]), lc], 1)

@torch.no_grad()
def feats(enc, S):
    enc.eval(); m = ClayTA(enc)
    out = [enc.features(m.spectral(S[0][i:i + 1024]), waves, ta_metadata(S[1][i:i + 1024], S[2][i:i + 1024]), 2000.) for i in range(0, len(S[0]), 1024)]
    return torch.cat([torch.cat(out), aux(S)], 1)

def ridge_rmse(enc, sub, F=None):
    "Validation and test RMSE (K) of a ridge probe on [frozen features, aux] fitted on the training rows `sub`."
    F = F or {s: feats(enc, D[s]) for s in ('train', 'val', 'test')}
    ytr = D['train'][-1][sub]
    al = __import__('patchssl.transfer', fromlist=['ridge_cv_alpha']).ridge_cv_alpha(F['train'][sub], ytr)
    r = {s: math.sqrt(ridge_probe(F['train'][sub], ytr, F[s], D[s][-1], alpha=al)['mse']) * stats['ta_std'] for s in ('val', 'test')}
    return r['val'], r['test']

def subset(seed, frac):
    return torch.from_numpy(np.sort(np.random.default_rng(1000 + seed).permutation(n_tr)[:max(int(round(frac * n_tr)), a.bs)]))

class ProbeCurve(Callback):
    "After every pretraining epoch: ridge-probe validation RMSE at 5% and 100% of the labels."
    order = 90
    def __init__(self, enc, subs, log): self.enc, self.subs, self.log = enc, subs, log
    def after_epoch(self):
        F = {s: feats(self.enc, D[s]) for s in ('train', 'val', 'test')}
        for f, s in self.subs.items():
            v, t = ridge_rmse(self.enc, s, F); self.log.append(dict(epoch=self.epoch + 1, fraction=f, val_rmse_K=v, test_rmse_K=t))
        self.enc.train()

def pretrain(seed, variant, curve):
    enc = new_encoder(seed)
    ssl = ClaySSL(enc, waves, gsd=2000., objective='mae', decoder_dim=64, norm_pix_loss=(variant == 'patch'))
    spec = ClayTA(enc).spectral
    x = spec(D['train'][0]); m = ta_metadata(D['train'][1], D['train'][2])
    pre = TensorDataset(x, m, torch.zeros(len(x)))
    dls = DataLoaders(DataLoader(pre, bs=128, shuffle=True, drop_last=True), DataLoader(TensorDataset(x[:256], m[:256], torch.zeros(256)), bs=256), device='cpu')
    subs = {f: subset(seed, f) for f in (min(fractions), 1.)}
    for f, s in subs.items():
        v, t = ridge_rmse(enc, s); curve.append(dict(seed=seed, variant=variant, epoch=0, fraction=f, val_rmse_K=v, test_rmse_K=t))
    log = []
    learn = ssl_learner(dls, ssl, cbs=[ProbeCurve(enc, subs, log)])
    tt = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.pre_epochs, 1e-3)
    curve += [dict(seed=seed, variant=variant, **r) for r in log]
    return enc, time.time() - tt

def train_head(enc, seed, sub):
    "Chapter 06's recipe: head on the frozen encoder, then every layer at lr/10; the same optimiser steps at every fraction."
    seed_everything(seed)
    model = ClayTA(enc)
    tr = TensorDataset(*[t[sub] for t in D['train']])
    va = TensorDataset(*[t[:512] for t in D['val']])
    dls = DataLoaders(DataLoader(tr, bs=a.bs, shuffle=True, drop_last=True), DataLoader(va, bs=512), device='cpu')
    spe = max(len(sub) // a.bs, 1)
    learn = ta_learner(dls, model, stats['ta_std'])
    test = lambda: evaluate_ta(model, DataLoader(TensorDataset(*D['test']), bs=1024), stats['ta_std'])['rmse_K']
    with learn.no_bar(), learn.no_logging():
        learn.linear_probe(max(1, round(a.probe_steps / spe)), 3e-3)
        frozen = test()
        learn.fine_tune_pretrained(max(1, round(a.unfreeze_steps / spe)), 3e-3, freeze_epochs=0, lr_div=10)
    return frozen, test()

rows, curve = [], []
for seed in a.seeds:
    encs = {'untrained': (new_encoder(seed), 0.)}
    for v in a.variants.split(','):
        encs[f'MAE, {v} target'] = pretrain(seed, v, curve)
        print(seed, v, 'pretrained', round(encs[f'MAE, {v} target'][1]), 's', flush=True)
    for frac in fractions:
        sub = subset(seed, frac)
        for name, (enc, secs) in encs.items():
            e = __import__('copy').deepcopy(enc)
            fz, ft = train_head(e, seed, sub)
            rows.append(dict(seed=seed, fraction=frac, rows=len(sub), encoder=name, frozen_rmse_K=fz, finetuned_rmse_K=ft))
            print(rows[-1], flush=True)
        from sklearn.ensemble import HistGradientBoostingRegressor
        cen = lambda S, idx=None: torch.cat([S[0][:, :, 4, 4], S[1], S[2][:, :2], S[3]], 1).numpy()
        gb = HistGradientBoostingRegressor(max_iter=300, random_state=seed).fit(cen(D['train'])[sub.numpy()], D['train'][-1][sub].numpy())
        rn = float(np.sqrt(((gb.predict(cen(D['test'])) - D['test'][-1].numpy()) ** 2).mean()))
        rows.append(dict(seed=seed, fraction=frac, rows=len(sub), encoder='gradient boosting, centre pixel', frozen_rmse_K=float('nan'), finetuned_rmse_K=rn * stats['ta_std']))

df = pd.DataFrame(rows)
g = df.groupby(['fraction', 'encoder'], sort=False)
summ = g[['frozen_rmse_K', 'finetuned_rmse_K']].agg(['mean', 'std']).reset_index()
fmt = lambda m, s: '-' if m != m else f'{m:.3f} ± {s:.3f}'
tab = pd.DataFrame(dict(fraction=summ['fraction'], encoder=summ['encoder'],
                        frozen=[fmt(m, s) for m, s in zip(summ[('frozen_rmse_K', 'mean')], summ[('frozen_rmse_K', 'std')])],
                        finetuned=[fmt(m, s) for m, s in zip(summ[('finetuned_rmse_K', 'mean')], summ[('finetuned_rmse_K', 'std')])]))
cv = pd.DataFrame(curve)
cvt = cv.groupby(['variant', 'fraction', 'epoch'])['val_rmse_K'].agg(['mean', 'std']).reset_index()
cvt = cvt[cvt.epoch.isin(sorted(set([0, 1, 2, 5, 10, a.pre_epochs])))]
table = (f"SYNTHETIC GK-2A-like data ({a.days} days, {a.stations} stations): patch rows {man['rows']}; TA std {stats['ta_std']:.2f} K. "
         f"ClayEncoder(patch 2, D {a.d_model}, {a.n_layers} layers), MAE pretraining {a.pre_epochs} epochs on all training patches (no labels). "
         f"TA head: {a.probe_steps} steps frozen (`frozen`), then {a.unfreeze_steps} steps unfrozen at lr/10 (`finetuned`), batch {a.bs}, at every fraction. "
         f"Test RMSE in kelvin, mean ± sd over seeds {a.seeds} (seed = encoder initialisation, label subset, head).\n\n" + md_table(tab) +
         "\n\nRidge probe on [frozen features, auxiliary inputs] during pretraining (penalty by 5-fold CV on the training rows): "
         "validation RMSE (K), mean and sd over the seeds.\n\n" + md_table(cvt))
write(a.name, dict(options=vars(a), rows=rows, curve=curve, patch_rows=man['rows'], ta_std=stats['ta_std'], total_seconds=round(time.time() - t0, 1)), table, out=a.out)
