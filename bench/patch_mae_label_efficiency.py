#!/usr/bin/env python
"""Label efficiency of PatchMAE on ETTh1 (forecast horizon 96): does self-supervised pretraining pay off when labels are few?

Pretraining sees every training window without labels (that is the point of self-supervision); only the downstream
part sees a fraction of the labelled training windows. For each fraction in `--fractions` and each seed in `--seeds`
(the seed draws the labelled subset and initialises the downstream model), with one and the same PatchITransformer
architecture and the same downstream budget (`--epochs` epochs of at least `--min-batches` batches each; small subsets
are cycled so every fraction gets the same number of optimiser steps per epoch):

  scratch             PatchITransformer from random init, all layers, `--epochs` epochs at `--lr`
  PatchMAE + FT       from the PatchMAE checkpoint: head only for `--ft-head-epochs` epochs at `--lr`, then all layers
                      for the rest of the budget, body at `--lr / --ft-body-div`, head at `--lr / --ft-head-div`
                      (`--ft-recipe disc`, fastai's discriminative learning rates), or the library's
                      `fine_tune_pretrained` (`--ft-recipe lib`: everything at lr/2)
  PatchMAE LP         strict linear probe (head only) of the PatchMAE encoder
  scalar-mean LP      the earlier design (ScalarMeanMAE: patch means, value_proj(1 -> D)), encoder transferred,
                      patch_embed random and frozen (it cannot be transferred)
  LP, no patch_embed  PatchMAE encoder transferred, patch_embed left random and frozen
  random-init LP      control: linear probe of the untrained model (random patch_embed and encoder, frozen): what a
                      linear head gets from random patch features (close to a linear model on the raw window)

Every trained row keeps the weights of its epoch with the lowest validation MSE (ETTh1's standard validation months);
the test months are only used for the reported number. Pretraining keeps its last epoch.

Reconstruction space: with `--pre-norm window` (default) each pretraining window is instance-normalised per variable
before masking (RevIN, as the reference PatchTST), so the masked loss is measured in the normalised space; with
`--pre-norm none` the loss is in the data's (z-scored) scale (the library's behaviour when this was written).

`--seeds` takes the shared harness's form (bench/common.py): a count (`3` = seeds 0, 1, 2, the default), a list
(`0,2,5`) or a range (`2-5`); the earlier space-separated form `--seeds 0 1 2` is now `--seeds 0,1,2`.

`--diag` runs the diagnosis instead of the study: one fraction, one seed, several fine-tune recipes, heads, learning
rates and pretraining settings, every choice judged on validation MSE (test MSE shown beside it, never used to choose).

    nice -n 15 python bench/patch_mae_label_efficiency.py            # the study, ~25 min on 1 thread
    nice -n 15 python bench/patch_mae_label_efficiency.py --diag     # the diagnosis table (..._diag.{json,md})
"""
import copy, json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np

METHODS = ['scratch', 'PatchMAE + FT', 'PatchMAE LP', 'scalar-mean LP', 'LP, no patch_embed', 'random-init LP']

# ---------------------------------------------------------------- helpers shared with the classification bench
import torch
from torch import nn
from fastai.callback.core import Callback

class WindowNorm(Callback):
    "Instance-normalise each pretraining window per variable before masking: the masked loss is then in the normalised space."
    order = 4  # before MaskingCallback (5)
    def __init__(self, pad_aware:bool=False): self.pad_aware = pad_aware
    def before_batch(self):
        x = self.xb[0]
        m = x.mean(1, keepdim=True); s = (x.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        self.learn.xb = ((x - m) / s,) + tuple(self.xb[1:])

class AlsoMaskLast(Callback):
    "Also mask the last `n` patches of every variable (forecast-shaped pretext task), on top of MaskingCallback's random mask."
    order = 6  # after MaskingCallback (5)
    def __init__(self, n): self.n = n
    def before_batch(self):
        x, m = self.xb; m = m.clone(); m[:, -self.n:] = True
        self.learn.xb, self.learn.yb = (x, m), (self.yb[0], m)

class AllCellsLoss:
    "Masked MSE plus `w` x the MSE on the visible cells (so the encoder's outputs at real patches are trained too)."
    def __init__(self, w): self.w = w
    def __call__(self, pred, target, mask):
        from patchssl.patching import masked_loss
        return masked_loss(pred, target, mask) + self.w * masked_loss(pred, target, ~mask)

class KeepBest(Callback):
    "Keep (in memory) the weights of the epoch with the lowest validation loss over every fit it is passed to."
    order = 60  # after Recorder
    def __init__(self): self.best, self.state, self.hist, self.n = float('inf'), None, [], 0
    def after_epoch(self):
        v = float(self.recorder.values[-1][1]); self.n += 1; self.hist.append(round(v, 4))
        if v < self.best: self.best, self.state, self.at = v, copy.deepcopy(self.model.state_dict()), self.n
    def restore(self, model): model.load_state_dict(self.state); return dict(valid_hist=self.hist, best_valid=round(self.best, 4), kept_epoch=self.at)

class IdxDataset(torch.utils.data.Dataset):
    "The items `idx` of `ds`, cycled to at least `min_len` items per epoch (each item equally often)."
    def __init__(self, ds, idx, min_len=0):
        idx = np.asarray(idx); r = max(1, int(np.ceil(min_len / len(idx))))
        self.ds, self.idx = ds, np.tile(idx, r)
    def __len__(self): return len(self.idx)
    def __getitem__(self, i): return self.ds[int(self.idx[i])]

def body_head_splitter(m):
    "Two parameter groups for discriminative learning rates: everything but the head, then the head."
    head = [p for n, p in m.named_parameters() if n.startswith('head.')]
    ids = {id(p) for p in head}
    return [[p for p in m.parameters() if id(p) not in ids], head]

def quiet(learn, how, *args, **kw):
    with learn.no_bar(), learn.no_logging(): getattr(learn, how)(*args, **kw)

def train_scratch(learn, epochs, lr):
    kb = KeepBest(); quiet(learn, 'fit_one_cycle', epochs, lr, cbs=kb); return kb.restore(learn.model)

def train_probe(learn, epochs, lr):
    import patchssl.transfer  # noqa: F401
    kb = KeepBest(); quiet(learn, 'linear_probe', epochs, lr, cbs=kb); return kb.restore(learn.model)

def train_finetune(learn, epochs, lr, head_epochs, recipe='disc', body_div=10., head_div=1., lib_div=2.):
    "Head only for `head_epochs`, then all layers for `epochs - head_epochs` (the same total budget as scratch)."
    import patchssl.transfer  # noqa: F401
    from patchssl.transfer import unfreeze
    kb = KeepBest()
    if recipe == 'lib':
        quiet(learn, 'fine_tune_pretrained', epochs - head_epochs, lr, freeze_epochs=head_epochs, lr_div=lib_div, cbs=kb)
    elif recipe == 'disc':
        if head_epochs: quiet(learn, 'linear_probe', head_epochs, lr, cbs=kb)
        unfreeze(learn.model); learn.opt = None
        quiet(learn, 'fit_one_cycle', epochs - head_epochs, slice(lr / body_div, lr / head_div), cbs=kb)
    else: raise ValueError(f"recipe {recipe!r} is not 'lib' or 'disc'")
    return kb.restore(learn.model)

class PooledHead(nn.Module):
    "Forecast head on the mean over patches: [.., P*D] -> mean over P -> Linear(D, H) (a small alternative to the flatten head)."
    def __init__(self, P, D, H): super().__init__(); self.P, self.D, self.lin = P, D, nn.Linear(D, H)
    def forward(self, z): return self.lin(z.reshape(*z.shape[:-1], self.P, self.D).mean(-2))

def explicit(cls, **kw):
    "Constructor options, passing only those `cls` has (so a newer library's defaults cannot change this bench silently)."
    import inspect
    names = set()
    for k in type.mro(cls):
        if k is object or '__init__' not in vars(k): continue
        names |= set(inspect.signature(k.__init__).parameters)
    return {k: v for k, v in kw.items() if k in names}

def mean_std(v): return (float(np.mean(v)), float(np.std(v)))

# ---------------------------------------------------------------- the study
def main():
    from common import parser, parse, write, RESULTS
    ap = parser(__doc__, seeds='3')  # --threads, --seeds (default 0,1,2), --name, --quick, --out
    ap.set_defaults(name=None)  # patch_mae_label_efficiency, or ..._diag / _linear / _ridge_probe / _features for a diagnosis
    ap.add_argument('--seq-len', type=int, default=336)
    ap.add_argument('--horizon', type=int, default=96)
    ap.add_argument('--patch-len', type=int, default=16)
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2)
    ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--dropout', type=float, default=0.0)
    ap.add_argument('--token-mode', default='channel_independent', choices=['channel_independent', 'patch_var'])
    ap.add_argument('--mask-mode', default='token', choices=['token', 'visible'])
    ap.add_argument('--mask-ratio', type=float, default=0.4)
    ap.add_argument('--pre-norm', default='window', choices=['window', 'none'], help='instance-normalise pretraining windows (normalised-space loss)')
    ap.add_argument('--pre-visible-weight', type=float, default=0., help='pretraining: weight of an extra MSE on the visible cells (0 = masked cells only)')
    ap.add_argument('--pre-last-n', type=int, default=0, help='pretraining: also mask the last n patches (forecast-shaped pretext)')
    ap.add_argument('--pre-stride', type=int, default=4, help='steps between pretraining windows (all of the train split, no labels)')
    ap.add_argument('--pre-epochs', type=int, default=15)
    ap.add_argument('--pre-lr', type=float, default=3e-3)
    ap.add_argument('--pool-stride', type=int, default=8, help='steps between the labelled train windows that make up 100%%')
    ap.add_argument('--fractions', type=float, nargs='+', default=[0.05, 0.1, 0.25, 1.0])
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--min-batches', type=int, default=24, help='batches per downstream epoch at least (small subsets are cycled)')
    ap.add_argument('--epochs', type=int, default=8, help='downstream budget in epochs, the same for every trained row')
    ap.add_argument('--lr', type=float, default=1e-3, help='fine-tune head lr (and scratch lr unless --scratch-lr)')
    ap.add_argument('--scratch-lr', type=float, default=None, help='scratch lr (default --lr)')
    ap.add_argument('--lp-lr', type=float, default=3e-3)
    ap.add_argument('--ft-recipe', default='disc', choices=['disc', 'lib'])
    ap.add_argument('--ft-head-epochs', type=int, default=2)
    ap.add_argument('--ft-body-div', type=float, default=10.)
    ap.add_argument('--ft-head-div', type=float, default=1.)
    ap.add_argument('--head', default='flatten', choices=['flatten', 'pooled'])
    ap.add_argument('--eval-stride', type=int, default=16, help='stride of the validation windows (test: every window)')
    ap.add_argument('--diag', action='store_true', help='run the diagnosis table instead of the study')
    ap.add_argument('--diag-fraction', type=float, default=0.1)
    ap.add_argument('--diag-linear', action='store_true', help='only the closed-form ridge baseline on the RevIN-normalised window, every fraction and seed')
    ap.add_argument('--diag-ridge-probe', action='store_true', help='closed-form ridge probes on frozen features (every fraction and seed)')
    ap.add_argument('--ck', nargs=2, default=None, metavar=('PATCHMAE', 'SCALARMEAN'), help='--diag-ridge-probe: use these checkpoints instead of pretraining')
    ap.add_argument('--diag-features', action='store_true', help='run the feature diagnosis (why the probe / fine-tune miss) instead of the study')
    a = parse(ap)  # sets the torch threads, seeds everything with the first seed
    if a.quick:  # one fraction and seed, one epoch each, few windows
        a.fractions, a.seeds, a.pre_epochs, a.epochs, a.ft_head_epochs, a.min_batches = [0.25], a.seeds[:1], 1, 2, 1, 2
        a.pre_stride, a.pool_stride, a.eval_stride, a.seq_len, a.horizon = 64, 64, 64, 96, 24
    a.scratch_lr = a.lr if a.scratch_lr is None else a.scratch_lr
    a.name = a.name or ('patch_mae_label_efficiency_diag' if a.diag else 'patch_mae_label_efficiency_linear' if a.diag_linear else
                        'patch_mae_label_efficiency_ridge_probe' if a.diag_ridge_probe else 'patch_mae_label_efficiency_features' if a.diag_features
                        else 'patch_mae_label_efficiency')
    res = Path(a.out) if a.out else RESULTS

    from fastai.data.core import DataLoaders
    from fastai.torch_core import set_seed
    from patchssl.data import etth1_splits, series_dls, SlidingWindows
    from patchssl.patch_mae import PatchMAE, ScalarMeanMAE, PatchITransformer, pretrain_learner, forecast_learner, evaluate_forecast
    from patchssl.transfer import save_checkpoint, load_pretrained

    t_all = time.time()
    L, H = a.seq_len, a.horizon
    splits = etth1_splits(L); N = len(splits.columns)
    arch = dict(patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff, dropout=a.dropout,
                attn_dropout=0., token_mode=a.token_mode, revin=True, remainder=None, stride=a.patch_len)
    ev = series_dls(splits, L, H, a.pool_stride, bs=a.bs, eval_stride=a.eval_stride, num_workers=0)
    valid_ds = ev.valid_ds
    test_dl = series_dls(splits, L, H, a.pool_stride, bs=256, eval_stride=1, num_workers=0).test
    pool = ev.train_ds
    tmp = res/'_label_eff_tmp'/f'{a.name}_{os.getpid()}'; tmp.mkdir(parents=True, exist_ok=True)

    def pretrain(cls, seed=0, norm=a.pre_norm, epochs=a.pre_epochs, mask_ratio=a.mask_ratio, tag='', visible_weight=a.pre_visible_weight, last_n=a.pre_last_n):
        set_seed(seed)
        pdls = series_dls(splits, L, 0, a.pre_stride, bs=a.bs, eval_stride=a.eval_stride, num_workers=0)
        kw = dict(arch, mask_mode=a.mask_mode, loss='mse', loss_space='data') if cls is PatchMAE else dict(arch, loss='mse', loss_space='data')
        m = cls(N, L, **explicit(cls, **kw))
        learn = pretrain_learner(pdls, m, mask_ratio, 'patch_var', cbs=([WindowNorm()] if norm == 'window' else []) + ([AlsoMaskLast(last_n)] if last_n else []))
        if visible_weight: learn.loss_func = AllCellsLoss(visible_weight)
        t = time.time(); quiet(learn, 'fit_one_cycle', epochs, a.pre_lr)
        path = save_checkpoint(tmp/f'{cls.__name__}{tag}.pt', m, None, epochs)
        log = dict(valid_loss=[round(float(v[1]), 4) for v in learn.recorder.values], seconds=round(time.time() - t, 1),
                   n_windows=len(pdls.train_ds), norm=norm, epochs=epochs, mask_ratio=mask_ratio)
        print(f"pretrain {cls.__name__}{tag}: valid masked loss {log['valid_loss'][0]} -> {log['valid_loss'][-1]} ({log['seconds']} s)", flush=True)
        return path, log

    def subset_dls(frac, seed):
        rng = np.random.default_rng(1000 + seed)
        k = max(1, int(round(frac * len(pool))))
        idx = np.sort(rng.choice(len(pool), k, replace=False))
        return DataLoaders.from_dsets(IdxDataset(pool, idx, a.min_batches * a.bs), valid_ds, bs=a.bs, num_workers=0), k

    def set_head(m, head):
        if head == 'pooled': m.head = PooledHead(m.n_patches, m.d_model, H)
        return m

    def scratch(dls, seed, lr=a.scratch_lr, head=a.head):
        set_seed(seed); m = set_head(PatchITransformer(N, L, **explicit(PatchITransformer, **arch, task='forecast', horizon=H)), head)
        return m, train_scratch(forecast_learner(dls, m), a.epochs, lr)
    def from_ck(ck, seed, head):
        set_seed(seed); m, rep = PatchITransformer.from_checkpoint(ck, task='forecast', horizon=H)
        return set_head(m, head)
    def finetune(dls, seed, ck, recipe=a.ft_recipe, lr=a.lr, head_epochs=a.ft_head_epochs, body_div=a.ft_body_div, head_div=a.ft_head_div, head=a.head):
        m = from_ck(ck, seed, head)
        return m, train_finetune(forecast_learner(dls, m, splitter=body_head_splitter), a.epochs, lr, head_epochs, recipe, body_div, head_div)
    def probe(dls, seed, ck, head=a.head):
        m = from_ck(ck, seed, head); return m, train_probe(forecast_learner(dls, m), a.epochs, a.lp_lr)
    def probe_old(dls, seed, ck_old):
        set_seed(seed); m = PatchITransformer(N, L, **explicit(PatchITransformer, **arch, task='forecast', horizon=H))
        load_pretrained(m, ck_old, require=('encoder',), ignore=('patch_mode',))
        return m, train_probe(forecast_learner(dls, m), a.epochs, a.lp_lr)
    def probe_random(dls, seed):
        set_seed(seed); m = PatchITransformer(N, L, **explicit(PatchITransformer, **arch, task='forecast', horizon=H))
        return m, train_probe(forecast_learner(dls, m), a.epochs, a.lp_lr)
    def probe_noembed(dls, seed, ck):
        set_seed(seed); m = PatchITransformer(N, L, **explicit(PatchITransformer, **arch, task='forecast', horizon=H))
        load_pretrained(m, ck, require=('encoder',), skip=('patch_embed',))
        return m, train_probe(forecast_learner(dls, m), a.epochs, a.lp_lr)

    def run(fn, *args, **kw):
        t = time.time(); m, r = fn(*args, **kw)
        r.update(test_mse=round(evaluate_forecast(m, test_dl)['mse'], 4), seconds=round(time.time() - t, 1))
        return r

    common_md = (f"**Small CPU budget, not the published setup**: PatchITransformer / PatchMAE with d_model {a.d_model}, {a.n_layers} layers, "
                 f"{a.n_heads} heads, d_ff {a.d_ff}, dropout {a.dropout}, patch {a.patch_len}, {a.token_mode} tokens, L {L}, H {H}. "
                 f"Pretraining: {a.pre_epochs} epochs on every {a.pre_stride}th window of the train months (no labels), mask {a.mask_ratio} "
                 f"({a.mask_mode} mode{', plus the last ' + str(a.pre_last_n) + ' patches' if a.pre_last_n else ''}), "
                 f"{'loss on masked cells + ' + format(a.pre_visible_weight, 'g') + ' x loss on visible cells, ' if a.pre_visible_weight else ''}reconstruction loss {'in the instance-normalised space (windows RevIN-normalised before masking)' if a.pre_norm == 'window' else 'in the z-scored data scale'}. "
                 f"Labelled pool: every {a.pool_stride}th train window ({len(pool)} windows = 100%); a fraction is a random subset drawn per seed. "
                 f"Downstream budget {a.epochs} epochs of at least {a.min_batches} batches of {a.bs} for every trained row; fine-tune = "
                 f"{a.ft_head_epochs} head-only epochs + {a.epochs - a.ft_head_epochs} all-layer epochs "
                 f"({'body lr ' + format(a.lr / a.ft_body_div, 'g') + ', head lr ' + format(a.lr / a.ft_head_div, 'g') if a.ft_recipe == 'disc' else 'library fine_tune_pretrained, lr/2'}); "
                 f"scratch lr {a.scratch_lr:g}; probes lr {a.lp_lr:g}; head {a.head}. Every trained row keeps its best-validation epoch "
                 f"(validation windows every {a.eval_stride} steps); test MSE on every window of the standard test months (z-scored). "
                 f"Torch threads {a.threads}.")

    def probe_layers(dls, seed, ck, n_layers):
        "Linear probe on the output of the first `n_layers` pretrained encoder layers (+ the final norm)."
        set_seed(seed); m, rep = PatchITransformer.from_checkpoint(ck, task='forecast', horizon=H, n_layers=n_layers, ignore=('n_layers',))
        return m, train_probe(forecast_learner(dls, m), a.epochs, a.lp_lr)

    if a.diag: return diag(a, locals())
    if a.diag_features: return diag_features(a, locals())
    if a.diag_linear: return diag_linear(a, locals())
    if a.diag_ridge_probe: return diag_ridge_probe(a, locals())

    ck, log_new = pretrain(PatchMAE)
    ck_old, log_old = pretrain(ScalarMeanMAE)
    results = []
    for frac in a.fractions:
        for seed in a.seeds:
            dls, k = subset_dls(frac, seed)
            row = dict(fraction=frac, seed=seed, n_labelled=k, methods={})
            for name, fn, args in [('scratch', scratch, ()), ('PatchMAE + FT', finetune, (ck,)), ('PatchMAE LP', probe, (ck,)),
                                   ('scalar-mean LP', probe_old, (ck_old,)), ('LP, no patch_embed', probe_noembed, (ck,)),
                                   ('random-init LP', probe_random, ())]:
                row['methods'][name] = r = run(fn, dls, seed, *args)
                print(f"frac {frac} seed {seed} ({k} windows) {name:<20} test MSE {r['test_mse']:.4f}  best valid {r['best_valid']:.4f} "
                      f"(epoch {r['kept_epoch']}, {r['seconds']} s)", flush=True)
            results.append(row)
    for f in (ck, ck_old): f.unlink()
    tmp.rmdir()
    total = time.time() - t_all

    summary = {}
    for frac in a.fractions:
        rows = [r for r in results if r['fraction'] == frac]
        summary[str(frac)] = {m: dict(zip(('mean', 'std'), mean_std([r['methods'][m]['test_mse'] for r in rows]))) for m in METHODS}
        summary[str(frac)]['n_labelled'] = rows[0]['n_labelled']
        d = [r['methods']['scratch']['test_mse'] - r['methods']['PatchMAE + FT']['test_mse'] for r in rows]
        summary[str(frac)]['ft_gain'] = dict(zip(('mean', 'std'), mean_std(d)))
        summary[str(frac)]['ft_wins'] = int(sum(x > 0 for x in d))

    # plot
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for mth in METHODS:
        mu = [summary[str(f)][mth]['mean'] for f in a.fractions]; sd = [summary[str(f)][mth]['std'] for f in a.fractions]
        ax.errorbar([100 * f for f in a.fractions], mu, yerr=sd, marker='o', capsize=3, label=mth)
    ax.set(xscale='log', xlabel='labelled training windows (%)', ylabel='test MSE (mean ± std over seeds)', title=f'ETTh1, L {L}, H {H}')
    ax.set_xticks([100 * f for f in a.fractions]); ax.set_xticklabels([f'{100 * f:g}' for f in a.fractions]); ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(res/f'{a.name}.png', dpi=90)

    md = [common_md + f" Seeds {a.seeds} (subset and downstream init; pretraining once, seed 0). Whole run {total:.0f} s.", "",
          "Test MSE, mean ± std over seeds:", "",
          "| labelled windows | " + ' | '.join(METHODS) + " | scratch - FT (wins) |", '|---|' + '---|' * (len(METHODS) + 1)]
    for frac in a.fractions:
        s = summary[str(frac)]
        md.append(f"| {100 * frac:g}% ({s['n_labelled']}) | " + ' | '.join(f"{s[m]['mean']:.4f} ± {s[m]['std']:.4f}" for m in METHODS)
                  + f" | {s['ft_gain']['mean']:+.4f} ± {s['ft_gain']['std']:.4f} ({s['ft_wins']}/{len(a.seeds)}) |")
    md += ["", f"Pretraining ({log_new['n_windows']} windows): PatchMAE valid masked loss {log_new['valid_loss']} ({log_new['seconds']} s); "
           f"scalar-mean {log_old['valid_loss']} ({log_old['seconds']} s).", "",
           f"![test MSE vs label fraction]({a.name}.png)", "", "Per seed (test MSE; kept epoch of " + str(a.epochs) + "):", "",
           "| fraction | seed | " + ' | '.join(METHODS) + " |", '|---|---|' + '---|' * len(METHODS)]
    for r in results:
        md.append(f"| {100 * r['fraction']:g}% | {r['seed']} | " + ' | '.join(f"{r['methods'][m]['test_mse']:.4f} ({r['methods'][m]['kept_epoch']})" for m in METHODS) + ' |')
    write(a.name, dict(args=vars(a), total_seconds=round(total, 1), pretraining=dict(PatchMAE=log_new, ScalarMeanMAE=log_old),
                       summary=summary, results=results), '\n'.join(md), out=a.out)


def diag(a, env):
    "One fraction, seed 0: scratch lr, fine-tune recipes, heads, pretraining settings; choose on validation."
    g = type('E', (), env)
    from common import write
    t0 = time.time()
    rows = []
    def add(group, label, fn, *args, **kw):
        r = g.run(fn, *args, **kw); rows.append(dict(group=group, label=label, **r))
        print(f"[{group}] {label:<48} best valid {r['best_valid']:.4f} (epoch {r['kept_epoch']})  test {r['test_mse']:.4f}  {r['seconds']} s", flush=True)
    frac = a.diag_fraction
    dls, k = g.subset_dls(frac, 0)
    ck, log = g.pretrain(g.PatchMAE)
    pre = {'window-normalised loss, mask 0.4': log}
    add('scratch', f'lr {a.lr:g}', g.scratch, dls, 0, lr=a.lr)
    add('scratch', 'lr 3e-4', g.scratch, dls, 0, lr=3e-4)
    add('scratch', 'lr 3e-3', g.scratch, dls, 0, lr=3e-3)
    add('scratch', f'lr {a.lr:g}, pooled head', g.scratch, dls, 0, head='pooled')
    add('probe', 'PatchMAE LP', g.probe, dls, 0, ck)
    add('probe', 'PatchMAE LP, pooled head', g.probe, dls, 0, ck, head='pooled')
    add('probe', 'random-init model LP (control)', g.probe_random, dls, 0)
    add('fine-tune', 'library fine_tune_pretrained (2 head + 6 all at lr/2)', g.finetune, dls, 0, ck, recipe='lib')
    add('fine-tune', 'no head phase, all layers at lr', g.finetune, dls, 0, ck, recipe='disc', head_epochs=0, body_div=1.)
    add('fine-tune', '2 head, then body lr/10', g.finetune, dls, 0, ck, recipe='disc', body_div=10.)
    add('fine-tune', '2 head, then body lr/100', g.finetune, dls, 0, ck, recipe='disc', body_div=100.)
    add('fine-tune', '4 head, then body lr/10', g.finetune, dls, 0, ck, recipe='disc', head_epochs=4, body_div=10.)
    add('fine-tune', '2 head, then body lr/10, pooled head', g.finetune, dls, 0, ck, recipe='disc', body_div=10., head='pooled')
    ck_d, log_d = g.pretrain(g.PatchMAE, norm='none', tag='_data'); pre['data-scale loss, mask 0.4'] = log_d
    add('pretraining', 'data-scale loss: LP', g.probe, dls, 0, ck_d)
    add('pretraining', 'data-scale loss: FT 2 head, body lr/10', g.finetune, dls, 0, ck_d, recipe='disc', body_div=10.)
    ck_m, log_m = g.pretrain(g.PatchMAE, mask_ratio=0.6, tag='_m06'); pre['window-normalised loss, mask 0.6'] = log_m
    add('pretraining', 'mask 0.6: LP', g.probe, dls, 0, ck_m)
    add('pretraining', 'mask 0.6: FT 2 head, body lr/10', g.finetune, dls, 0, ck_m, recipe='disc', body_div=10.)
    ck_s, log_s = g.pretrain(g.PatchMAE, epochs=max(2, a.pre_epochs // 3), tag='_short'); pre[f'window-normalised, {max(2, a.pre_epochs // 3)} epochs'] = log_s
    add('pretraining', f'{max(2, a.pre_epochs // 3)} pretraining epochs: LP', g.probe, dls, 0, ck_s)
    add('pretraining', f'{max(2, a.pre_epochs // 3)} pretraining epochs: FT 2 head, body lr/10', g.finetune, dls, 0, ck_s, recipe='disc', body_div=10.)
    for f in (ck, ck_d, ck_m, ck_s): f.unlink()
    g.tmp.rmdir()
    total = time.time() - t0
    md = [g.common_md + f" Diagnosis at {100 * frac:g}% of the labelled windows ({k}), one seed (0). Choose on validation; test shown only "
          f"to check the choice generalises. Whole run {total:.0f} s.", "",
          "| group | variant | best valid MSE (epoch) | test MSE | s |", "|---|---|---|---|---|"]
    md += [f"| {r['group']} | {r['label']} | {r['best_valid']:.4f} ({r['kept_epoch']}) | {r['test_mse']:.4f} | {r['seconds']} |" for r in rows]
    md += ["", "Pretraining runs (valid masked loss per epoch, each in its own loss space):", ""]
    md += [f"- {k}: {v['valid_loss']} ({v['seconds']} s)" for k, v in pre.items()]
    md += ["", "Validation curves (valid MSE per epoch) per row are in the JSON."]
    write(a.name, dict(args=vars(a), total_seconds=round(total, 1), fraction=frac, n_labelled=k, pretraining=pre, rows=rows), '\n'.join(md), out=a.out)

def diag_linear(a, env):
    "Ridge regression window -> horizon, channel-independent, on RevIN-normalised windows (a linear model, like a probe on raw patches)."
    g = type('E', (), env)
    from common import write
    def arrays(ds, idx=None):
        idx = range(len(ds)) if idx is None else idx
        X = torch.stack([ds[int(i)][0] for i in idx]); Y = torch.stack([ds[int(i)][1] for i in idx])
        m, s = X.mean(1, keepdim=True), (X.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        return X, Y, m, s
    def flat(X, Y, m, s):  # channel-independent rows
        return ((X - m) / s).permute(0, 2, 1).reshape(-1, X.shape[1]), ((Y - m) / s).permute(0, 2, 1).reshape(-1, Y.shape[1])
    Xv, Yv, mv, sv = arrays(g.valid_ds)
    te = g.test_dl.dataset; Xt, Yt, mt, st = arrays(te)
    def predict(W, X, m, s):
        Z = ((X - m) / s).permute(0, 2, 1); P = torch.cat([Z, torch.ones(*Z.shape[:2], 1)], -1) @ W
        return P.permute(0, 2, 1) * s + m
    rows = []
    for frac in a.fractions:
        for seed in a.seeds:
            rng = np.random.default_rng(1000 + seed); k = max(1, int(round(frac * len(g.pool))))
            idx = np.sort(rng.choice(len(g.pool), k, replace=False))
            A, B = flat(*arrays(g.pool, idx)); A1 = torch.cat([A, torch.ones(len(A), 1)], 1).double()
            best = None
            for lam in (1e-2, 1e-1, 1, 10, 100, 1000, 1e4):
                W = torch.linalg.solve(A1.T @ A1 + lam * torch.eye(A1.shape[1], dtype=torch.float64), A1.T @ B.double()).float()
                v = float(((predict(W, Xv, mv, sv) - Yv) ** 2).mean())
                if best is None or v < best[0]: best = (v, lam, W)
            t = float(((predict(best[2], Xt, mt, st) - Yt) ** 2).mean())
            rows.append(dict(fraction=frac, seed=seed, n_labelled=k, ridge=best[1], valid_mse=round(best[0], 4), test_mse=round(t, 4)))
            print(rows[-1], flush=True)
    md = [f"Closed-form ridge regression from the RevIN-normalised lookback ({a.seq_len}) to the horizon ({a.horizon}), channel-independent, "
          f"on exactly the labelled subsets of the study (same pool, fractions and seeds); ridge strength chosen on the validation windows "
          f"(every {a.eval_stride} steps); test on every test window. A linear model of the raw window, for comparison with the probes.", "",
          "| labelled windows | test MSE mean ± std | per seed (ridge) |", "|---|---|---|"]
    for frac in a.fractions:
        rr = [r for r in rows if r['fraction'] == frac]; mu, sd = mean_std([r['test_mse'] for r in rr])
        md.append(f"| {100 * frac:g}% ({rr[0]['n_labelled']}) | {mu:.4f} ± {sd:.4f} | " + ', '.join(f"{r['test_mse']:.4f} ({r['ridge']:g})" for r in rr) + ' |')
    write(a.name, dict(args=vars(a), rows=rows), '\n'.join(md), out=a.out)

@torch.no_grad()
def _features(model, ds, bs=256):
    "Frozen features per (window, variable): flattened [P*D] encoder output, plus the window's RevIN stats and targets."
    model.eval(); F, Y, M, S = [], [], [], []
    for i in range(0, len(ds), bs):
        xs, ys = zip(*[ds[j] for j in range(i, min(i + bs, len(ds)))]); x, y = torch.stack(xs), torch.stack(ys)
        z, (m, s) = model.forward_features(x)  # [B, P, N, D], stats [B, 1, N]
        F.append(z.permute(0, 2, 1, 3).reshape(len(x), x.shape[2], -1)); Y.append(y); M.append(m); S.append(s)
    return torch.cat(F), torch.cat(Y), torch.cat(M), torch.cat(S)

def diag_ridge_probe(a, env):
    "Linear probes solved in closed form (ridge, strength chosen on validation): representation quality without SGD budget effects."
    g = type('E', (), env)
    from common import write
    t0 = time.time()
    if a.ck: ck, ck_old = map(Path, a.ck); pre = dict(checkpoints=a.ck)
    else: (ck, l1), (ck_old, l2) = g.pretrain(g.PatchMAE), g.pretrain(g.ScalarMeanMAE); pre = dict(PatchMAE=l1, ScalarMeanMAE=l2)
    def random_model():
        g.set_seed(0); return g.PatchITransformer(g.N, g.L, **explicit(g.PatchITransformer, **g.arch, task='forecast', horizon=g.H))
    models = {}
    models['PatchMAE'] = g.PatchITransformer.from_checkpoint(ck, task='forecast', horizon=g.H)[0]
    m = random_model(); g.load_pretrained(m, ck_old, require=('encoder',), ignore=('patch_mode',)); models['scalar-mean'] = m
    m = random_model(); g.load_pretrained(m, ck, require=('encoder',), skip=('patch_embed',)); models['no patch_embed'] = m
    models['random-init'] = random_model()
    raw = lambda ds: _raw(ds)
    rows = []
    for name, model in list(models.items()) + [('raw window (no network)', None)]:
        feats = {k: (_features(model, ds) if model is not None else _raw(ds)) for k, ds in (('pool', g.pool), ('valid', g.valid_ds), ('test', g.test_dl.dataset))}
        Fv, Yv, Mv, Sv = feats['valid']; Ft, Yt, Mt, St = feats['test']
        for frac in a.fractions:
            for seed in a.seeds:
                rng = np.random.default_rng(1000 + seed); k = max(1, int(round(frac * len(g.pool))))
                idx = torch.as_tensor(np.sort(rng.choice(len(g.pool), k, replace=False)))
                Fp, Yp, Mp, Sp = (t[idx] for t in feats['pool'])
                A = Fp.reshape(-1, Fp.shape[-1]).double(); A = torch.cat([A, torch.ones(len(A), 1, dtype=A.dtype)], 1)
                B = ((Yp - Mp) / Sp).permute(0, 2, 1).reshape(-1, Yp.shape[1]).double()
                G, AB = A.T @ A, A.T @ B
                def pred(W, Fx, M, S):
                    P = torch.cat([Fx.double(), torch.ones(*Fx.shape[:2], 1, dtype=torch.float64)], -1) @ W  # [n, N, H]
                    return P.permute(0, 2, 1).float() * S + M
                best = None
                for lam in (1e-1, 1, 10, 100, 1000, 1e4, 1e5):
                    W = torch.linalg.solve(G + lam * torch.eye(G.shape[0], dtype=G.dtype), AB)
                    v = float(((pred(W, Fv, Mv, Sv) - Yv) ** 2).mean())
                    if best is None or v < best[0]: best = (v, lam, W)
                t = float(((pred(best[2], Ft, Mt, St) - Yt) ** 2).mean())
                rows.append(dict(features=name, fraction=frac, seed=seed, n_labelled=k, ridge=best[1], valid_mse=round(best[0], 4), test_mse=round(t, 4)))
                print(rows[-1], flush=True)
    if not a.ck:
        for f in (ck, ck_old): f.unlink()
    names = list(models) + ['raw window (no network)']
    md = [g.common_md + f" Closed-form ridge probes: the frozen encoder's flattened output per variable ([P*D] = {g.arch['d_model'] * (g.L // g.arch['patch_len'])} "
          f"features) -> the RevIN-normalised horizon, ridge strength chosen on validation, on exactly the study's labelled subsets. "
          f"'raw window' = the same ridge on the normalised lookback itself. Checkpoints: {pre}. Whole run {time.time() - t0:.0f} s.", "",
          "Test MSE, mean ± std over seeds:", "", "| labelled windows | " + ' | '.join(names) + " |", '|---|' + '---|' * len(names)]
    for frac in a.fractions:
        rr = [r for r in rows if r['fraction'] == frac]
        md.append(f"| {100 * frac:g}% ({rr[0]['n_labelled']}) | " + ' | '.join('{:.4f} ± {:.4f}'.format(*mean_std([r['test_mse'] for r in rr if r['features'] == n])) for n in names) + ' |')
    md += ["", "Validation MSE (what chose the ridge strength), mean over seeds:", "", "| labelled windows | " + ' | '.join(names) + " |", '|---|' + '---|' * len(names)]
    for frac in a.fractions:
        rr = [r for r in rows if r['fraction'] == frac]
        md.append(f"| {100 * frac:g}% | " + ' | '.join(f"{np.mean([r['valid_mse'] for r in rr if r['features'] == n]):.4f}" for n in names) + ' |')
    write(a.name, dict(args=vars(a), pretraining=pre, rows=rows), '\n'.join(md), out=a.out)

def _raw(ds, bs=256):
    "The RevIN-normalised lookback itself as features, in the layout of `_features`."
    X = torch.stack([ds[j][0] for j in range(len(ds))]); Y = torch.stack([ds[j][1] for j in range(len(ds))])
    m, s = X.mean(1, keepdim=True), (X.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt()
    return ((X - m) / s).permute(0, 2, 1), Y, m, s

def diag_features(a, env):
    "Why do probe and fine-tune miss? Controls and pretext variants at one fraction, seed 0, judged on validation."
    g = type('E', (), env)
    from common import write
    t0 = time.time(); rows = []
    def add(group, label, fn, *args, **kw):
        r = g.run(fn, *args, **kw); rows.append(dict(group=group, label=label, **r))
        print(f"[{group}] {label:<48} best valid {r['best_valid']:.4f} (epoch {r['kept_epoch']})  test {r['test_mse']:.4f}  {r['seconds']} s", flush=True)
    frac = a.diag_fraction
    dls, k = g.subset_dls(frac, 0)
    ck, log = g.pretrain(g.PatchMAE); pre = {'masked cells only (as the study)': log}
    add('features', 'PatchMAE LP (final layer, as the study)', g.probe, dls, 0, ck)
    add('features', 'PatchMAE LP on layer-1 output', g.probe_layers, dls, 0, ck, 1)
    add('features', 'random-init model LP (control)', g.probe_random, dls, 0)
    ck_v, log_v = g.pretrain(g.PatchMAE, visible_weight=1., last_n=0, tag='_vis'); pre['loss on masked + visible cells (weight 1)'] = log_v
    add('pretext', 'masked + visible loss: LP', g.probe, dls, 0, ck_v)
    add('pretext', 'masked + visible loss: FT 4 head, body lr/10', g.finetune, dls, 0, ck_v, recipe='disc', head_epochs=4, body_div=10.)
    ck_l, log_l = g.pretrain(g.PatchMAE, visible_weight=0., last_n=3, tag='_last'); pre['random 0.4 + last 3 patches masked'] = log_l
    add('pretext', 'random + last 3 patches masked: LP', g.probe, dls, 0, ck_l)
    add('pretext', 'random + last 3 patches masked: FT 4 head, body lr/10', g.finetune, dls, 0, ck_l, recipe='disc', head_epochs=4, body_div=10.)
    for f in (ck, ck_v, ck_l): f.unlink()
    g.tmp.rmdir()
    total = time.time() - t0
    md = [g.common_md + f" Feature diagnosis at {100 * frac:g}% of the labelled windows ({k}), one seed (0); choose on validation, test "
          f"shown beside it. Whole run {total:.0f} s.", "", "| group | variant | best valid MSE (epoch) | test MSE | s |", "|---|---|---|---|---|"]
    md += [f"| {r['group']} | {r['label']} | {r['best_valid']:.4f} ({r['kept_epoch']}) | {r['test_mse']:.4f} | {r['seconds']} |" for r in rows]
    md += ["", "Pretraining runs (valid loss per epoch; the variants' losses include their extra terms):", ""]
    md += [f"- {k}: {v['valid_loss']} ({v['seconds']} s)" for k, v in pre.items()]
    write(a.name, dict(args=vars(a), total_seconds=round(total, 1), fraction=frac, n_labelled=k, pretraining=pre, rows=rows), '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
