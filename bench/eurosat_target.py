"""Does the pixel target teach texture instead of spectra? CrossMAE on EuroSAT-MS with four reconstruction targets.

Chapter 03's study found that MAE pretraining LOWERS the linear probe on EuroSAT-MS (0.748 for the random encoder, 0.706
after 20 epochs), while each band's mean and sd (26 numbers, no network) reach 0.830. The lead: reconstructing pixels
makes the encoder spend its width on within-patch detail (texture), while the classes differ mostly in their spectra.
This bench pretrains the same `ImageCrossMAE` (D 64, 2 layers, patch 8 + CLS, cross decoder, mask 0.75, kept 0.25,
`BandNorm('dataset')` inputs, the 375 training patches, no labels) with the loss on four targets of the masked patches:

* `pixels`: the patch itself (the standard MAE / CrossMAE target);
* `band means`: each band's mean over the patch (a pure spectral target: the decoder must say the spectrum of a hidden patch);
* `blur`: the means of 4x4 pixel blocks (a 2x2 low-pass version of the patch);
* `pixels - patch mean`: the patch with each band's patch mean removed (texture only: the opposite control).

Along pretraining (0 = the random encoder, 2, 5, 10, 20 epochs) the ridge probe (penalty by 5-fold CV on the training
patches) on frozen features (CLS + mean of the patch tokens; mean + std of the patch tokens), alone, concatenated with
the 26 band statistics, and as a two-block ridge (`block_ridge`: the band statistics plus the encoder block scaled by w,
w in 0..1 and the penalty chosen together by repeated 5-fold CV on the training patches; w = 0 is the statistics alone).
The 5-fold CV accuracy on the training patches is recorded beside every test accuracy.

    nice -n 10 python bench/eurosat_target.py --threads 1 --seeds 3
"""
import sys, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd
from common import parser, parse, write, md_table, RESULTS
from eurosat_common import EuroSAT, TARGETS, pretrain, features, ridge, cv_acc, block_ridge, DATA

p = parser(__doc__, seeds='3')
p.add_argument('--data', default=str(DATA))
p.add_argument('--targets', default=','.join(TARGETS))
p.add_argument('--epochs', type=int, default=20)
p.add_argument('--keep', action='store_true', help='keep the rows of the results file already written (a run cut short: its finished (target, seed) pairs are not run again)')
a = parse(p)
if a.quick: a.epochs, a.seeds = 2, a.seeds[:1]
AT = sorted({0, 2, 5, 10, a.epochs} & set(range(a.epochs + 1)))
d = EuroSAT(a.data)
tr, te = d.tr, d.te
rows = []
if a.keep and (Path(a.out or RESULTS)/f'{a.name}.json').is_file():
    rows = [r for r in json.loads((Path(a.out or RESULTS)/f'{a.name}.json').read_text())['rows'] if r['target'] != 'no network']
DONE = {(r['target'], r['seed']) for r in rows if r['epoch'] == a.epochs}
for name, f in {'band stats': d.stats}.items():
    acc, al = ridge(f[tr], d.ytr, f[te], d.yte)
    rows.append(dict(target='no network', seed=0, epoch=0, features=name, test_acc=acc, cv_acc=cv_acc(f[tr], d.ytr)))

def on_probe(target, seed):
    def probe(model, epoch, secs):
        fs = features(model, d.x)
        for k, f in fs.items():
            z = (f[tr] - f[tr].mean(0)) / (f[tr].std(0) + 1e-6); sv = np.linalg.svd(z, compute_uv=False)
            rank = float(sv.sum() ** 2 / (sv ** 2).sum())  # effective rank of the standardised training features
            for name, g in [(k, f), (f'{k} + band stats', np.c_[f, d.stats])]:
                acc, al = ridge(g[tr], d.ytr, g[te], d.yte)
                rows.append(dict(target=target, seed=seed, epoch=epoch, features=name, test_acc=acc, cv_acc=cv_acc(g[tr], d.ytr), seconds=round(secs, 1),
                                 **({} if name.endswith('band stats') else dict(eff_rank=rank))))
            acc, w, al, cv = block_ridge(d.stats[tr], f[tr], d.ytr, d.stats[te], f[te], d.yte)
            rows.append(dict(target=target, seed=seed, epoch=epoch, features=f'band stats + w * {k}', test_acc=acc, cv_acc=cv, w=w, seconds=round(secs, 1)))
        print({k: v for k, v in rows[-1].items()}, rows[-6]['test_acc'], flush=True)
    return probe

def report():
    df = pd.DataFrame(rows)
    agg = (df.groupby(['target', 'features', 'epoch'], sort=False)
             .agg(test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'), cv_acc=('cv_acc', 'mean'), n=('seed', 'count'),
                  **(dict(eff_rank=('eff_rank', 'mean')) if 'eff_rank' in df else {})).reset_index())
    last = agg[agg.epoch.isin([0, a.epochs])]
    note = (f"EuroSAT-MS subset: pretraining on the {tr.sum()} training patches only (no labels); probes fitted on their labels, scored "
            f"on the {te.sum()} test patches (one patch = 0.011), 10 classes. ImageCrossMAE D 64, 2 layers, patch 8 (64 tokens) + CLS, "
            f"cross decoder (64, 2 layers), mask 0.75, kept 0.25, batch 32, one-cycle lr 1e-3, {a.epochs} epochs; the loss is the MSE "
            f"on the predicted patches against the `target`. `epoch 0` = the random encoder. Ridge probe: penalty by 5-fold CV on "
            f"the training patches. `band stats + w * F`: the two-block ridge, w and the penalty by repeated 5-fold CV on the training "
            f"patches (`cv_acc` is that CV score). `cv_acc`: 5-fold CV accuracy on the training patches (what a choice may use); `eff_rank`: effective rank of the standardised training features (mean over the runs that recorded it). "
            f"Mean and sd over seeds {a.seeds} (`n` runs).\n\n")
    write(a.name, dict(args=vars(a), rows=rows), out=a.out,
          table_md=note + "Random encoder and end of pretraining:\n\n" + md_table(last, 3) + "\n\nAll probe points:\n\n" + md_table(agg, 3))

def figure():
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    df = pd.DataFrame(rows)
    base = df[df.target == 'no network'].test_acc.mean()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for i, feats in enumerate(['cls+mean', 'band stats + w * cls+mean']):
        for j, t in enumerate([t for t in TARGETS if t in set(df.target)]):
            c = df[(df.target == t) & (df.features == feats)].groupby('epoch').test_acc.agg(['mean', 'std'])
            if len(c): ax[i].errorbar(c.index + 0.15 * j, c['mean'], c['std'], marker='o', ms=3, capsize=2, label=f'target: {t}')
        ax[i].axhline(base, color='k', ls=':', label='band stats alone (no network)')
        ax[i].set_xlabel('pretraining epochs'); ax[i].set_title(f'ridge probe on {feats}', fontsize=9)
    ax[0].set_ylabel('test accuracy'); ax[0].legend(fontsize=7)
    fig.tight_layout(); fig.savefig(Path(a.out or RESULTS)/f'{a.name}.png', dpi=110)

for seed in a.seeds:
    for t in a.targets.split(','):
        if (t, seed) in DONE: continue
        pretrain(d, t, seed, a.epochs, AT, on_probe(t, seed))
        report()
figure()
