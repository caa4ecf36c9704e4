"""What does a linear probe need on the synthetic air-temperature (TA) task? Closed-form ridge, no training.

Chapter 06's label-efficiency bench found a ridge probe on an untrained encoder's features beating every trained TA head.
This bench asks where that comes from: ridge regression (penalty by 5-fold CV on the training rows) on the head's
auxiliary inputs alone, on those plus the centre pixel's 16 spectral channels or the patch means of the channels
(no network), and on those plus the frozen features of an untrained ClayEncoder (3 initialisations), at 5% and 100%
of the labelled training rows. Validation and test RMSE in kelvin.

    nice -n 10 python bench/clay_ta_linear.py --threads 1 --seeds 3

`--quick`: 12 days, 16 stations, the first seed only.
"""
import json, sys, tempfile, math
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from common import parser, parse, write, md_table
from patchssl.clay_ta import (make_synthetic_gk2a, build_index, build_patches, chunk_files, read_chunk, ClayEncoder, ClayTA, ta_metadata,
                              BT_WAVES_UM, RF_WAVES_UM)
from patchssl.transfer import seed_everything, ridge_probe, ridge_cv_alpha

ap = parser(__doc__, seeds='3')
ap.add_argument('--days', type=int, default=40)
ap.add_argument('--stations', type=int, default=40)
a = parse(ap)
if a.quick: a.days, a.stations, a.seeds = 12, 16, a.seeds[:1]
tmp = Path(tempfile.mkdtemp())
root = make_synthetic_gk2a(tmp/'data', n_days=a.days, n_stations=a.stations, size=48, seed=0)
d0 = pd.Timestamp('2022-01-01')
build_index(root, tmp/'index', str(d0 + pd.Timedelta(days=int(a.days * .7))), str(d0 + pd.Timedelta(days=int(a.days * .85))))
build_patches(tmp/'index', root/'static.npz', tmp/'pt', chunk_rows=2048, workers=1)
stats = json.loads((tmp/'pt/stats.json').read_text())
KEYS = ('x', 'time7', 'loc', 'landcover_onehot', 'y')
D = {s: [torch.cat([read_chunk(f)[k] for f in chunk_files(tmp/'pt', s)]) for k in KEYS] for s in ('train', 'val', 'test')}
n_tr = len(D['train'][-1])
def aux(S):
    x, t7, loc, lc, _ = S; o = x[:, 16:]
    return torch.cat([o[:, :, 4, 4], o.mean((2, 3)), t7, (loc - loc.new_tensor([36., 128., 0.])) / loc.new_tensor([5., 5., 1e4]), lc], 1)
@torch.no_grad()
def feats(enc, S):
    enc.eval(); spec = ClayTA(enc).spectral
    return torch.cat([enc.features(spec(S[0][i:i + 1024]), BT_WAVES_UM + RF_WAVES_UM, ta_metadata(S[1][i:i + 1024], S[2][i:i + 1024]), 2000.)
                      for i in range(0, len(S[0]), 1024)])
inputs = {'auxiliary inputs only': lambda S: aux(S),
          'aux + centre pixel (16 spectral channels)': lambda S: torch.cat([aux(S), S[0][:, :16, 4, 4]], 1),
          'aux + patch mean of the 16 spectral channels': lambda S: torch.cat([aux(S), S[0][:, :16].mean((2, 3))], 1)}
rows = []
def probe(name, F, seed):
    for frac in (0.05, 1.):
        sub = torch.from_numpy(np.sort(np.random.default_rng(1000 + seed).permutation(n_tr)[:int(round(frac * n_tr))]))
        al = ridge_cv_alpha(F['train'][sub], D['train'][-1][sub])
        r = {s: math.sqrt(ridge_probe(F['train'][sub], D['train'][-1][sub], F[s], D[s][-1], alpha=al)['mse']) * stats['ta_std'] for s in ('val', 'test')}
        rows.append(dict(features=name, seed=seed, fraction=frac, val_rmse_K=r['val'], test_rmse_K=r['test']))
for seed in a.seeds:
    for name, f in inputs.items(): probe(name, {s: f(D[s]) for s in D}, seed)
    seed_everything(seed); enc = ClayEncoder(2, 64, 4, 2)
    probe('aux + untrained ClayEncoder features', {s: torch.cat([aux(D[s]), feats(enc, D[s])], 1) for s in D}, seed)
df = pd.DataFrame(rows)
t = df.groupby(['fraction', 'features'], sort=False)[['val_rmse_K', 'test_rmse_K']].agg(['mean', 'std']).reset_index()
t.columns = ['fraction', 'features', 'val mean', 'val sd', 'test mean', 'test sd']
write(a.name, dict(options=vars(a), rows=rows, ta_std=stats['ta_std']),
      f"SYNTHETIC GK-2A-like data ({a.days} days, {a.stations} stations), TA std {stats['ta_std']:.2f} K. Ridge regression, penalty by 5-fold CV on "
      f"the training rows; label subsets as in clay_ta_label_efficiency; mean and sd over seeds {a.seeds} (label subset, and the encoder's initialisation).\n\n" + md_table(t), out=a.out)
