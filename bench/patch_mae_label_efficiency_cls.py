#!/usr/bin/env python
"""Label efficiency of PatchMAE on UCR/UEA classification sets shipped with aeon: pretraining on the train split
without labels, then the downstream model sees only a fraction of the labels.

For each set (loaded with `patchssl.data.load_uea`: the train split is cut into train (80%) / valid (20%, stratified,
seed 0); the test split is only used for the reported accuracy), PatchMAE and the earlier scalar-mean design are
pretrained once on every train series (labels unused). For each label fraction and seed a stratified subset of the
train series is labelled (at least one per class; the seed draws the subset and initialises the downstream model) and
the same PatchITransformer(task='classify') is trained as in `patch_mae_label_efficiency.py` (ETTh1):

  scratch, PatchMAE + FT (head only, then all layers with the body at lr / --ft-body-div), PatchMAE LP,
  scalar-mean LP (patch_embed random and frozen), LP with patch_embed not transferred, and as a control the linear
  probe of the untrained (random, frozen) model.

Every trained row keeps the weights of its epoch with the lowest validation loss (cross-entropy on the valid part).
Small subsets are cycled so every fraction gets at least `--min-batches` batches per epoch.

`--seeds` takes the shared harness's form (bench/common.py): a count (`3` = seeds 0, 1, 2, the default), a list
(`0,2,5`) or a range (`2-5`); the earlier space-separated form `--seeds 0 1 2` is now `--seeds 0,1,2`.

    nice -n 15 python bench/patch_mae_label_efficiency_cls.py      # writes bench/results/patch_mae_label_efficiency_cls.{json,md,png}
"""
import os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from patch_mae_label_efficiency import (WindowNorm, AllCellsLoss, KeepBest, IdxDataset, body_head_splitter, quiet, train_scratch, train_probe,
                                        train_finetune, explicit, mean_std, METHODS)

# patch_len and remainder policy per set, from the series length only
PATCH = {'JapaneseVowels': (4, 'pad_end'),   # L=29 (zero-padded) -> 8 patches
         'OSULeaf': (16, 'pad_end'),         # L=427 -> 27 patches
         'ItalyPowerDemand': (4, None),      # L=24 -> 6 patches
         'GunPoint': (10, None), 'BasicMotions': (10, None), 'ArrowHead': (10, 'pad_end')}

def main():
    from common import parser, parse, write, RESULTS
    ap = parser(__doc__, name='patch_mae_label_efficiency_cls', seeds='3')  # --threads, --seeds (default 0,1,2), --name, --quick, --out
    ap.add_argument('--datasets', nargs='+', default=['JapaneseVowels', 'OSULeaf', 'ItalyPowerDemand'], choices=list(PATCH))
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2)
    ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--dropout', type=float, default=0.1)
    ap.add_argument('--token-mode', default='channel_independent', choices=['channel_independent', 'patch_var'])
    ap.add_argument('--mask-ratio', type=float, default=0.4)
    ap.add_argument('--pre-norm', default='window', choices=['window', 'none'])
    ap.add_argument('--pre-epochs', type=int, default=100)
    ap.add_argument('--pre-visible-weight', type=float, default=0., help='weight of an extra MSE on the visible cells in pretraining (0 = masked cells only)')
    ap.add_argument('--pre-lr', type=float, default=1e-3)
    ap.add_argument('--fractions', type=float, nargs='+', default=[0.05, 0.1, 0.25, 1.0])
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--min-batches', type=int, default=8)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--lp-lr', type=float, default=1e-2)
    ap.add_argument('--ft-recipe', default='disc', choices=['disc', 'lib'])
    ap.add_argument('--ft-head-epochs', type=int, default=5)
    ap.add_argument('--ft-body-div', type=float, default=10.)
    ap.add_argument('--ft-head-div', type=float, default=1.)
    a = parse(ap)  # sets the torch threads, seeds everything with the first seed
    if a.quick:  # one small set, one fraction and seed, a few epochs
        a.datasets, a.fractions, a.seeds = ['ItalyPowerDemand'], [0.25], a.seeds[:1]
        a.pre_epochs, a.epochs, a.ft_head_epochs, a.min_batches = 2, 3, 1, 2
    res = Path(a.out) if a.out else RESULTS

    from fastai.data.core import DataLoaders
    from fastai.torch_core import set_seed
    from patchssl.data import load_uea, classification_dls, ArrayDataset
    from patchssl.patch_mae import PatchMAE, ScalarMeanMAE, PatchITransformer, pretrain_learner, classifier_learner, evaluate_classifier
    from patchssl.transfer import save_checkpoint, load_pretrained

    t_all = time.time()
    tmp = res/'_label_eff_tmp'/f'{a.name}_{os.getpid()}'; tmp.mkdir(parents=True, exist_ok=True)
    out = []
    for name in a.datasets:
        d = load_uea(name, valid_pct=0.2, seed=0)
        n, L, N = d.X_train.shape; C = d.n_classes
        p, rem = PATCH[name]
        arch = dict(patch_len=p, stride=p, remainder=rem, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff,
                    dropout=a.dropout, attn_dropout=0., token_mode=a.token_mode, revin=True)
        print(f"\n=== {d}; patch {p} ({rem})", flush=True)
        pdls = classification_dls(d, bs=a.bs * 2, labels=False)
        pre = {}
        def pretrain(cls):
            set_seed(0)
            kw = dict(arch, mask_mode='token', loss='mse', loss_space='data') if cls is PatchMAE else dict(arch, loss='mse', loss_space='data')
            m = cls(N, L, **explicit(cls, **kw))
            learn = pretrain_learner(pdls, m, a.mask_ratio, 'patch_var', cbs=[WindowNorm()] if a.pre_norm == 'window' else [])
            if a.pre_visible_weight: learn.loss_func = AllCellsLoss(a.pre_visible_weight)
            t = time.time(); quiet(learn, 'fit_one_cycle', a.pre_epochs, a.pre_lr)
            v = [round(float(r[1]), 4) for r in learn.recorder.values]
            pre[cls.__name__] = dict(valid_first=v[0], valid_last=v[-1], valid_min=min(v), seconds=round(time.time() - t, 1))
            print(f"   pretrain {cls.__name__}: valid masked loss {v[0]} -> {v[-1]} ({time.time() - t:.0f} s)", flush=True)
            return save_checkpoint(tmp/f'cls_{name}_{cls.__name__}.pt', m, None, a.pre_epochs)
        ck, ck_old = pretrain(PatchMAE), pretrain(ScalarMeanMAE)
        valid_ds = ArrayDataset(d.X_valid, d.y_valid)
        test_dl = classification_dls(d, bs=256).test

        def subset(frac, seed):
            rng = np.random.default_rng(1000 + seed)
            idx = np.concatenate([rng.choice(np.where(d.y_train == c)[0], max(1, int(round(frac * (d.y_train == c).sum()))), replace=False)
                                  for c in np.unique(d.y_train)])
            ds = ArrayDataset(d.X_train, d.y_train)
            return DataLoaders.from_dsets(IdxDataset(ds, np.sort(idx), a.min_batches * a.bs), valid_ds, bs=a.bs, num_workers=0), len(idx)
        def model(seed):
            set_seed(seed); return PatchITransformer(N, L, **explicit(PatchITransformer, **arch, task='classify', n_classes=C))
        def from_ck(seed):
            set_seed(seed); return PatchITransformer.from_checkpoint(ck, task='classify', n_classes=C)[0]
        def scratch(dls, seed):
            m = model(seed); return m, train_scratch(classifier_learner(dls, m), a.epochs, a.lr)
        def finetune(dls, seed):
            m = from_ck(seed)
            return m, train_finetune(classifier_learner(dls, m, splitter=body_head_splitter), a.epochs, a.lr, a.ft_head_epochs,
                                     a.ft_recipe, a.ft_body_div, a.ft_head_div)
        def probe(dls, seed):
            m = from_ck(seed); return m, train_probe(classifier_learner(dls, m), a.epochs, a.lp_lr)
        def probe_old(dls, seed):
            m = model(seed); load_pretrained(m, ck_old, require=('encoder',), ignore=('patch_mode',))
            return m, train_probe(classifier_learner(dls, m), a.epochs, a.lp_lr)
        def probe_noembed(dls, seed):
            m = model(seed); load_pretrained(m, ck, require=('encoder',), skip=('patch_embed',))
            return m, train_probe(classifier_learner(dls, m), a.epochs, a.lp_lr)

        def probe_random(dls, seed):
            m = model(seed); return m, train_probe(classifier_learner(dls, m), a.epochs, a.lp_lr)

        results = []
        for frac in a.fractions:
            for seed in a.seeds:
                dls, k = subset(frac, seed)
                row = dict(fraction=frac, seed=seed, n_labelled=k, methods={})
                for mname, fn in zip(METHODS, (scratch, finetune, probe, probe_old, probe_noembed, probe_random)):
                    t = time.time(); m, r = fn(dls, seed)
                    r.update(test_acc=round(evaluate_classifier(m, test_dl)['accuracy'], 4), seconds=round(time.time() - t, 1))
                    row['methods'][mname] = r
                results.append(row)
                print(f"   frac {frac} seed {seed} ({k} labelled): " + ', '.join(f"{m} {r['test_acc']:.3f}" for m, r in row['methods'].items()), flush=True)
        ck.unlink(); ck_old.unlink()
        summary = {}
        for frac in a.fractions:
            rows = [r for r in results if r['fraction'] == frac]
            s = {m: dict(zip(('mean', 'std'), mean_std([r['methods'][m]['test_acc'] for r in rows]))) for m in METHODS}
            dd = [r['methods']['PatchMAE + FT']['test_acc'] - r['methods']['scratch']['test_acc'] for r in rows]
            s.update(n_labelled=rows[0]['n_labelled'], ft_gain=dict(zip(('mean', 'std'), mean_std(dd))), ft_wins=int(sum(x > 0 for x in dd)))
            summary[str(frac)] = s
        out.append(dict(dataset=name, L=L, N=N, n_classes=C, n_train=n, n_valid=len(d.y_valid), n_test=len(d.y_test), patch_len=p,
                        remainder=rem, pretraining=pre, summary=summary, results=results))
    tmp.rmdir()
    total = time.time() - t_all

    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, len(out), figsize=(5 * len(out), 3.8), squeeze=False)
    for ax, o in zip(axs[0], out):
        for mth in METHODS:
            mu = [o['summary'][str(f)][mth]['mean'] for f in a.fractions]; sd = [o['summary'][str(f)][mth]['std'] for f in a.fractions]
            ax.errorbar([100 * f for f in a.fractions], mu, yerr=sd, marker='o', capsize=3, label=mth)
        ax.set(xscale='log', xlabel='labelled train series (%)', ylabel='test accuracy', title=o['dataset'])
        ax.set_xticks([100 * f for f in a.fractions]); ax.set_xticklabels([f'{100 * f:g}' for f in a.fractions])
    axs[0, 0].legend(fontsize=7); fig.tight_layout(); fig.savefig(res/f'{a.name}.png', dpi=90)

    md = [f"**Small CPU budget.** PatchMAE / PatchITransformer(task='classify') with d_model {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, "
          f"d_ff {a.d_ff}, dropout {a.dropout}, {a.token_mode} tokens. Pretraining {a.pre_epochs} epochs on every train series (the 80% train part; "
          f"labels unused), mask {a.mask_ratio} (token mode), {'masked + ' + format(a.pre_visible_weight, 'g') + ' x visible-cell MSE, ' if a.pre_visible_weight else ''}loss {'in the instance-normalised space (series RevIN-normalised before masking)' if a.pre_norm == 'window' else 'in the data scale'}. "
          f"Downstream: a stratified random subset of the train series per seed (at least one per class), {a.epochs} epochs of at least "
          f"{a.min_batches} batches of {a.bs} for every trained row; fine-tune {a.ft_head_epochs} head-only epochs then all layers "
          f"({'body lr ' + format(a.lr / a.ft_body_div, 'g') + ', head lr ' + format(a.lr / a.ft_head_div, 'g') if a.ft_recipe == 'disc' else 'library fine_tune_pretrained'}); "
          f"scratch lr {a.lr:g}; probes lr {a.lp_lr:g}. Each trained row keeps its lowest-validation-loss epoch (the labelled 20% valid part); "
          f"test accuracy on the full standard test split. Seeds {a.seeds} (subset and downstream init; pretraining once). "
          f"Torch threads {a.threads}. Whole run {total:.0f} s.", ""]
    for o in out:
        md += [f"**{o['dataset']}** (L {o['L']}, N {o['N']}, {o['n_classes']} classes; train / valid / test {o['n_train']} / {o['n_valid']} / {o['n_test']}; "
               f"patch {o['patch_len']} ({o['remainder'] or 'fits'})). Test accuracy, mean ± std:", "",
               "| labelled series | " + ' | '.join(METHODS) + " | FT - scratch (wins) |", '|---|' + '---|' * (len(METHODS) + 1)]
        for frac in a.fractions:
            s = o['summary'][str(frac)]
            md.append(f"| {100 * frac:g}% ({s['n_labelled']}) | " + ' | '.join(f"{s[m]['mean']:.3f} ± {s[m]['std']:.3f}" for m in METHODS)
                      + f" | {s['ft_gain']['mean']:+.3f} ± {s['ft_gain']['std']:.3f} ({s['ft_wins']}/{len(a.seeds)}) |")
        pr = o['pretraining']
        md += ["", f"Pretraining valid masked loss: PatchMAE {pr['PatchMAE']['valid_first']} -> {pr['PatchMAE']['valid_last']} "
               f"({pr['PatchMAE']['seconds']} s); scalar-mean {pr['ScalarMeanMAE']['valid_first']} -> {pr['ScalarMeanMAE']['valid_last']}.", ""]
    md += [f"![test accuracy vs label fraction]({a.name}.png)"]
    write(a.name, dict(args=vars(a), total_seconds=round(total, 1), datasets=out), '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
