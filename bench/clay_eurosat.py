"""Real multispectral evidence for the Clay encoder: EuroSAT-MS (469 real Sentinel-2 13-band patches).

Pretrain a small ClayEncoder with MAE / DINO / both on the 375 training patches (real band wavelengths), then
linear-probe the 10 land-cover classes on the 94 test patches, against the same encoder untrained and a small
CNN trained end to end, in the same run. Then probe the pretrained encoder on band subsets (10 m bands = RGB+NIR,
RGB) without retraining the patch embedding.

    nice -n 15 python bench/clay_eurosat.py --threads 1 [--epochs 40]

`--quick`: one epoch, MAE only, a smaller encoder (D 32, 1 layer); give `--out DIR` to keep bench/results/ as it is.
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
from torch import nn
import torch.nn.functional as F
from common import parser, parse, write
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from patchssl.clay_ta import ClayEncoder, ClaySSL, ssl_learner, load_eurosat_ms, band_stats, clay_metadata, encode_images
from patchssl.evaluate import probe_accuracy
from patchssl.transfer import seed_everything

ap = parser(__doc__, seed=0)  # --threads, --seed, --name, --quick, --out
ap.add_argument('--data', default=str(Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms'))
ap.add_argument('--epochs', type=int, default=40)
ap.add_argument('--objectives', default='mae,dino,both')
ap.add_argument('--d_model', type=int, default=96)
ap.add_argument('--n_layers', type=int, default=3)
a = parse(ap)
if a.quick: a.epochs, a.objectives, a.d_model, a.n_layers = 1, 'mae', 32, 1
if not (Path(a.data)/'eurosat_ms_subset.npz').is_file(): sys.exit(f"EuroSAT-MS not found at {a.data}; pass --data")
es = load_eurosat_ms(a.data)
tr, te = ~es['is_test'], es['is_test']
mean, std = band_stats(es['x'][tr])
xs = (es['x'] - mean) / std
meta = clay_metadata(torch.full((len(xs),), 26.), torch.full((len(xs),), 10.5), es['lat'], es['lon'])  # acquisition dates are not in EuroSAT: a fixed mid-year morning
ytr, yte = es['y'][tr], es['y'][te]
names = es['band_names']
subsets = {'13 bands': list(range(13)), '10 m bands (B02 B03 B04 B08 = RGB+NIR)': [names.index(b) for b in ('B02', 'B03', 'B04', 'B08')],
           'RGB (B02 B03 B04)': [names.index(b) for b in ('B02', 'B03', 'B04')]}

def flipped(x, g):
    return torch.where((torch.rand(len(x), generator=g) < .5)[:, None, None, None], x.flip(-1), x)

def probe(enc, idx):
    f = encode_images(enc, xs[:, idx], es['waves'][idx], meta, es['gsd'])
    return probe_accuracy(f[tr], ytr, f[te], yte)

def new_encoder():
    seed_everything(a.seed)
    return ClayEncoder(8, a.d_model, 4, a.n_layers)

rows, t0 = [], time.time()
enc0 = new_encoder()
rows.append(dict(model='ClayEncoder, untrained', pretrain='none', **{k: probe(enc0, v) for k, v in subsets.items()}, seconds=0.))
ds = [(xs[i], meta[i], torch.tensor(0.)) for i in torch.nonzero(tr).flatten()]
for obj in a.objectives.split(','):
    enc = new_encoder()
    ssl = ClaySSL(enc, es['waves'], gsd=es['gsd'], objective=obj, decoder_dim=64)
    dls = DataLoaders(DataLoader(ds, bs=32, shuffle=True, drop_last=True), DataLoader(ds[:64], bs=64), device='cpu')
    learn = ssl_learner(dls, ssl)
    t = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, 1e-3 if obj == 'mae' else 5e-4)
    secs = time.time() - t
    rows.append(dict(model='ClayEncoder', pretrain=f'{obj}, {a.epochs} epochs', **{k: probe(enc, v) for k, v in subsets.items()}, seconds=round(secs, 1)))
    print(rows[-1], flush=True)

# a small CNN trained end to end on the 13 bands (supervised; the strongest simple baseline at this size)
seed_everything(a.seed)
cnn = nn.Sequential(nn.Conv2d(13, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                    nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
from fastai.callback.schedule import *  # noqa
g = torch.Generator().manual_seed(a.seed)
cds = [(xs[i], es['y'][i]) for i in torch.nonzero(tr).flatten()]
cl = Learner(DataLoaders(DataLoader(cds, bs=32, shuffle=True), DataLoader([(xs[i], es['y'][i]) for i in torch.nonzero(te).flatten()], bs=94), device='cpu'),
             cnn, loss_func=CrossEntropyLossFlat())
t = time.time()
with cl.no_bar(), cl.no_logging(): cl.fit_one_cycle(a.epochs, 3e-3)
cnn.eval()
with torch.no_grad(): acc = float((cnn(xs[te]).argmax(-1) == yte).float().mean())
rows.append(dict(model='small CNN (supervised, end to end)', pretrain='none', **{'13 bands': acc}, seconds=round(time.time() - t, 1)))

import pandas as pd
from common import md_table
df = pd.DataFrame(rows).fillna('-')
table = (f"EuroSAT-MS subset: {int(tr.sum())} train / {int(te.sum())} test real Sentinel-2 patches, 10 classes (chance 0.10). "
         f"Encoder: ClayEncoder(patch 8, D {a.d_model}, {a.n_layers} layers, 4 heads); linear probe = standardised logistic "
         f"regression on frozen [CLS, mean token] features. Band-subset columns: the same frozen encoder, patch embedding not "
         f"retrained, probe fitted on the subset's features.\n\n" + md_table(df))
write(a.name, dict(options=vars(a), rows=rows, total_seconds=round(time.time() - t0, 1)), table, out=a.out)
