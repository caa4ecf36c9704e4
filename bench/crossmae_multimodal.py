"""What cross-modal learning buys on the synthetic catchments (patchssl.crossmae.synthetic_catchments): the
streamflow series masked completely and reconstructed by MultiModalMAE from the rainfall image and the static
attributes, from the image alone, and from the attributes alone; against the training mean series (all that a
series-only model can output when its series is hidden) and against a model trained without the static token at all.
Also writes nbs/images/crossmae_catchment.png (one held-out catchment).

    nice -n 15 python bench/crossmae_multimodal.py --threads 1

`--quick`: 200 catchments, one epoch, the first seed; the figure goes to `{out}/{name}.png`, not over the chapter's.
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, torch
import pandas as pd
from common import parser, parse, write, md_table, RESULTS
from patchssl.transfer import seed_everything
from patchssl.crossmae import synthetic_catchments, catchment_dls, MultiModalMAE, multimodal_learner, series_from_context

ap = parser(__doc__, seeds='3')
ap.add_argument('--n', type=int, default=2000)
ap.add_argument('--epochs', type=int, default=15)
a = parse(ap)
if a.quick: a.n, a.epochs, a.seeds = 200, 1, a.seeds[:1]
seed_everything(0)  # before the DataLoaders: fastai seeds their shuffling from Python's random module
cat = synthetic_catchments(a.n, seed=0)
dls = catchment_dls(cat, bs=64)
mean = torch.stack([s for _, s, _ in dls.train_ds]).mean(0)
clim = ((torch.stack([s for _, s, _ in dls.valid_ds]) - mean) ** 2).mean().item()
rows, keep = [], None
for seed in a.seeds:
    for name, p_absent in [('image + series + static', dict(static=.3)), ('image + series (no static token)', dict(static=1.))]:
        seed_everything(seed)
        mm = MultiModalMAE(5, 32, 1, 96, 5, d_model=64, n_heads=4, decoder_dim=64, decoder_heads=4)
        learn = multimodal_learner(dls, mm, p_absent=p_absent)
        t0 = time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, 3e-3)
        uses = [('image', 'static'), ('image',), ('static',)] if 'static' in name.split('(')[0] else [('image',)]
        for use in uses:
            r = series_from_context(mm, dls.valid, use)
            rows.append(dict(seed=seed, trained_on=name, series_from=' + '.join(use), mse=r['mse'], mae=r['mae'], train_s=round(time.time() - t0, 1)))
            print(rows[-1], flush=True)
        if seed == 0 and 'no static' not in name: keep = mm
df = pd.DataFrame(rows)
agg = df.groupby(['trained_on', 'series_from'], sort=False).agg(mse=('mse', 'mean'), mse_sd=('mse', 'std'), mae=('mae', 'mean')).reset_index()
agg = pd.concat([pd.DataFrame([dict(trained_on='(series only)', series_from='training mean series', mse=clim, mse_sd=0., mae=float('nan'))]), agg])
note = (f"{a.n} synthetic catchments ({len(dls.train_ds)} train / {len(dls.valid_ds)} held out), image 5 x 32 x 32 (patch 8), series 96 h "
        f"(patch 8), 5 attributes; D=64, 2 encoder layers per modality, decoders of width 64 and 2 layers; {a.epochs} epochs, "
        f"mask 0.5 (image, series), series fully masked for 30 % of samples, static hidden (and predicted) for 25 % and absent for 30 % "
        f"(the full model) or always (no static token); {len(a.seeds)} seeds. "
        f"Error of the completely masked series on the held-out catchments, z-scored log1p(flow).\n\n")
write(a.name, dict(rows=rows, climatology_mse=clim, args=vars(a)), note + md_table(agg, 3) + "\n\nPer seed:\n\n" + md_table(df, 3), out=a.out)

import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
sds = torch.stack([s for _, s, _ in dls.valid_ds]).std((1, 2))
i = int(sds.argsort()[int(.9 * len(sds))])  # a catchment that rain reaches: flow variability at the 90th percentile
im, se, st = [t[None] for t in dls.valid_ds[i]]
(smu, ssd) = dls.stats['series']
flow = lambda z: np.expm1(z.reshape(-1).numpy() * ssd.item() + smu.item())
keep.eval()
with torch.no_grad():
    full = dict(series=torch.ones(1, 12, 1, dtype=torch.bool))
    r_both = keep(im, se, st, full)['series']; r_img = keep(im, se, st, full, dict(static=torch.tensor([False])))['series']
fig, ax = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw=dict(width_ratios=[1, 2.4]))
raw = cat['image'][dls.split[1][i]]
ax[0].imshow(np.expm1(raw[:4]).sum(0), cmap='Blues'); ax[0].contour(raw[4], levels=[.5], colors='k', linewidths=1)
ax[0].set_title('rain over 96 h (mm) and the catchment', fontsize=9); ax[0].axis('off')
h = np.arange(96)
ax[1].plot(h, flow(se[0]), 'k', lw=1.5, label='streamflow'); ax[1].plot(h, flow(r_both[0]), 'C3--', label='from image + attributes')
ax[1].plot(h, flow(r_img[0]), 'C0:', label='from image only'); ax[1].legend(fontsize=8); ax[1].set_xlabel('hour'); ax[1].set_ylabel('mm/h')
ax[1].set_title(f'series masked completely (held-out catchment, {a.epochs} epochs on {len(dls.train_ds)} catchments)', fontsize=9)
fig.tight_layout()
out = Path(a.out or RESULTS)/f'{a.name}.png' if a.quick else Path(__file__).resolve().parents[1]/'nbs'/'images'/'crossmae_catchment.png'
out.parent.mkdir(exist_ok=True); fig.savefig(out, dpi=110)
print('wrote', out)
