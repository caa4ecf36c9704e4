"""Does MAE / DINO pretraining of the Clay encoder help TA regression? Synthetic GK-2A-like data, one run.

Builds synthetic files, the index and the patch chunks, pretrains a small ClayEncoder on the training patches'
16 spectral channels (GK-2A wavelengths, gsd 2 km) with MAE, DINO and both, then trains the TA head on each
(frozen, then briefly unfrozen at lr/10) and compares test RMSE with: the same encoder untrained, a small CNN
trained end to end on all 19 channels + the auxiliary inputs, scikit-learn gradient boosting on the centre-pixel
features, and the training mean.

    nice -n 15 python bench/clay_ta_compare.py --threads 1

`--quick`: 12 days, 16 stations, one epoch of every training phase.
"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from torch import nn
from common import parser, parse, write, md_table
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.callback.schedule import *  # noqa
from patchssl.clay_ta import (make_synthetic_gk2a, build_index, build_patches, chunk_files, read_chunk, ChunkLoader, ClayEncoder,
                              ClaySSL, ssl_learner, ClayTA, ta_learner, evaluate_ta, ta_metadata, BT_WAVES_UM, RF_WAVES_UM, N_LANDCOVER)
from patchssl.transfer import seed_everything

ap = parser(__doc__, seed=0)  # --threads, --seed, --name, --quick, --out
ap.add_argument('--days', type=int, default=40)
ap.add_argument('--stations', type=int, default=40)
ap.add_argument('--pre_epochs', type=int, default=15)
ap.add_argument('--probe_epochs', type=int, default=6)
ap.add_argument('--unfreeze_epochs', type=int, default=2)
ap.add_argument('--d_model', type=int, default=64)
ap.add_argument('--n_layers', type=int, default=2)
a = parse(ap)
if a.quick: a.days, a.stations, a.pre_epochs, a.probe_epochs, a.unfreeze_epochs = 12, 16, 1, 1, 1
t0 = time.time()
tmp = Path(tempfile.mkdtemp())
root = make_synthetic_gk2a(tmp/'data', n_days=a.days, n_stations=a.stations, size=48, seed=a.seed)
d = pd.Timestamp('2022-01-01')
idx = build_index(root, tmp/'index', str(d + pd.Timedelta(days=int(a.days * .7))), str(d + pd.Timedelta(days=int(a.days * .85))))
man = build_patches(tmp/'index', root/'static.npz', tmp/'pt', chunk_rows=2048, workers=2)
stats = json.loads((tmp/'pt/stats.json').read_text())
print('rows', man['rows'], 'dropped', man['dropped'], flush=True)
def load(split):
    ds = [read_chunk(f) for f in chunk_files(tmp/'pt', split)]
    return {k: torch.cat([d_[k] for d_ in ds]) for k in ('x', 'time7', 'loc', 'landcover_onehot', 'y')}
D = {s: load(s) for s in ('train', 'val', 'test')}
waves = BT_WAVES_UM + RF_WAVES_UM
def dls_of(bs=256):
    return DataLoaders(ChunkLoader(chunk_files(tmp/'pt', 'train'), bs, seed=a.seed), ChunkLoader(chunk_files(tmp/'pt', 'val'), 1024, shuffle=False), device='cpu')
test_dl = lambda: ChunkLoader(chunk_files(tmp/'pt', 'test'), 1024, shuffle=False)

def new_encoder():
    seed_everything(a.seed); return ClayEncoder(2, a.d_model, 4, a.n_layers)

def train_ta(enc, name, secs_pre=0.):
    seed_everything(a.seed)
    model = ClayTA(enc)
    learn = ta_learner(dls_of(), model, stats['ta_std'])
    t = time.time()
    with learn.no_bar(), learn.no_logging():
        learn.linear_probe(a.probe_epochs, 3e-3)
        frozen = evaluate_ta(model, test_dl(), stats['ta_std'])
        if a.unfreeze_epochs: learn.fine_tune_pretrained(a.unfreeze_epochs, 3e-3, freeze_epochs=0, lr_div=10)
    r = evaluate_ta(model, test_dl(), stats['ta_std'])
    return dict(model=name, rmse_K_frozen=frozen['rmse_K'], rmse_K=r['rmse_K'], rmse_norm=r['rmse_norm'], seconds=round(secs_pre + time.time() - t, 1))

rows = []
rows.append(train_ta(new_encoder(), 'Clay encoder, no pretraining'))
print(rows[-1], flush=True)
spec = ClayTA(new_encoder()).spectral
pre = [(spec(D['train']['x'][i:i + 1])[0], ta_metadata(D['train']['time7'][i:i + 1], D['train']['loc'][i:i + 1])[0], torch.tensor(0.)) for i in range(len(D['train']['y']))]
for obj in ('mae', 'dino', 'both'):
    enc = new_encoder()
    ssl = ClaySSL(enc, waves, gsd=2000., objective=obj, decoder_dim=64)
    learn = ssl_learner(DataLoaders(DataLoader(pre, bs=128, shuffle=True, drop_last=True), DataLoader(pre[:256], bs=256), device='cpu'), ssl)
    t = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.pre_epochs, 1e-3 if obj == 'mae' else 5e-4)
    rows.append(train_ta(enc, f'Clay encoder, {obj} pretraining ({a.pre_epochs} epochs)', time.time() - t))
    print(rows[-1], flush=True)

class SmallCNN(nn.Module):
    "Conv net on all 19 channels + the auxiliary inputs (same head inputs as ClayTA)."
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(19, 32, 3, padding=1), nn.GELU(), nn.Conv2d(32, 64, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(64 + 7 + 3 + N_LANDCOVER, 64), nn.GELU(), nn.Linear(64, 1))
    def forward(self, x, time7, loc, lc):
        return self.head(torch.cat([self.conv(x), time7, (loc - loc.new_tensor([36., 128., 0.])) / loc.new_tensor([5., 5., 1e4]), lc], 1))[:, 0]
seed_everything(a.seed)
cnn = SmallCNN()
learn = Learner(dls_of(), cnn, loss_func=nn.MSELoss())
t = time.time()
with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.probe_epochs + a.unfreeze_epochs, 3e-3)
r = evaluate_ta(cnn, test_dl(), stats['ta_std'])
rows.append(dict(model='small CNN (end to end)', rmse_K_frozen=float('nan'), rmse_K=r['rmse_K'], rmse_norm=r['rmse_norm'], seconds=round(time.time() - t, 1)))

from sklearn.ensemble import HistGradientBoostingRegressor
def centre(S):
    return torch.cat([S['x'][:, :, 4, 4], S['time7'], S['loc'][:, :2], S['landcover_onehot']], 1).numpy()
t = time.time()
gb = HistGradientBoostingRegressor(max_iter=300, random_state=a.seed).fit(centre(D['train']), D['train']['y'].numpy())
rn = float(np.sqrt(((gb.predict(centre(D['test'])) - D['test']['y'].numpy()) ** 2).mean()))
rows.append(dict(model='gradient boosting, centre-pixel features (sklearn)', rmse_K_frozen=float('nan'), rmse_K=rn * stats['ta_std'], rmse_norm=rn, seconds=round(time.time() - t, 1)))
rn = float(D['test']['y'].pow(2).mean().sqrt())
rows.append(dict(model='training mean', rmse_K_frozen=float('nan'), rmse_K=rn * stats['ta_std'], rmse_norm=rn, seconds=0.))
df = pd.DataFrame(rows)
df['rmse_K_frozen'] = df['rmse_K_frozen'].map(lambda v: '-' if v != v else f'{v:.3f}')
table = (f"SYNTHETIC GK-2A-like data (make_synthetic_gk2a, {a.days} days, {a.stations} stations, 3-hourly files): "
         f"patch rows {man['rows']}, dropped {man['dropped']}; TA std {stats['ta_std']:.2f} K. ClayEncoder(patch 2, D {a.d_model}, "
         f"{a.n_layers} layers) on the 16 spectral channels; TA head {a.probe_epochs} epochs frozen (`rmse_K_frozen`), then "
         f"{a.unfreeze_epochs} unfrozen at lr/10 (`rmse_K`). Test split; seconds include pretraining.\n\n" + md_table(df))
write(a.name, dict(options=vars(a), rows=rows, patch_rows=man['rows'], dropped=man['dropped'], ta_std=stats['ta_std'],
                              total_seconds=round(time.time() - t0, 1)), table, out=a.out)
