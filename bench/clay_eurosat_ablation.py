"""Why does a pretrained Clay encoder's probe lose to band statistics on real EuroSAT-MS? Ablations, one run per seed.

EuroSAT classes are largely spectral: logistic regression on each band's mean and standard deviation reaches about 0.83.
This bench asks whether the encoder sees the absolute spectrum and whether the probe is the limit:

- input normalisation: per dataset (training images' band statistics) or per image (each image's own, which removes the
  band levels);
- MAE target: Clay's per-patch normalised pixels (`norm_pix_loss=True`) or the pixels as given (`False`);
- pooling of the frozen features: CLS, mean patch token, both; and the image's band statistics fed back beside them;
- the probe along pretraining (after 0, 5, 10, 20, ... epochs).

Probes: closed-form ridge classifier on standardised features with the penalty chosen by 5-fold CV on the training images
(`patchssl.transfer.ridge_probe`), and at the end (CLS + mean token) logistic regression with C chosen by 5-fold CV on the training images.
Nothing is chosen on the 94 test images.

    nice -n 10 python bench/clay_eurosat_ablation.py --threads 1
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from torch.utils.data import TensorDataset
from common import parser, parse, write, md_table
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.callback.core import Callback
from fastai.callback.schedule import *  # noqa
from patchssl.clay_ta import ClayEncoder, ClaySSL, ssl_learner, load_eurosat_ms, band_stats, clay_metadata, encode_images
from patchssl.transfer import seed_everything, ridge_probe, RIDGE_ALPHAS

ap = parser(__doc__)
ap.add_argument('--data', default=str(Path(__file__).resolve().parents[2]/'shared/data/eurosat_ms'))
ap.add_argument('--epochs', type=int, default=20)
ap.add_argument('--d_model', type=int, default=64)
ap.add_argument('--n_layers', type=int, default=2)
ap.add_argument('--variants', default='dataset/pixels,dataset/patch,image/patch', help='input normalisation / MAE target')
a = parse(ap)
if a.quick: a.epochs = 2
if not (Path(a.data)/'eurosat_ms_subset.npz').is_file(): sys.exit(f"EuroSAT-MS not found at {a.data}; pass --data")
es = load_eurosat_ms(a.data)
tr, te = ~es['is_test'], es['is_test']
ytr, yte = es['y'][tr], es['y'][te]
raw = es['x']
meta = clay_metadata(torch.full((len(raw),), 26.), torch.full((len(raw),), 10.5), es['lat'], es['lon'])
ALPHAS = RIDGE_ALPHAS + (1e4,)

def normalise(x, mode):
    "'dataset': z-score each band with the TRAINING images' statistics; 'image': with each image's own (band levels removed)."
    if mode == 'dataset': m, s = band_stats(x[tr]); return (x - m) / s
    return (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True).clamp_min(1e-6)

def image_stats(x):
    "Each image's band means and standard deviations `[N, 2C]`, the features of the band-statistics baseline."
    return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

STATS = image_stats(raw)
def ridge(F): return ridge_probe(F[tr], ytr, F[te], yte, alpha=ALPHAS)['accuracy']
def logistic(F):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    clf = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=[0.01, 0.1, 1., 10.], cv=5, max_iter=3000)).fit(F[tr].numpy(), ytr.numpy())
    return float((clf.predict(F[te].numpy()) == yte.numpy()).mean())

rows, curve, t0 = [], [], time.time()
rows.append(dict(seed='-', input='raw reflectance', target='-', epochs=0, features='band statistics only (mean, sd per band)',
                 ridge=ridge(STATS), logistic=logistic(STATS)))
print(rows[-1], flush=True)

class Curve(Callback):
    order = 90
    def __init__(self, enc, x, tag, at): self.enc, self.x, self.tag, self.at = enc, x, tag, at
    def after_epoch(self):
        if self.epoch + 1 in self.at: log_curve(self.enc, self.x, self.tag, self.epoch + 1); self.enc.train()

def log_curve(enc, x, tag, ep):
    F = encode_images(enc, x, es['waves'], meta, es['gsd'])
    curve.append(dict(**tag, epoch=ep, encoder=ridge(F), encoder_stats=ridge(torch.cat([F, STATS], 1))))
    print(curve[-1], flush=True)

at = sorted({e for e in (1, 2, 5, 10, 20, 30, 40, 60, a.epochs) if e <= a.epochs})
for seed in a.seeds:
    for v in a.variants.split(','):
        norm, target = v.split('/')
        x = normalise(raw, norm)
        tag = dict(seed=seed, input=norm, target=target)
        seed_everything(seed); enc = ClayEncoder(8, a.d_model, 4, a.n_layers)
        log_curve(enc, x, tag, 0)
        ssl = ClaySSL(enc, es['waves'], gsd=es['gsd'], objective='mae', decoder_dim=64, norm_pix_loss=(target == 'patch'))
        ds = TensorDataset(x[tr], meta[tr], torch.zeros(int(tr.sum())))
        dls = DataLoaders(DataLoader(ds, bs=32, shuffle=True, drop_last=True), DataLoader(TensorDataset(x[tr][:64], meta[tr][:64], torch.zeros(64)), bs=64), device='cpu')
        learn = ssl_learner(dls, ssl, cbs=[Curve(enc, x, tag, at)])
        t = time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, 1e-3)
        secs = time.time() - t
        for pool in ('cls', 'mean', 'both'):
            F = encode_images(enc, x, es['waves'], meta, es['gsd'], pool=pool)
            for extra, FF in (('', F), (' + band statistics', torch.cat([F, STATS], 1))):
                rows.append(dict(seed=seed, input=norm, target=target, epochs=a.epochs, features=f'{pool}{extra}', ridge=ridge(FF),
                                 logistic=logistic(FF) if pool == 'both' else float('nan')))
                print(rows[-1], flush=True)
        rows[-1]['pretrain_seconds'] = round(secs, 1)

df = pd.DataFrame(rows).drop(columns=['pretrain_seconds'], errors='ignore').fillna('-')
cv = pd.DataFrame(curve)
table = (f"EuroSAT-MS subset: {int(tr.sum())} train / {int(te.sum())} test real Sentinel-2 patches, 10 classes. ClayEncoder(patch 8, "
         f"D {a.d_model}, {a.n_layers} layers) pretrained with MAE for {a.epochs} epochs on the training images. Test accuracy; "
         f"`ridge`: ridge classifier, `logistic`: logistic regression, each with its penalty by 5-fold CV on the training images. "
         f"`input`: band normalisation of the encoder's input (per dataset with training statistics, or per image); `target`: "
         f"MAE target (per-patch normalised or the pixels as given).\n\n" + md_table(df) +
         "\n\nRidge-probe test accuracy along pretraining (`encoder`: [CLS, mean token]; `encoder_stats`: the same + band statistics):\n\n" + md_table(cv))
write(a.name, dict(options=vars(a), rows=rows, curve=curve, total_seconds=round(time.time() - t0, 1)), table, out=a.out)
