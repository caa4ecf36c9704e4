"""PatchMAE reconstruction on ETTh1 validation windows against three trivial fills, and the reconstruction figure.

Trains one PatchMAE (default: the main job's configuration, `patchssl pretrain`), then measures the masked-cell MSE
(z-scored ETTh1, same validation masks for every method) of:
- the model,
- the visible-mean fill (every hidden cell = the visible mean of its variable in that window),
- linear interpolation across the hidden patch (from the nearest visible steps of the same variable),
- a copy of the same patch from the most correlated visible variable (correlation on the train split, rescaled with each
  variable's visible mean and std in the window; the mean fill where no correlated variable is visible).
Writes bench/results/patch_mae_reconstruction.{json,md} and the figure nbs/images/patch_mae_reconstruction.png
(a validation window, masked cells shaded, the reconstruction drawn only on masked cells). In the figure's window one
HUFL patch is hidden while MUFL is visible at the same patch; the table adds that patch's error, and the error of the
same model when the MUFL patch is hidden too (does the model read HUFL off MUFL?).

    python bench/patch_mae_reconstruction.py                   # main-job configuration (patch x variable, lr 1e-2, 10 epochs)
    python bench/patch_mae_reconstruction.py --token-mode channel_independent --name patch_mae_reconstruction_ci --figure /tmp/ci.png
    python bench/patch_mae_reconstruction.py --attention hub --name patch_mae_reconstruction_hub --figure /tmp/hub.png

With `--checkpoint run/patch_mae.pt` nothing is trained: the checkpoint of a `patchssl pretrain` run is scored on the
validation split of the data it was trained on (its own options: `--data`, `--columns`, `--split`, `--seq-len`,
`--bs`), against the visible-mean fill, interpolation and the copy from the most correlated variable, on the same masks:

    python bench/patch_mae_reconstruction.py --checkpoint /tmp/big_run/patch_mae.pt --name patch_mae_factor321 --figure /tmp/f.png
"""
import sys, time
from pathlib import Path
import numpy as np
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table, RESULTS

ROOT = Path(__file__).resolve().parents[1]

def baselines(x, mask, patch_len, corr):
    "Masked-cell predictions `[B, P, N, p]` of the three fills for windows `x [B, L, N]` and a patch mask `[B, P, N]`."
    from patchssl.patching import patchify
    from patchssl.patch_mae import instance_stats
    pt = patchify(x, patch_len)
    mean, std = instance_stats(pt, ~mask)
    fill = mean.expand_as(pt).clone()
    # linear interpolation over time from the visible steps of the same variable
    B, P, N, p = pt.shape
    steps = mask[..., None].expand(B, P, N, p).permute(0, 2, 1, 3).reshape(B, N, P * p)
    series = pt.permute(0, 2, 1, 3).reshape(B, N, P * p)
    interp = series.clone().numpy()
    t = np.arange(P * p)
    for b in range(B):
        for n in range(N):
            hid = steps[b, n].numpy()
            if hid.any() and (~hid).any(): interp[b, n, hid] = np.interp(t[hid], t[~hid], series[b, n].numpy()[~hid])
    interp = torch.as_tensor(interp).reshape(B, N, P, p).permute(0, 2, 1, 3)
    # copy from the most correlated visible variable at the same patch (rescaled with the visible statistics of both)
    order = torch.as_tensor(np.argsort(-np.abs(corr), axis=1, kind='stable'))
    cands = torch.stack([order[n][order[n] != n] for n in range(N)])            # [N, N-1], best first
    vis = ~mask[:, :, cands]                                                     # [B, P, N, N-1]: candidate visible there?
    first = vis.int().argmax(-1)                                                 # [B, P, N] first visible candidate
    has = vis.any(-1)
    src = cands[torch.arange(N)[None, None], first]                              # [B, P, N] variable copied from
    z = (pt - mean) / std                                                        # [B, P, N, p]
    zc = torch.gather(z, 2, src[..., None].expand(B, P, N, p))
    sign = torch.as_tensor(np.sign(corr), dtype=pt.dtype)[torch.arange(N)[None, None], src][..., None]
    copy = mean + sign * std * zc
    copy = torch.where((mask & has)[..., None], copy, fill)
    return dict(mean_fill=fill, interpolation=interp, copy_correlated=copy), pt

def score(model, dl, N, mask_ratio, patch_len, corr):
    "Masked-cell MSE (z-scored data scale) of the model and the fills on `dl`, with the validation masks of `MaskingCallback` (batch i: seed i)."
    from patchssl.patching import make_mask, masked_loss
    model.eval()
    tot, n = {}, 0
    with torch.no_grad():
        for i, (x, *_) in enumerate(dl):
            mask = make_mask((len(x), model.n_patches, N), mask_ratio, 'patch_var', torch.Generator().manual_seed(i))
            preds, pt = baselines(x, mask, patch_len, corr)
            preds = {'PatchMAE': model(x, mask), **preds}
            for k, v in preds.items(): tot[k] = tot.get(k, 0.) + masked_loss(v, pt, mask).item() * len(x)
            n += len(x)
    return {k: v / n for k, v in tot.items()}, n

def from_run(a):
    "Score the checkpoint of a `patchssl pretrain` run on its data's validation split; figure of a few variables."
    import inspect
    from patchssl.transfer import load_checkpoint
    from patchssl.patch_mae import PatchMAE, pretrain_data, masked_recon
    from patchssl.data import series_dls
    from patchssl.patching import make_mask, plot_masked_window
    ck = load_checkpoint(a.checkpoint)
    o = ck['extra']['options']
    cfg = {k: v for k, v in ck['config'].items() if k in inspect.signature(PatchMAE).parameters}
    model = PatchMAE(**cfg); model.load_state_dict(ck['state_dict']); model.eval()
    splits, name = pretrain_data(o)
    N = len(splits.columns)
    dls = series_dls(splits, o['seq_len'], 0, o['stride'], bs=o['bs'], eval_stride=32, num_workers=0)
    corr = np.corrcoef(splits.train.T)
    mse, n = score(model, dls.valid, N, o['mask_ratio'], model.patch_len, corr)
    rows = '\n'.join(f"| {k} | {v:.4f} |" for k, v in mse.items())
    best = min((v, k) for k, v in mse.items() if k != 'PatchMAE')
    table = (f"Masked-cell MSE on {n} validation windows of {name} ({N} variables, z-scored with train statistics; mask {o['mask_ratio']} "
             f"per patch x variable, the validation masks of training), checkpoint {a.checkpoint} (PatchMAE {model.token_mode}, attention "
             f"{model.attention}, L {model.seq_len}, patch {model.patch_len}, D {model.d_model}, {model.n_layers} layers, {ck['epoch']} epochs)"
             f"\n\n| method | masked MSE |\n|---|---|\n{rows}\n\nPatchMAE / best fill ({best[1]}): {mse['PatchMAE'] / best[0]:.3f}")
    x = dls.valid.dataset[len(dls.valid.dataset) // 3][0][None]
    m = make_mask((1, model.n_patches, N), o['mask_ratio'], 'patch_var', torch.Generator().manual_seed(a.seed + 7))
    with torch.no_grad(): rec = masked_recon(model(x, m), m, model.stride)
    vs = list(range(min(4, N)))
    k = min(12, model.n_patches); w = k * model.patch_len
    fig = plot_masked_window(x[0, -w:, vs], m[0, -k:][:, vs], model.patch_len, recon=rec[0, -w:, vs], var_names=[splits.columns[i] for i in vs],
                             title=f"PatchMAE ({model.attention} attention, {N} variables), {name} validation window: dashed = reconstruction of the masked (shaded) cells\n"
                                   f"masked MSE over the validation split {mse['PatchMAE']:.2f}; visible-mean fill {mse['mean_fill']:.2f}, "
                                   f"copy from the most correlated variable {mse['copy_correlated']:.2f}", figsize=(9, 5))
    Path(a.figure).parent.mkdir(parents=True, exist_ok=True); fig.savefig(a.figure, dpi=110)
    write(a.name, dict(options=vars(a), run_options=o, masked_mse=mse, n_valid_windows=n, config=ck['config']), table, out=a.out)

def main():
    from patchssl.data import etth1_splits, series_dls
    from patchssl.patching import make_mask, masked_loss, plot_masked_window, patchify
    from patchssl.patch_mae import PatchMAE, pretrain_learner, masked_recon
    ap = parser(__doc__, name='patch_mae_reconstruction', threads=2, seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--seq-len', type=int, default=336); ap.add_argument('--patch-len', type=int, default=16)
    ap.add_argument('--d-model', type=int, default=64); ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2); ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--token-mode', default='patch_var'); ap.add_argument('--mask-mode', default='token')
    ap.add_argument('--attention', default='full', help="patch x variable attention: 'full', 'factorised' or 'hub'")
    ap.add_argument('--n-hubs', type=int, default=4, help="hub tokens per patch for --attention hub")
    ap.add_argument('--checkpoint', default=None, help='score this `patchssl pretrain` checkpoint on its own data instead of training')
    ap.add_argument('--mask-ratio', type=float, default=0.4); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--lr', type=float, default=1e-2); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--stride', type=int, default=4)
    ap.add_argument('--loss-space', default='norm', help="training loss space of PatchMAE, 'norm' or 'data' (the table is in the z-scored data scale)")
    ap.add_argument('--figure', default=str(ROOT/'nbs'/'images'/'patch_mae_reconstruction.png'))
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick:  # one epoch on few windows; the figure goes beside the results, not over the chapter's
        a.epochs, a.stride = 1, 64
        if a.figure == ap.get_default('figure'): a.figure = str(Path(a.out or RESULTS)/f'{a.name}.png')
    if a.checkpoint: return from_run(a)
    sp = etth1_splits(a.seq_len)
    N = len(sp.columns)
    dls = series_dls(sp, a.seq_len, 0, a.stride, bs=a.bs, eval_stride=32, num_workers=0)
    model = PatchMAE(N, a.seq_len, patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff,
                     dropout=0., token_mode=a.token_mode, mask_mode=a.mask_mode, loss_space=a.loss_space,
                     attention=a.attention, n_hubs=a.n_hubs)
    learn = pretrain_learner(dls, model, a.mask_ratio)
    t0 = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
    secs = time.time() - t0
    corr = np.corrcoef(sp.train.T)
    mse, n = score(model, dls.valid, N, a.mask_ratio, a.patch_len, corr)
    rows = '\n'.join(f"| {k} | {v:.4f} |" for k, v in mse.items())
    table = (f"Masked-cell MSE on {n} ETTh1 validation windows (z-scored; mask {a.mask_ratio} per patch x variable, fixed masks), "
             f"PatchMAE {a.token_mode}/{a.mask_mode}/{a.attention} attention, L {a.seq_len}, patch {a.patch_len}, D {a.d_model}, {a.n_layers} layers, "
             f"{a.epochs} epochs on {len(dls.train_ds)} windows ({secs:.0f} s of training)\n\n| method | masked MSE |\n|---|---|\n{rows}")
    # figure: one validation window, HUFL/HULL/MUFL/MULL/OT, with a masked HUFL patch whose MUFL patch is visible
    x = dls.valid.dataset[len(dls.valid.dataset) // 3][0][None]
    g = torch.Generator().manual_seed(a.seed + 7)
    m = make_mask((1, model.n_patches, N), a.mask_ratio, 'patch_var', g)
    P, k = model.n_patches, min(12, model.n_patches)
    j = P - 4  # a patch inside the plotted range: hide HUFL (0) there and show MUFL (2), keeping the counts exact
    HU, MU = sp.columns.index('HUFL'), sp.columns.index('MUFL')
    if not m[0, j, HU]:
        swap = int(next(i for i in range(P) if m[0, i, HU] and i != j)); m[0, swap, HU], m[0, j, HU] = False, True
    if m[0, j, MU]:
        swap = int(next(i for i in range(P) if not m[0, i, MU] and i != j)); m[0, swap, MU], m[0, j, MU] = True, False
    m2 = m.clone(); m2[0, j, MU] = True  # the same mask with MUFL hidden at that patch too
    m2[0, int(next(i for i in range(P) if m2[0, i, MU] and i != j)), MU] = False
    with torch.no_grad(): out, out2 = model(x, m), model(x, m2)
    rec = masked_recon(out, m)
    ptx = patchify(x, a.patch_len)
    err = lambda o: float(((o[0, j, HU] - ptx[0, j, HU]) ** 2).mean())
    base, _ = baselines(x, m, a.patch_len, corr)
    hufl = dict(patch=j, mufl_visible=err(out), mufl_hidden=err(out2), mean_fill=err(base['mean_fill']),
                interpolation=err(base['interpolation']), copy_correlated=err(base['copy_correlated']))
    w = k * a.patch_len; vs = [HU, sp.columns.index('HULL'), MU, sp.columns.index('MULL'), sp.columns.index('OT')]
    fig = plot_masked_window(x[0, -w:, vs], m[0, -k:][:, vs], a.patch_len, recon=rec[0, -w:, vs], var_names=[sp.columns[i] for i in vs],
                             title=f"PatchMAE ({a.token_mode}, {a.attention} attention, {a.epochs} epochs), ETTh1 validation window: dashed = reconstruction of the masked (shaded) cells\n"
                                   f"masked MSE over the validation split {mse['PatchMAE']:.2f}; visible-mean fill {mse['mean_fill']:.2f}, "
                                   f"interpolation {mse['interpolation']:.2f}, copy from the most correlated variable {mse['copy_correlated']:.2f}\n"
                                   f"HUFL patch at steps {w - (P - j) * a.patch_len}-{w - (P - j - 1) * a.patch_len - 1} hidden, MUFL visible there: MSE {hufl['mufl_visible']:.2f} "
                                   f"(MUFL hidden too: {hufl['mufl_hidden']:.2f}; mean fill {hufl['mean_fill']:.2f})",
                             figsize=(9, 6))
    ax = fig.axes[0]; a0 = w - (P - j) * a.patch_len
    ax.annotate('HUFL hidden, MUFL visible', xy=(a0 + a.patch_len / 2, ax.get_ylim()[1]), fontsize=7, ha='center', va='top', color='C3')
    Path(a.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.figure, dpi=110)
    table += (f"\n\nFigure window: the HUFL patch {j} is hidden while MUFL is visible at that patch; masked MSE of that HUFL patch: "
              f"PatchMAE {hufl['mufl_visible']:.3f}, the same model with MUFL hidden there too {hufl['mufl_hidden']:.3f}, "
              f"mean fill {hufl['mean_fill']:.3f}, interpolation {hufl['interpolation']:.3f}, copy {hufl['copy_correlated']:.3f}.")
    write(a.name, dict(options=vars(a), masked_mse=mse, train_seconds=round(secs, 1), n_valid_windows=n, figure_hufl_patch=hufl), table, out=a.out)

if __name__ == '__main__': main()
