#!/usr/bin/env python
"""ETTh1 benchmark of chapter 01 (PatchMAE): one run, one table over lookbacks x horizons.

Rows, all with the same PatchITransformer architecture, the standard 12/4/4-month split, MSE/MAE on every z-scored
test window; for each lookback L in `--seq-lens` and horizon H in `--horizons`:

  supervised         from scratch, all layers, `--sup-epochs`
  pretrain + LP      PatchMAE pretraining, then strict linear probe (head only)
  pretrain + FT      PatchMAE pretraining, then head `--ft-head-epochs`, then all layers at lr/2
  old scalar + LP    the old design (ScalarMeanMAE: patch means, value_proj(1 -> D)), encoder transferred,
                     patch_embed cannot be transferred and stays random and frozen (the earlier design's failure)
  LP, no patch_embed PatchMAE pretraining, everything but patch_embed transferred, linear probe
  train mean / last value   trivial forecasts, for scale

Pretraining depends on L only, so each lookback is pretrained once (both designs) and reused for every horizon.
With `--select best` (default) every trained row keeps the weights of its epoch with the lowest validation loss
(fastai's SaveModelCallback, as PatchTST's early stopping does); `--select last` keeps the last epoch.

The default run is sized for 2 CPU cores in about 30 minutes (small model, train windows every `--stride` steps,
few epochs): far from the published PatchTST budget, and the table says so.

    python bench/etth1_patch_mae.py           # writes bench/results/etth1_patch_mae.{json,md} and etth1_patch_mae_curves.png
    python bench/etth1_patch_mae.py --seq-lens 512 --horizons 96 --stride 1 --pre-epochs 100 --sup-epochs 100   # closer to the papers
"""
import shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, RESULTS

METHODS = ['supervised from scratch', 'PatchMAE pretrain + linear probe', 'PatchMAE pretrain + fine-tune',
           'old scalar-mean pretrain + linear probe', 'PatchMAE pretrain + linear probe, patch_embed not transferred',
           'train mean (zero) forecast', 'last value forecast']

def main():
    ap = parser(__doc__, name='etth1_patch_mae', threads=2, seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--seq-lens', type=int, nargs='+', default=[512, 336], help='lookbacks L')
    ap.add_argument('--horizons', type=int, nargs='+', default=[96, 336], help='forecast horizons H')
    ap.add_argument('--patch-len', type=int, default=16, help='patch length = stride of the patches')
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2)
    ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--dropout', type=float, default=0.0, help='dropout (attention dropout is slow on CPU)')
    ap.add_argument('--mask-ratio', type=float, default=0.4)
    ap.add_argument('--mask-mode', default='token', choices=['token', 'visible'])
    ap.add_argument('--stride', type=int, default=4, help='steps between downstream train windows (1 = every window)')
    ap.add_argument('--pre-stride', type=int, default=4, help='steps between pretraining windows (unlabelled, same train split)')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--pre-epochs', type=int, default=10, help='pretraining epochs (PatchMAE and the old design)')
    ap.add_argument('--sup-epochs', type=int, default=10, help='supervised-from-scratch epochs')
    ap.add_argument('--lp-epochs', type=int, default=10, help='linear-probe epochs')
    ap.add_argument('--ft-head-epochs', type=int, default=2, help='fine-tune: head-only epochs first')
    ap.add_argument('--ft-epochs', type=int, default=8, help='fine-tune: all-layer epochs after the head')
    ap.add_argument('--pre-lr', type=float, default=3e-3)
    ap.add_argument('--lr', type=float, default=1e-3, help='supervised and fine-tune lr (all layers at lr/2)')
    ap.add_argument('--lp-lr', type=float, default=3e-3)
    ap.add_argument('--select', default='best', choices=['best', 'last'], help='keep the best-validation epoch or the last')
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick:  # one short lookback and horizon, one epoch per row, few windows
        a.seq_lens, a.horizons, a.stride, a.pre_stride = [96], [24], 64, 64
        a.pre_epochs = a.sup_epochs = a.lp_epochs = a.ft_head_epochs = a.ft_epochs = 1
    res = Path(a.out) if a.out else RESULTS
    res.mkdir(parents=True, exist_ok=True)

    import torch
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from fastai.callback.tracker import SaveModelCallback
    from patchssl.data import etth1_splits, series_dls
    from patchssl.patch_mae import (PatchMAE, ScalarMeanMAE, PatchITransformer, pretrain_learner, forecast_learner,
                                    evaluate_forecast, mean_fill_loss)
    from patchssl.transfer import save_checkpoint, load_pretrained
    import patchssl.transfer  # noqa: F401  (Learner.linear_probe / fine_tune_pretrained)

    tmp = Path(tempfile.mkdtemp())
    t_all = time.time()
    arch = dict(patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff, dropout=a.dropout)
    configs, pretraining = [], {}

    def fit(learn, how, *args, **kw):
        "Train quietly; with --select best restore the epoch with the lowest validation loss."
        learn.path, learn.model_dir = tmp, 'models'
        cbs = [SaveModelCallback(monitor='valid_loss', fname='best', with_opt=False)] if a.select == 'best' else []
        with learn.no_bar(), learn.no_logging(): getattr(learn, how)(*args, cbs=cbs, **kw)
        v = [round(float(r[1]), 4) for r in learn.recorder.values]
        return dict(valid_loss=v, train_loss=[round(float(r[0]), 4) for r in learn.recorder.values],
                    kept_epoch=(int(min(range(len(v)), key=v.__getitem__)) + 1 if a.select == 'best' else len(v)))

    for L in a.seq_lens:
        splits = etth1_splits(L)
        N = len(splits.columns)
        pdls = series_dls(splits, L, 0, a.pre_stride, bs=a.bs, eval_stride=32, num_workers=0)
        log = {}
        def pretrain(cls):
            torch.manual_seed(a.seed)
            m = cls(N, L, **arch, **(dict(mask_mode=a.mask_mode) if cls is PatchMAE else {}))
            learn = pretrain_learner(pdls, m, a.mask_ratio)
            t = time.time()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.pre_epochs, a.pre_lr)  # pretraining: last epoch
            path = save_checkpoint(tmp/f'{cls.__name__}_{L}.pt', m, None, a.pre_epochs)
            log[cls.__name__] = dict(valid_loss=[round(float(v[1]), 4) for v in learn.recorder.values],
                                     train_loss=[round(float(v[0]), 4) for v in learn.recorder.values], seconds=round(time.time() - t, 1))
            print(f"L={L} pretrain {cls.__name__}: valid masked loss {log[cls.__name__]['valid_loss']} ({time.time() - t:.0f} s)", flush=True)
            return path
        ck, ck_old = pretrain(PatchMAE), pretrain(ScalarMeanMAE)
        log['mean_fill_loss'] = round(mean_fill_loss(pdls.valid, PatchMAE(N, L, **arch), a.mask_ratio), 4)
        log['n_windows'] = len(pdls.train_ds)
        pretraining[L] = log

        for H in a.horizons:
            fdls = series_dls(splits, L, H, a.stride, bs=a.bs, eval_stride=32, num_workers=0)
            test_dl = series_dls(splits, L, H, a.stride, bs=128, eval_stride=1, num_workers=0).test  # every test window
            rows = []
            def down(): return PatchITransformer(N, L, horizon=H, **arch)
            def probe(m, rep):
                l = forecast_learner(fdls, m)
                return m, dict(epochs=a.lp_epochs, trained='head', transferred=len(rep.matched), **fit(l, 'linear_probe', a.lp_epochs, a.lp_lr))
            def supervised():
                torch.manual_seed(a.seed); m = down()
                return m, dict(epochs=a.sup_epochs, trained='all', **fit(forecast_learner(fdls, m), 'fit_one_cycle', a.sup_epochs, a.lr))
            def lp():
                torch.manual_seed(a.seed); m, rep = PatchITransformer.from_checkpoint(ck, horizon=H)
                return probe(m, rep)
            def ft():
                torch.manual_seed(a.seed); m, rep = PatchITransformer.from_checkpoint(ck, horizon=H)
                r = fit(forecast_learner(fdls, m), 'fine_tune_pretrained', a.ft_epochs, a.lr, freeze_epochs=a.ft_head_epochs)
                return m, dict(epochs=f"{a.ft_head_epochs}+{a.ft_epochs}", trained='head, then all', transferred=len(rep.matched), **r)
            def old_lp():
                torch.manual_seed(a.seed); m = down()
                return probe(m, load_pretrained(m, ck_old, require=('encoder',), ignore=('patch_mode',)))
            def lp_no_embed():
                torch.manual_seed(a.seed); m = down()
                return probe(m, load_pretrained(m, ck, require=('encoder',), skip=('patch_embed',)))
            class Const(torch.nn.Module):
                def forward(self, x): return torch.zeros(len(x), H, N)
            class Last(torch.nn.Module):
                def forward(self, x): return x[:, -1:].expand(-1, H, -1)
            fns = [supervised, lp, ft, old_lp, lp_no_embed, lambda: (Const(), dict(epochs=0, trained='-')),
                   lambda: (Last(), dict(epochs=0, trained='-'))]
            for name, fn in zip(METHODS, fns):
                t = time.time()
                model, extra = fn()
                r = evaluate_forecast(model, test_dl)
                rows.append(dict(method=name, mse=round(r['mse'], 4), mae=round(r['mae'], 4), seconds=round(time.time() - t, 1), **extra))
                print(f"L={L} H={H} {name}: test MSE {r['mse']:.4f} MAE {r['mae']:.4f} ({time.time() - t:.0f} s)", flush=True)
            configs.append(dict(seq_len=L, horizon=H, n_train_windows=len(fdls.train_ds), n_test_windows=len(test_dl.dataset), rows=rows))
        for f in (ck, ck_old): f.unlink()
    shutil.rmtree(tmp, ignore_errors=True)
    total = time.time() - t_all

    # ---- loss curves: pretraining (per lookback) and downstream validation loss (per configuration)
    nc = max(len(a.seq_lens), len(configs))
    fig, axs = plt.subplots(2, nc, figsize=(4.2 * nc, 6.5), squeeze=False)
    for j, L in enumerate(a.seq_lens):
        ax, lg = axs[0, j], pretraining[L]
        for k, c in (('PatchMAE', 'C0'), ('ScalarMeanMAE', 'C3')):
            e = range(1, len(lg[k]['valid_loss']) + 1)
            ax.plot(e, lg[k]['train_loss'], c=c, ls='--', lw=1); ax.plot(e, lg[k]['valid_loss'], c=c, label=f'{k} (valid; train dashed)')
        ax.axhline(lg['mean_fill_loss'], c='gray', ls=':', label='visible-mean fill')
        ax.set(title=f'pretraining, L={L}', xlabel='epoch', ylabel='masked MSE'); ax.legend(fontsize=7)
    for j in range(len(a.seq_lens), nc): axs[0, j].axis('off')
    for j, c in enumerate(configs):
        ax = axs[1, j]
        for r in c['rows']:
            if 'valid_loss' in r: ax.plot(range(1, len(r['valid_loss']) + 1), r['valid_loss'], marker='.', lw=1, label=r['method'].replace('PatchMAE pretrain', 'pre'))
        ax.set(title=f'downstream valid MSE, L={c["seq_len"]} H={c["horizon"]}', xlabel='epoch (fine-tune: all-layer phase)')
        if j == 0: ax.legend(fontsize=6)
    fig.tight_layout(); fig.savefig(res/f'{a.name}_curves.png', dpi=90)

    # ---- markdown: one table, a column pair per configuration
    hdr = ' | '.join(f"L={c['seq_len']} H={c['horizon']} MSE / MAE" for c in configs)
    md = [f"**Small CPU budget, not the published setup**: d_model {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, patch {a.patch_len}, "
          f"dropout {a.dropout}; downstream train windows every {a.stride} steps, pretraining {a.pre_epochs} epochs on windows every "
          f"{a.pre_stride} steps of the same train split (mask {a.mask_ratio}, {a.mask_mode}); supervised {a.sup_epochs} epochs, linear probe "
          f"{a.lp_epochs}, fine-tune {a.ft_head_epochs} head + {a.ft_epochs} all-layer epochs; "
          f"{'each trained row keeps its best-validation epoch' if a.select == 'best' else 'last epoch kept'}. Test: every window of the "
          f"standard test split, z-scored. One seed ({a.seed}). Whole run {total:.0f} s. References at H=96 (shared data README): supervised "
          f"PatchTST/64 (L=512) 0.370 / 0.400, DLinear 0.375 / 0.399.", "",
          f"| method | {hdr} |", '|---|' + '---|' * len(configs)]
    for i, name in enumerate(METHODS):
        md.append(f"| {name} | " + ' | '.join(f"{c['rows'][i]['mse']:.4f} / {c['rows'][i]['mae']:.4f}" for c in configs) + ' |')
    md += ["", "Kept epoch (of the epochs trained; fine-tune counts its all-layer phase) and seconds per row:", "",
           f"| method | " + ' | '.join(f"L={c['seq_len']} H={c['horizon']}" for c in configs) + ' |', '|---|' + '---|' * len(configs)]
    for i, name in enumerate(METHODS[:5]):
        md.append(f"| {name} | " + ' | '.join(f"{c['rows'][i]['kept_epoch']} of {len(c['rows'][i]['valid_loss'])}, {c['rows'][i]['seconds']} s" for c in configs) + ' |')
    md += ["", "Pretraining, validation masked loss per epoch:", ""]
    for L, lg in pretraining.items():
        md.append(f"- L={L} ({lg['n_windows']} windows): PatchMAE {lg['PatchMAE']['valid_loss']} ({lg['PatchMAE']['seconds']} s); old scalar-mean "
                  f"{lg['ScalarMeanMAE']['valid_loss']}; visible-mean fill {lg['mean_fill_loss']}")
    md += ["", f"Loss curves: `{a.name}_curves.png`.", "", f"![loss curves]({a.name}_curves.png)"]
    write(a.name, dict(args=vars(a), total_seconds=round(total, 1), pretraining={str(k): v for k, v in pretraining.items()}, configs=configs),
          '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
