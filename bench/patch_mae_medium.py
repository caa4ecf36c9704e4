#!/usr/bin/env python
"""Medium-budget ETTh1 run of PatchMAE, to hold against the published PatchTST numbers (issue 9, item 3).

One PatchMAE pretraining at the published self-supervised PatchTST sizes (L 512, patch 12 = stride 12 with the start
trimmed, D 128, 3 layers, 16 heads, d_ff 512, dropout 0.2, mask 0.4; channel-independent tokens, mask tokens in the
encoder), on every training window of the standard 12/4/4-month split (no labels), then for horizons 24, 96 and 336:

  supervised       the same PatchITransformer from random init, all layers
  linear probe     frozen pretrained encoder + flatten head solved in closed form (ridge on the [P*D] features of every
                   (window, variable) of every train window -> the RevIN-normalised horizon; ridge strength chosen on
                   validation). The SGD probe under-converges at small budgets (bench/results/patch_mae_label_efficiency_summary.md);
                   the ridge head is the converged linear probe.
  fine-tune        from the pretrained encoder with the ridge head (LP-FT: the head-only phase is the closed-form probe),
                   then all layers; the kept weights are the best-validation epoch, the probe itself (epoch 0) included
  raw-window ridge the same ridge on the RevIN-normalised lookback itself (a linear model, no network), for scale

"Every window": all train windows are used, but to see validation often an epoch here is one of `--chunks` disjoint
random parts of the windows (`--chunks 4`: each run of 4 epochs uses every window once, in a fresh random order).
Every trained row keeps its best-validation epoch (validation windows every `--eval-stride` steps); the test MSE / MAE
is on every window of the test months, z-scored with the train statistics, averaged over the 7 variables.

Partial results survive: the JSON / markdown / png are rewritten after every pretraining epoch and every row, and the
pretraining checkpoint (model, optimiser, epoch, random states) is written atomically after every epoch with
patchssl's `save_checkpoint`. `--resume` continues an interrupted pretraining from it; `--pretrained PATH` skips
pretraining and uses a finished checkpoint. `--stop-by HH:MM` (UTC) skips a downstream row that would not end in time
(the results say so).

    nohup nice -n 19 python bench/patch_mae_medium.py --threads 1 --stop-by 18:25 > /tmp/medium.log 2>&1 &
"""
import copy, datetime as dt, json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
import torch
from fastai.callback.core import Callback

PUBLISHED = [  # (row, horizon, mse, mae, budget) as quoted in issue 9 and /work/shared/data/README.md (PatchTST paper)
    ('published PatchTST self-supervised, linear probe', 24, 0.322, 0.369,
     'L 512, patch 12 = stride 12, mask 0.4, D 128, 3 layers, 16 heads, d_ff 512, dropout 0.2, 100 pretraining epochs (PatchTST paper, Table 6)'),
    ('published supervised PatchTST/64', 96, 0.370, 0.400, 'L 512, patch 16, stride 8 (64 patches), D 128, 3 layers, 16 heads, d_ff 256, dropout 0.2'),
    ('published DLinear', 96, 0.375, 0.399, 'L 336 linear model (as quoted in the data README)'),
]
ROWS = ['supervised', 'linear probe (ridge)', 'fine-tune (LP-FT)', 'raw-window ridge']


def draw(R:dict, path):
    "The figure: pretraining curves (validation masked-cell MSE, train loss, visible-mean fill) and each horizon's validation curves."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    args = R['args']; chunks, visible_weight, L = args['chunks'], args['visible_weight'], args['seq_len']
    pre = R['pretraining']
    nc = 1 + len(R['horizons'])
    fig, axs = plt.subplots(1, nc, figsize=(4.6 * nc, 3.8), squeeze=False); axs = axs[0]
    if pre and pre['valid_masked']:
        e = np.arange(1, len(pre['valid_masked']) + 1) / chunks
        if pre.get('previous'):  # an extended run: the earlier pretraining first
            pv = pre['previous']['valid_masked']; e0 = np.arange(1, len(pv) + 1) / chunks; e = e + e0[-1]
            axs[0].plot(e0, pv, 'o-', ms=3, c='C1', label='valid, masked cells (earlier run)')
        axs[0].plot(e, pre['valid_masked'], 'o-', ms=3, c='C0', label='valid, masked cells')
        axs[0].plot(e, pre['train_loss'], '--', c='gray', lw=1, label=f'train (masked + {visible_weight:g} x visible)')
        axs[0].axhline(pre['mean_fill'], c='k', ls=':', label='visible-mean fill (valid)')
        axs[0].set(title=f'PatchMAE pretraining, L {L}', xlabel='passes over every train window', ylabel='masked MSE (instance-normalised)')
        axs[0].set_ylim(0, max(1.1, pre['mean_fill'] * 1.05)); axs[0].legend(fontsize=7)
    for ax, (H, h) in zip(axs[1:], R['horizons'].items()):
        for nm in ('supervised', 'fine-tune (LP-FT)'):
            r = h['rows'].get(nm)
            if r and 'valid_hist' in r:
                x0 = 0 if nm.startswith('fine') else 1
                ax.plot(np.arange(x0, x0 + len(r['valid_hist'])) / chunks, r['valid_hist'], 'o-', ms=3, label=nm)
        for nm, ls in (('linear probe (ridge)', '--'), ('raw-window ridge', ':')):
            r = h['rows'].get(nm)
            if r: ax.axhline(r['valid_mse'], ls=ls, c='gray' if ls == ':' else 'C2', label=nm)
        ax.set(title=f'downstream validation MSE, H {H}', xlabel='passes over every train window'); ax.legend(fontsize=7)
    fig.tight_layout(); fig.savefig(path, dpi=90); plt.close(fig)


class EpochChunks(torch.utils.data.Dataset):
    "Epoch e uses part e % k of a random permutation of `ds` drawn afresh every k epochs: k epochs use every window once."
    def __init__(self, ds, k, seed=0):
        self.ds, self.k, self.seed, self.size = ds, k, seed, len(ds) // k
        if self.size < 1: raise ValueError(f"--chunks {k} is more than the {len(ds)} windows")
        self.set_epoch(0)
    def set_epoch(self, e):
        perm = np.random.default_rng(self.seed + e // self.k).permutation(len(self.ds))
        self.idx = perm[(e % self.k) * self.size:(e % self.k + 1) * self.size]
    def __len__(self): return self.size
    def __getitem__(self, i): return self.ds[int(self.idx[i])]

class SetChunk(Callback):
    "Point the training set at this epoch's part (deterministic in the epoch number, so a resumed run sees the same parts)."
    order = -20
    def before_epoch(self):
        ds = self.dls.train.dataset
        if isinstance(ds, EpochChunks): ds.set_epoch(self.epoch)

class KeepBest(Callback):
    "Keep (in memory) the weights of the epoch with the lowest validation loss; `start` = (valid loss, state) counts as epoch 0."
    order = 60
    def __init__(self, start=None):
        self.best, self.state = start if start else (float('inf'), None)
        self.hist = [round(start[0], 4)] if start else []
    def after_epoch(self):
        v = float(self.recorder.values[-1][1]); self.hist.append(round(v, 4))
        if v < self.best: self.best, self.state = v, copy.deepcopy(self.model.state_dict())

class PerEpochHook(Callback):
    "Call `fn(learn)` after every epoch (after the recorder)."
    order = 70
    def __init__(self, fn): self.fn = fn
    def after_epoch(self): self.fn(self.learn)

def body_head_splitter(m):
    head = [p for n, p in m.named_parameters() if n.startswith('head.')]
    ids = {id(p) for p in head}
    return [[p for p in m.parameters() if id(p) not in ids], head]

def quiet(learn, how, *args, **kw):
    with learn.no_bar(), learn.no_logging(): return getattr(learn, how)(*args, **kw)


def main():
    from common import parser, parse, write, RESULTS
    ap = parser(__doc__, name='patch_mae_medium', seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--seq-len', type=int, default=512)
    ap.add_argument('--horizons', type=int, nargs='+', default=[96, 24, 336], help='run in this order')
    ap.add_argument('--patch-len', type=int, default=12)
    ap.add_argument('--d-model', type=int, default=128)
    ap.add_argument('--n-heads', type=int, default=16)
    ap.add_argument('--n-layers', type=int, default=3)
    ap.add_argument('--d-ff', type=int, default=512)
    ap.add_argument('--dropout', type=float, default=0.2, help='residual / feed-forward dropout (attention dropout 0)')
    ap.add_argument('--mask-ratio', type=float, default=0.4)
    ap.add_argument('--visible-weight', type=float, default=1., help='pretraining loss on visible cells (1 helps transfer, label-efficiency study)')
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--chunks', type=int, default=4, help='an epoch = 1/chunks of the train windows (every window once per `chunks` epochs)')
    ap.add_argument('--pre-epochs', type=int, default=12)
    ap.add_argument('--pre-lr', type=float, default=1e-3)
    ap.add_argument('--sup-epochs', type=int, default=4)
    ap.add_argument('--sup-lr', type=float, default=1e-3)
    ap.add_argument('--ft-epochs', type=int, default=4)
    ap.add_argument('--ft-lr', type=float, default=1e-4, help='fine-tune lr of the body')
    ap.add_argument('--ft-head-lr', type=float, default=1e-4, help='fine-tune lr of the (ridge-initialised) head')
    ap.add_argument('--eval-stride', type=int, default=4, help='stride of the validation windows (test: every window)')
    ap.add_argument('--pre-eval-stride', type=int, default=8, help='stride of the pretraining validation windows')
    ap.add_argument('--ridge-grid', type=float, nargs='+', default=[1e-4, 1e-3, 1e-2, 1e-1, 1.], help='ridge strengths, x mean diagonal of the Gram matrix')
    ap.add_argument('--ckpt', default=None, help='pretraining checkpoint (default bench/results/{name}_pretrain.pt, git-ignored)')
    ap.add_argument('--resume', action='store_true', help='continue an interrupted pretraining from --ckpt')
    ap.add_argument('--init-from', default=None, help='extend a finished pretraining: start from the weights of this checkpoint '
                    '(a new one-cycle of --pre-epochs; the curve continues the old one). Give a new --ckpt, or the old file is replaced')
    ap.add_argument('--pretrained', default=None, help='skip pretraining: use this finished checkpoint')
    ap.add_argument('--stop-by', default=None, help='HH:MM UTC: skip downstream rows that would end later')
    ap.add_argument('--replot', action='store_true', help="only redraw bench/results/{name}.png from the run's {name}.json")
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick:  # a small model on a short lookback, one horizon, one epoch per stage
        a.seq_len, a.horizons, a.d_model, a.n_heads, a.d_ff, a.n_layers = 96, [24], 16, 4, 32, 1
        a.pre_epochs, a.sup_epochs, a.ft_epochs, a.chunks, a.eval_stride, a.pre_eval_stride = 1, 1, 1, 16, 64, 64
    res = Path(a.out) if a.out else RESULTS
    res.mkdir(parents=True, exist_ok=True)
    if a.replot:
        draw(json.loads((res/f'{a.name}.json').read_text()), res/f'{a.name}.png'); return

    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    from fastai.data.core import DataLoaders
    from fastai.torch_core import set_seed
    from fastai.metrics import AvgMetric
    from patchssl.data import etth1_splits, series_dls, SlidingWindows
    from patchssl.patch_mae import PatchMAE, PatchITransformer, pretrain_learner, forecast_learner, evaluate_forecast, mean_fill_loss, patch_mae_loss
    from patchssl.transfer import save_checkpoint, load_checkpoint, resume

    t_all = time.time()
    L = a.seq_len
    ckpt = Path(a.ckpt) if a.ckpt else res/f'{a.name}_pretrain.pt'
    stop_by = None
    if a.stop_by:
        hh, mm = map(int, a.stop_by.split(':')); now = dt.datetime.now(dt.timezone.utc)
        stop_by = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if stop_by < now: stop_by += dt.timedelta(days=1)
    splits = etth1_splits(L); N = len(splits.columns)
    arch = dict(patch_len=a.patch_len, stride=a.patch_len, remainder='drop_start', d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers,
                d_ff=a.d_ff, dropout=a.dropout, attn_dropout=0., token_mode='channel_independent', revin=True)
    R = dict(args=vars(a), arch=arch, published=[dict(row=r, horizon=h, mse=m, mae=e, budget=b) for r, h, m, e, b in PUBLISHED],
             pretraining=None, horizons={}, skipped=[], checkpoint=str(ckpt))

    # ------------------------------------------------------------------ reporting (after every stage)
    def report():
        R['total_seconds'] = round(time.time() - t_all, 1)
        draw(R, res/f'{a.name}.png')
        write(a.name, R, markdown(), out=a.out)

    def markdown():
        pre = R['pretraining']
        md = [f"PatchMAE at the published self-supervised PatchTST sizes on ETTh1 (standard 12/4/4-month split, z-scored with train "
              f"statistics): L {L}, patch {a.patch_len} = stride (start trimmed), D {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, d_ff {a.d_ff}, "
              f"dropout {a.dropout} (attention dropout 0), channel-independent tokens, mask tokens in the encoder, mask ratio {a.mask_ratio}, "
              f"reconstruction loss in the instance-normalised space on the masked cells + {a.visible_weight:g} x the visible cells. "
              f"Every train window is used (stride 1); an epoch here is 1/{a.chunks} of them (disjoint random parts), so {a.chunks} epochs = one "
              f"pass. Batch {a.bs}, Adam, one-cycle. Pretraining {a.pre_epochs} epochs = {a.pre_epochs / a.chunks:g} passes at lr {a.pre_lr:g}; "
              f"supervised {a.sup_epochs} epochs = {a.sup_epochs / a.chunks:g} passes at lr {a.sup_lr:g} (same architecture as the pretrained model, "
              f"random init); fine-tune {a.ft_epochs} epochs = {a.ft_epochs / a.chunks:g} passes, body lr {a.ft_lr:g}, head lr {a.ft_head_lr:g}, "
              f"starting from the ridge probe head. Linear probe = closed-form ridge on the frozen encoder's flattened features (strength chosen on "
              f"validation); the SGD probe was not run. Trained rows keep their best-validation epoch (validation windows every {a.eval_stride} steps). "
              f"Test: MSE / MAE over every test window and the 7 variables. One seed ({a.seed}), {a.threads} torch thread(s) on a shared 2-core CPU. "
              f"Run time so far {R['total_seconds']:.0f} s.", ""]
        md += ["**Budget: far below the published one.** The published self-supervised PatchTST pretrains 100 epochs; this run pretrains "
               f"{a.pre_epochs / a.chunks:g} passes over every window (see the curve for whether the validation loss has flattened), and the "
               f"downstream rows train {a.sup_epochs / a.chunks:g} passes.", ""]
        if R.get('flattening'): md += [f"Pretraining validation curve: {R['flattening']}", ""]
        if R['skipped']: md += ["Skipped for lack of time: " + '; '.join(R['skipped']) + '.', ""]
        hs = list(R['horizons'])
        if hs:
            md += ["Test MSE / MAE (this run; published rows as quoted, with their budgets below):", "",
                   "| row | " + ' | '.join(f'H {H}' for H in hs) + " | seconds |", '|---|' + '---|' * (len(hs) + 1)]
            for nm in ROWS:
                cells, secs = [], []
                for H in hs:
                    r = R['horizons'][H]['rows'].get(nm)
                    cells.append(f"{r['mse']:.4f} / {r['mae']:.4f}" if r else '-'); secs.append(f"{r['seconds']:.0f}" if r else '-')
                md.append(f"| {nm} | " + ' | '.join(cells) + ' | ' + ', '.join(secs) + ' |')
            for row, h, m, e, b in PUBLISHED:
                md.append(f"| *{row}* | " + ' | '.join(f"*{m:.3f} / {e:.3f}*" if H == h else '' for H in hs) + ' | |')
            md += ["", "Published budgets: " + '; '.join(f"{r}: {b}" for r, h, m, e, b in PUBLISHED) + '.', ""]
            md += ["Validation MSE and kept epoch per row (fine-tune epoch 0 = the ridge probe before any fine-tuning):", "",
                   "| H | row | best valid MSE | kept epoch | valid MSE per epoch | ridge strength |", "|---|---|---|---|---|---|"]
            for H in hs:
                for nm in ROWS:
                    r = R['horizons'][H]['rows'].get(nm)
                    if r: md.append(f"| {H} | {nm} | {r.get('best_valid', r.get('valid_mse')):.4f} | {r.get('kept_epoch', '-')} | "
                                    f"{r.get('valid_hist', '-')} | {r.get('ridge', '-')} |")
            md.append("")
        if pre:
            md += [f"Pretraining ({pre['n_windows']} train windows, {pre['epochs_done']} of {a.pre_epochs} epochs, {pre['seconds']:.0f} s): validation "
                   f"masked-cell MSE per epoch {pre['valid_masked']}; visible-mean fill on the same windows and masks {pre['mean_fill']:.4f}. "
                   f"Checkpoint: `{R['checkpoint']}` (git-ignored; "
                   f"`--resume` / `--pretrained` reuse it).", ""]
        md += [f"![pretraining and downstream validation curves]({a.name}.png)"]
        return '\n'.join(md)

    # ------------------------------------------------------------------ 1. pretraining
    def masked_mse(pred, target, mask, pad=None): return patch_mae_loss(pred, target, mask, pad, 'mse', 'norm', 0.)
    if a.pretrained:
        ck = load_checkpoint(a.pretrained); R['pretraining'] = ck['extra'].get('pretraining'); R['checkpoint'] = a.pretrained
        ck_path = Path(a.pretrained); print(f"using the pretrained checkpoint {a.pretrained} (epoch {ck['epoch']})", flush=True)
    else:
        set_seed(a.seed)
        pdls = series_dls(splits, L, 0, 1, bs=a.bs, eval_stride=a.pre_eval_stride, num_workers=0)
        n_windows = len(pdls.train_ds)
        pdls = DataLoaders.from_dsets(EpochChunks(pdls.train_ds, a.chunks, a.seed), pdls.valid_ds, bs=a.bs, num_workers=0)
        model = PatchMAE(N, L, **arch, mask_mode='token', loss='mse', loss_space='norm', visible_weight=a.visible_weight)
        pre = dict(n_windows=n_windows, valid_masked=[], valid_loss=[], train_loss=[], epochs_done=0, seconds=0.,
                   mean_fill=round(mean_fill_loss(pdls.valid, model, a.mask_ratio), 4))
        R['pretraining'] = pre
        t0 = time.time()
        def after_pre_epoch(learn):
            v = learn.recorder.values[-1]  # train loss, valid loss, masked mse
            pre['train_loss'].append(round(float(v[0]), 4)); pre['valid_loss'].append(round(float(v[1]), 4)); pre['valid_masked'].append(round(float(v[2]), 4))
            pre['epochs_done'] = learn.epoch + 1; pre['seconds'] = round(pre.get('seconds_before', 0) + time.time() - t0, 1)
            save_checkpoint(ckpt, learn.model, learn.opt, learn.epoch + 1, extra=dict(pretraining=pre, args=vars(a)), dls=learn.dls)
            print(f"pretrain epoch {learn.epoch + 1}/{a.pre_epochs}: train {pre['train_loss'][-1]} valid masked {pre['valid_masked'][-1]} "
                  f"(mean fill {pre['mean_fill']}) {pre['seconds']:.0f} s", flush=True)
            report()
        learn = pretrain_learner(pdls, model, a.mask_ratio, 'patch_var', cbs=[SetChunk(), PerEpochHook(after_pre_epoch)],
                                 metrics=AvgMetric(masked_mse))
        start = 0
        if a.init_from:
            old = load_checkpoint(a.init_from); model.load_state_dict(old['state_dict'])
            pre['previous'] = old['extra'].get('pretraining'); pre['init_from'] = a.init_from
            print(f"extending the pretraining of {a.init_from} (epoch {old['epoch']})", flush=True)
        if a.resume and ckpt.exists():
            start = resume(learn, ckpt); old = load_checkpoint(ckpt)['extra']['pretraining']
            for k in ('valid_masked', 'valid_loss', 'train_loss'): pre[k] = old[k][:start]
            pre['seconds_before'] = old['seconds']; print(f"resuming pretraining at epoch {start}", flush=True)
        if start < a.pre_epochs: quiet(learn, 'fit_one_cycle', a.pre_epochs, a.pre_lr, start_epoch=start)
        pre.pop('seconds_before', None)
        ck_path = ckpt
        v = pre['valid_masked']
        if len(v) >= 2 * a.chunks:
            last, prev = v[-1], v[-1 - a.chunks]
            R['flattening'] = (f"over the last pass ({a.chunks} epochs) the validation masked MSE went {prev:.4f} -> {last:.4f} "
                               f"({100 * (last - prev) / prev:+.1f}%); over the pass before, {v[-1 - 2 * a.chunks] if len(v) > 2 * a.chunks else v[0]:.4f} -> {prev:.4f}. "
                               f"The one-cycle schedule anneals the lr to ~0 at the end, which by itself flattens the last epochs.")
        report()
        del learn, pdls

    # ------------------------------------------------------------------ 2. features of the frozen encoder, ridge probes
    model0, rep = PatchITransformer.from_checkpoint(ck_path, task='forecast', horizon=max(a.horizons))
    model0.eval()
    P, D = model0.n_patches, model0.d_model

    @torch.no_grad()
    def feats(X):  # X [B, L, N] -> features [B, N, P*D], RevIN mean/std [B, 1, N]
        z, (m, s) = model0.forward_features(X)
        return z.permute(0, 2, 1, 3).reshape(len(X), N, P * D), m, s
    def raw(X):
        m, s = X.mean(1, keepdim=True), (X.var(1, keepdim=True, unbiased=False) + 1e-5).sqrt()
        return ((X - m) / s).permute(0, 2, 1), m, s

    tr = torch.from_numpy(splits.train); va = torch.from_numpy(splits.valid); te = torch.from_numpy(splits.test)
    hs = sorted(a.horizons)
    def n_win(T, H, stride=1): return (len(T) - L - H) // stride + 1

    def ridge_fit(featfn, tag):
        "Gram matrices over every train window (prefixes per horizon), valid features; returns {H: (W, lam, valid_mse)}."
        t = time.time()
        n_max = n_win(tr, hs[0]); cuts = sorted({n_win(tr, H) for H in hs})
        G = None; AB = {}; Gs = {}; i = 0
        while i < n_max:
            j = min([c for c in cuts if c > i] + [i + 256]); idx = torch.arange(i, j)
            X = tr[idx[:, None] + torch.arange(L)]  # [b, L, N]
            F_, m, s = featfn(X); A = torch.cat([F_.reshape(-1, F_.shape[-1]), torch.ones(F_.shape[0] * N, 1)], 1)
            g = (A.T @ A).double(); G = g if G is None else G + g
            for H in hs:
                if i < n_win(tr, H):
                    Y = tr[idx[:, None] + L + torch.arange(H)]  # [b, H, N]
                    B = ((Y - m) / s).permute(0, 2, 1).reshape(-1, H)
                    AB[H] = AB.get(H, 0) + (A.T @ B).double()
            i = j
            if (i // 256) % 8 == 0 or i == n_max: print(f"ridge {tag}: {i}/{n_max} train windows, {time.time() - t:.0f} s", flush=True)
            if i in cuts:
                for H in hs:
                    if n_win(tr, H) == i: Gs[H] = G.clone()
        t_gram = time.time() - t
        nv = n_win(va, hs[0], a.eval_stride); vidx = torch.arange(nv) * a.eval_stride
        Fv, mv, sv = zip(*[featfn(va[vidx[k:k + 256, None] + torch.arange(L)]) for k in range(0, nv, 256)])
        Fv, mv, sv = torch.cat(Fv), torch.cat(mv), torch.cat(sv)
        nt = n_win(te, hs[0]); tidx = torch.arange(nt)
        Ft, mt, st = zip(*[featfn(te[tidx[k:k + 256, None] + torch.arange(L)]) for k in range(0, nt, 256)])
        Ft, mt, st = torch.cat(Ft), torch.cat(mt), torch.cat(st)
        out = {}
        for H in hs:
            nh = n_win(va, H, a.eval_stride)
            Yv = va[vidx[:nh, None] + L + torch.arange(H)]
            G_ = Gs[H]; scale = float(G_.diagonal().mean()); best = None; tried = {}
            def try_c(c):
                Lc = torch.linalg.cholesky(G_ + c * scale * torch.eye(len(G_), dtype=G_.dtype))
                W = torch.cholesky_solve(AB[H], Lc).float()  # [d+1, H]
                pred = (torch.cat([Fv[:nh], torch.ones(nh, N, 1)], -1) @ W).permute(0, 2, 1) * sv[:nh] + mv[:nh]
                tried[c] = (W, c, float(((pred - Yv) ** 2).mean()))
            grid = sorted(a.ridge_grid)
            for c in grid: try_c(c)
            for _ in range(3):  # the best strength at an edge of the grid: extend the grid past that edge by a decade
                c = min(tried.values(), key=lambda t: t[2])[1]
                if c == min(tried): try_c(c / 10)
                elif c == max(tried): try_c(c * 10)
                else: break
            best = min(tried.values(), key=lambda t: t[2])
            R.setdefault('ridge_valid', {}).setdefault(tag, {})[H] = {f'{c:g}': round(t[2], 4) for c, t in sorted(tried.items())}
            W = best[0]; nh = n_win(te, H); Yt = te[tidx[:nh, None] + L + torch.arange(H)]
            pred = (torch.cat([Ft[:nh], torch.ones(nh, N, 1)], -1) @ W).permute(0, 2, 1) * st[:nh] + mt[:nh]
            out[H] = best + (dict(mse=float(((pred - Yt) ** 2).mean()), mae=float((pred - Yt).abs().mean()), n=nh),)
            print(f"ridge {tag} H {H}: strength {best[1]:g} x mean diag, valid MSE {best[2]:.4f}", flush=True)
        print(f"ridge {tag}: Gram over {n_max} windows {t_gram:.0f} s, total {time.time() - t:.0f} s", flush=True)
        return out, time.time() - t

    ridge, t_ridge = ridge_fit(feats, 'probe')
    ridge_raw, t_raw = ridge_fit(raw, 'raw window')
    del model0

    def dls_for(H, chunked=True):
        d = series_dls(splits, L, H, 1, bs=a.bs, eval_stride=a.eval_stride, num_workers=0)
        train = EpochChunks(d.train_ds, a.chunks, a.seed) if chunked else d.train_ds
        return DataLoaders.from_dsets(train, d.valid_ds, bs=a.bs, num_workers=0), len(d.train_ds)
    def test_dl(H): return series_dls(splits, L, H, 1, bs=256, eval_stride=1, num_workers=0).test
    def probe_model(H):
        m, _ = PatchITransformer.from_checkpoint(ck_path, task='forecast', horizon=H)
        W = ridge[H][0]
        with torch.no_grad(): m.head.weight.copy_(W[:-1].T); m.head.bias.copy_(W[-1])
        return m

    for H in hs:
        tdl = test_dl(H); d, ntr = dls_for(H)
        h = R['horizons'].setdefault(H, dict(n_train_windows=ntr, n_test_windows=len(tdl.dataset), rows={}))
        for nm, (W, c, v, r), secs in (('linear probe (ridge)', ridge[H], t_ridge / len(hs)), ('raw-window ridge', ridge_raw[H], t_raw / len(hs))):
            assert r['n'] == len(tdl.dataset), (r['n'], len(tdl.dataset))
            h['rows'][nm] = dict(mse=round(r['mse'], 4), mae=round(r['mae'], 4), valid_mse=round(v, 4), ridge=f"{c:g} x mean diag", seconds=round(secs, 1))
            if nm.startswith('linear'):  # the ridge head put into the real model: validation MSE through the model must match
                h['rows'][nm]['valid_mse_through_model'] = round(float(evaluate_forecast(probe_model(H), d.valid)['mse']), 4)
            print(f"H {H} {nm}: test MSE {r['mse']:.4f} MAE {r['mae']:.4f}", flush=True)
    R['horizons'] = {H: R['horizons'][H] for H in a.horizons}
    report()

    # ------------------------------------------------------------------ 3. supervised and fine-tune per horizon
    est = {}
    def time_ok(what, guess):
        if stop_by is None: return True
        left = (stop_by - dt.datetime.now(dt.timezone.utc)).total_seconds()
        if est.get(what, guess) > left:
            R['skipped'].append(f"{what} (needs ~{est.get(what, guess):.0f} s, {max(left, 0):.0f} s left before {a.stop_by} UTC)")
            print('skip', R['skipped'][-1], flush=True); return False
        return True

    for H in a.horizons:
        h = R['horizons'][H]; tdl = test_dl(H)
        for nm in ('supervised', 'fine-tune (LP-FT)'):
            kind = 'sup' if nm == 'supervised' else 'ft'
            epochs = a.sup_epochs if kind == 'sup' else a.ft_epochs
            if not time_ok(f"{nm} H {H}", est.get(kind, epochs * 160.) + 150): continue
            t = time.time(); set_seed(a.seed); d, _ = dls_for(H)
            if kind == 'sup':
                m = PatchITransformer(N, L, task='forecast', horizon=H, **arch)
                learn = forecast_learner(d, m, cbs=[SetChunk()]); kb = KeepBest()
                quiet(learn, 'fit_one_cycle', epochs, a.sup_lr, cbs=kb)
            else:
                m = probe_model(H)
                v0 = float(evaluate_forecast(m, d.valid)['mse'])
                learn = forecast_learner(d, m, cbs=[SetChunk()], splitter=body_head_splitter); kb = KeepBest((v0, copy.deepcopy(m.state_dict())))
                quiet(learn, 'fit_one_cycle', epochs, slice(a.ft_lr, a.ft_head_lr), cbs=kb)
            m.load_state_dict(kb.state)
            hist = kb.hist; k = int(np.argmin(hist))
            kept = k if kind == 'ft' else k + 1
            r = evaluate_forecast(m, tdl)
            secs = time.time() - t; est[kind] = secs
            h['rows'][nm] = dict(mse=round(r['mse'], 4), mae=round(r['mae'], 4), best_valid=round(min(hist), 4), kept_epoch=kept,
                                 valid_hist=hist, epochs=epochs, seconds=round(secs, 1))
            print(f"H {H} {nm}: test MSE {r['mse']:.4f} MAE {r['mae']:.4f}, valid {hist}, kept epoch {kept} ({secs:.0f} s)", flush=True)
            report()
            del learn, m
    report()
    print(f"done in {time.time() - t_all:.0f} s", flush=True)

if __name__ == '__main__': main()
