#!/usr/bin/env python
"""ETTh1 benchmark of chapter 01 (PatchMAE): one run, one table.

Rows, all with the same PatchITransformer architecture and the same test split (lookback 512, horizon 96,
standard 12/4/4-month split, MSE/MAE on the z-scored test windows, every window):

  supervised         from scratch, all layers, `--sup-epochs`
  pretrain + LP      PatchMAE pretraining, then strict linear probe (head only)
  pretrain + FT      PatchMAE pretraining, then head `--ft-head-epochs`, then all layers at lr/2
  old scalar + LP    the old design (ScalarMeanMAE: patch means, value_proj(1 -> D)), encoder transferred,
                     patch_embed cannot be transferred and stays random and frozen (seed 000's failure)
  LP, no patch_embed PatchMAE pretraining, everything but patch_embed transferred, linear probe
  train mean / last value   trivial forecasts, for scale

The default run is sized for 2 CPU cores in about 20 minutes (small model, train windows every `--stride` steps,
few epochs): far from the published PatchTST budget, and the table says so.

    python bench/etth1_patch_mae.py                       # default CPU run, writes bench/results/etth1_patch_mae.{json,md}
    python bench/etth1_patch_mae.py --stride 1 --pre-epochs 100 --sup-epochs 100 ...   # closer to the papers
"""
import argparse, json, os, platform, subprocess, sys, time
from pathlib import Path

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seq-len', type=int, default=512, help='lookback L')
    ap.add_argument('--horizon', type=int, default=96, help='forecast steps H')
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
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default='bench/results', help='folder for etth1_patch_mae.json / .md')
    ap.add_argument('--tag', default='', help='suffix for the result files, e.g. _L336')
    a = ap.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    from fastai.learner import Learner
    from patchssl.data import etth1_splits, series_dls
    from patchssl.patch_mae import (PatchMAE, ScalarMeanMAE, PatchITransformer, pretrain_learner, forecast_learner,
                                    evaluate_forecast, mean_fill_loss)
    from patchssl.transfer import save_checkpoint, load_pretrained
    import patchssl.transfer  # noqa: F401  (Learner.linear_probe / fine_tune_pretrained)

    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    t_all = time.time()
    splits = etth1_splits(a.seq_len)
    pdls = series_dls(splits, a.seq_len, 0, a.pre_stride, bs=a.bs, eval_stride=32, num_workers=0)
    fdls = series_dls(splits, a.seq_len, a.horizon, a.stride, bs=a.bs, eval_stride=32, num_workers=0)
    test_dl = series_dls(splits, a.seq_len, a.horizon, a.stride, bs=128, eval_stride=1, num_workers=0).test  # every test window
    arch = dict(patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff, dropout=a.dropout)
    N = len(splits.columns)
    rows, log = [], {}
    quiet = lambda l: l.no_logging()

    def run(name, fn):
        t = time.time(); print(f"== {name}", flush=True)
        model, extra = fn()
        lrn = extra.pop('learn', None)
        if lrn is not None and len(lrn.recorder.values):
            extra.update(train_loss=round(float(lrn.recorder.values[-1][0]), 4), valid_loss=round(float(lrn.recorder.values[-1][1]), 4))
        r = evaluate_forecast(model, test_dl)
        rows.append(dict(method=name, mse=r['mse'], mae=r['mae'], seconds=round(time.time() - t, 1), **extra))
        print(f"   test MSE {r['mse']:.4f}  MAE {r['mae']:.4f}  ({time.time() - t:.0f} s)", flush=True)

    def down(**kw): return PatchITransformer(N, a.seq_len, horizon=a.horizon, **arch, **kw)

    # --- pretraining
    def pretrain(cls, path):
        torch.manual_seed(a.seed)
        m = cls(N, a.seq_len, **arch, **(dict(mask_mode=a.mask_mode) if cls is PatchMAE else {}))
        learn = pretrain_learner(pdls, m, a.mask_ratio)
        t = time.time()
        with quiet(learn): learn.fit_one_cycle(a.pre_epochs, a.pre_lr)
        vals = [round(float(v[1]), 4) for v in learn.recorder.values]
        save_checkpoint(path, m, learn.opt, a.pre_epochs, dict(valid_loss=vals))
        log[cls.__name__] = dict(valid_loss=vals, seconds=round(time.time() - t, 1))
        print(f"   {cls.__name__}: valid masked loss per epoch {vals} ({time.time() - t:.0f} s)", flush=True)
        return path
    print(f"== pretraining ({a.pre_epochs} epochs, {len(pdls.train_ds)} windows)", flush=True)
    ck = pretrain(PatchMAE, out/'_etth1_patch_mae.pt')
    ck_old = pretrain(ScalarMeanMAE, out/'_etth1_scalar_mean.pt')
    log['mean_fill_loss'] = round(mean_fill_loss(pdls.valid, PatchMAE(N, a.seq_len, **arch), a.mask_ratio), 4)

    def supervised():
        torch.manual_seed(a.seed); m = down(); l = forecast_learner(fdls, m)
        with quiet(l): l.fit_one_cycle(a.sup_epochs, a.lr)
        return m, dict(epochs=a.sup_epochs, trained='all', learn=l)
    def probe(m, rep):  # linear probe of a downstream model after a transfer (the three probe variants differ only in loading)
        l = forecast_learner(fdls, m)
        with quiet(l): l.linear_probe(a.lp_epochs, a.lp_lr)
        return m, dict(epochs=a.lp_epochs, trained='head', transferred=len(rep.matched), learn=l)
    def lp():
        torch.manual_seed(a.seed); m, rep = PatchITransformer.from_checkpoint(ck, horizon=a.horizon)
        return probe(m, rep)
    def ft():
        torch.manual_seed(a.seed); m, rep = PatchITransformer.from_checkpoint(ck, horizon=a.horizon)
        l = forecast_learner(fdls, m)
        with quiet(l): l.fine_tune_pretrained(a.ft_epochs, a.lr, freeze_epochs=a.ft_head_epochs)
        return m, dict(epochs=f"{a.ft_head_epochs}+{a.ft_epochs}", trained='head, then all', transferred=len(rep.matched), learn=l)
    def old_lp():
        torch.manual_seed(a.seed); m = down()
        rep = load_pretrained(m, ck_old, require=('encoder',), ignore=('patch_mode',))
        return probe(m, rep)
    def lp_no_embed():
        torch.manual_seed(a.seed); m = down()
        rep = load_pretrained(m, ck, require=('encoder',), skip=('patch_embed',))
        return probe(m, rep)
    class Const(torch.nn.Module):
        def forward(self, x): return torch.zeros(len(x), a.horizon, N)
    class Last(torch.nn.Module):
        def forward(self, x): return x[:, -1:].expand(-1, a.horizon, -1)

    run('supervised from scratch', supervised)
    run('PatchMAE pretrain + linear probe', lp)
    run('PatchMAE pretrain + fine-tune', ft)
    run('old scalar-mean pretrain + linear probe', old_lp)
    run('PatchMAE pretrain + linear probe, patch_embed not transferred', lp_no_embed)
    run('train mean (zero) forecast', lambda: (Const(), dict(epochs=0, trained='-')))
    run('last value forecast', lambda: (Last(), dict(epochs=0, trained='-')))
    for f in (ck, ck_old): f.unlink()

    try: cpu = subprocess.run(['sh', '-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    except Exception: cpu = platform.processor()
    meta = dict(command='python ' + ' '.join(sys.argv), machine=dict(cpu=cpu, cores=os.cpu_count(), threads=a.threads,
                platform=platform.platform(), python=platform.python_version(), torch=torch.__version__),
                args=vars(a), n_train_windows=len(fdls.train_ds), n_pretrain_windows=len(pdls.train_ds), n_test_windows=len(test_dl.dataset),
                pretraining=log, total_seconds=round(time.time() - t_all, 1), date=time.strftime('%Y-%m-%d %H:%M'))
    res = dict(meta=meta, rows=rows)
    (out/f'etth1_patch_mae{a.tag}.json').write_text(json.dumps(res, indent=1))
    md = [f"# ETTh1, lookback {a.seq_len}, horizon {a.horizon}: PatchMAE transfer", "",
          f"Command: `{meta['command']}`  ", f"Machine: {cpu}, {os.cpu_count()} cores, {a.threads} torch threads, torch {torch.__version__}; "
          f"{meta['date']}; whole run {meta['total_seconds']:.0f} s.", "",
          f"**Small CPU budget, not the published setup**: d_model {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, patch {a.patch_len}, "
          f"downstream train windows every {a.stride} steps ({len(fdls.train_ds)} windows), pretraining {a.pre_epochs} epochs on "
          f"windows every {a.pre_stride} steps ({len(pdls.train_ds)} windows, same train split), "
          f"mask {a.mask_ratio} ({a.mask_mode}). Test: all {len(test_dl.dataset)} windows of the standard test split, z-scored. "
          f"Reference, supervised PatchTST/64 (paper): 0.370 / 0.400.", "",
          "| method | test MSE | test MAE | epochs | trained | tensors transferred | last train / valid loss | seconds |", "|---|---|---|---|---|---|---|---|"]
    for r in rows: md.append(f"| {r['method']} | {r['mse']:.4f} | {r['mae']:.4f} | {r['epochs']} | {r['trained']} | {r.get('transferred', '-')} | {r.get('train_loss', '-')} / {r.get('valid_loss', '-')} | {r['seconds']} |")
    md += ["", f"Pretraining, validation masked loss per epoch: PatchMAE {log['PatchMAE']['valid_loss']}; "
           f"old scalar-mean design {log['ScalarMeanMAE']['valid_loss']}; filling hidden cells with the visible mean: {log['mean_fill_loss']}."]
    (out/f'etth1_patch_mae{a.tag}.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__': main()
