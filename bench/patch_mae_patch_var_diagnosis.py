"""Why does patch x variable PatchMAE learn slower than channel-independent PatchMAE? Small ablations on ETTh1.

Every variant trains the same small PatchMAE (L 336, patch 16: 21 patches x 7 variables, D 64, 2 layers, 4 heads,
mask 0.4 per patch x variable, one-cycle) on the same windows and reports, after every epoch, the masked-cell MSE on
fixed validation masks (z-scored ETTh1) and, at the end, where the masked tokens' attention goes (share of the
attention mass of masked tokens on tokens of the same variable, and on the same patch of other variables).

Variants (`--variants`, comma-separated):
- `ci`: channel-independent tokens (each variable on its own, 21 tokens per sequence).
- `pv`: patch x variable tokens (147 tokens), the chapter's default.
- `pv_same_var`: patch x variable tokens, but attention restricted to tokens of the same variable (a block mask):
  the same information as `ci`, in the patch x variable layout. If this learns like `ci`, the slowness is in finding
  the right tokens across variables, not in the layout, the loss or the optimiser.
- `pv_var_bias`: patch x variable tokens plus a learned attention bias per head and variable pair (zero at the start).
- `pv_prior`: the same learned bias, initialised at +4 for the same variable in half the heads (a prior, not a wall).
- `pv_var1`: patch x variable tokens with the variable embedding initialised at std 1 (instead of 0.02).
- `pv_norm_loss`: patch x variable tokens, loss in the instance-normalised space.
- `pv_lr1e-3`, `pv_lr1e-2`: other learning rates (a suffix `_lr<value>` works on every variant).
- `pv_builtin`: the library's default, `var_attn_prior=4.` (the `pv_prior` bias inside PatchMAE; its attention is not recorded).

    OMP_NUM_THREADS=1 nice -n 15 python bench/patch_mae_patch_var_diagnosis.py --variants ci,pv,pv_same_var --epochs 8
"""
import sys, time, types
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write

_BIAS = {}  # the attention bias the current variant adds (set per forward)

def _sdpa(q, k, v, attn_mask=None, dropout_p=0., **kw):
    "scaled_dot_product_attention with an extra additive bias for the ablations (records the attention if asked)."
    b = _BIAS.get('bias')
    if b is not None and q.shape[2] == b.shape[-1]:
        attn_mask = b if attn_mask is None else b.masked_fill(~attn_mask, float('-inf'))
    if _BIAS.get('record') is not None:
        s = (q @ k.transpose(-1, -2)) / q.shape[-1] ** .5
        if attn_mask is not None: s = s + attn_mask if attn_mask.dtype != torch.bool else s.masked_fill(~attn_mask, float('-inf'))
        _BIAS['record'].append(s.softmax(-1))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, **kw)

def build(variant, N, L, a):
    from patchssl.patch_mae import PatchMAE
    tm = 'channel_independent' if variant.startswith('ci') else 'patch_var'
    m = PatchMAE(N, L, patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff,
                 dropout=0., token_mode=tm, loss_space='norm' if 'norm_loss' in variant else a.loss_space,
                 var_attn_prior=4. if variant.startswith('pv_builtin') else None)
    if variant == 'pv_var1':
        with torch.no_grad(): m.var_embed.normal_(0, 1.)
    P = m.n_patches
    var_of = torch.arange(P * N) % N  # token i is patch i // N of variable i % N
    if variant == 'pv_same_var':
        m._fixed_bias = torch.where(var_of[:, None] == var_of[None], 0., float('-inf'))
    if variant.startswith('pv_var_bias'):
        m.var_bias = torch.nn.Parameter(torch.zeros(a.n_heads, N, N))
    if variant.startswith('pv_prior'):  # learned bias, initialised to favour the same variable in half the heads
        b = torch.zeros(a.n_heads, N, N); b[:a.n_heads // 2] += 4 * torch.eye(N)
        m.var_bias = torch.nn.Parameter(b)
    fwd = m.forward_encoder
    def forward_encoder(x, mask, pad=None):
        if hasattr(m, '_fixed_bias'): _BIAS['bias'] = m._fixed_bias
        elif hasattr(m, 'var_bias'): _BIAS['bias'] = m.var_bias[:, var_of][:, :, var_of]
        else: _BIAS['bias'] = None
        return fwd(x, mask, pad)
    m.forward_encoder = forward_encoder
    return m

@torch.no_grad()
def evaluate(model, dl, mask_ratio, n_vars):
    "Masked-cell MSE (z-scored data scale) on fixed validation masks, and the visible-mean fill on the same masks."
    from patchssl.patching import make_mask, masked_loss
    from patchssl.patch_mae import instance_stats
    model.eval()
    tot = fill = n = 0.
    for i, (x,) in enumerate(dl):
        mask = make_mask((len(x), model.n_patches, n_vars), mask_ratio, 'patch_var', torch.Generator().manual_seed(i))
        pt = model.patchify(x)
        tot += masked_loss(model(x, mask), pt, mask).item() * len(x)
        fill += masked_loss(instance_stats(pt, ~mask)[0].expand_as(pt), pt, mask).item() * len(x); n += len(x)
    model.train()
    return tot / n, fill / n

@torch.no_grad()
def attention_shares(model, x, mask_ratio, n_vars):
    "Per layer: the share of a masked token's attention on (same variable, other patches), (same patch, other variables), itself."
    from patchssl.patching import make_mask
    if model.token_mode != 'patch_var': return None
    model.eval()
    mask = make_mask((len(x), model.n_patches, n_vars), mask_ratio, 'patch_var', torch.Generator().manual_seed(0))
    _BIAS['record'] = []
    model(x, mask)
    rec, _BIAS['record'] = _BIAS['record'], None
    P, N = model.n_patches, n_vars
    var_of, pat_of = torch.arange(P * N) % N, torch.arange(P * N) // N
    same_var = (var_of[:, None] == var_of[None]) & (pat_of[:, None] != pat_of[None])
    same_pat = (pat_of[:, None] == pat_of[None]) & (var_of[:, None] != var_of[None])
    tm = mask.reshape(len(x), -1)  # [B, T] masked query tokens
    out = []
    for A in rec:  # [B, H, T, T]
        A = A.mean(1)  # over heads
        q = tm[..., None].float()
        share = lambda sel: float((A * sel * q).sum() / q.sum() / 1)
        out.append(dict(same_variable=round(share(same_var.float()), 3), same_patch_other_variables=round(share(same_pat.float()), 3),
                        uniform_same_variable=round((P - 1) / (P * N), 3), uniform_same_patch=round((N - 1) / (P * N), 3)))
    model.train()
    return out

def main():
    from patchssl.data import etth1_splits, series_dls
    from patchssl.patch_mae import pretrain_learner
    import patchssl.layers as layers
    ap = parser(__doc__, name='patch_mae_patch_var_diagnosis', seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--variants', default='ci,pv,pv_same_var,pv_var_bias')
    ap.add_argument('--seq-len', type=int, default=336); ap.add_argument('--patch-len', type=int, default=16)
    ap.add_argument('--d-model', type=int, default=64); ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2); ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--mask-ratio', type=float, default=0.4); ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--lr', type=float, default=3e-3); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--stride', type=int, default=8)
    ap.add_argument('--loss-space', default='data', help="training loss space ('data' or 'norm'); the table is always in the z-scored data scale")
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.variants, a.seq_len, a.stride, a.epochs = 'ci,pv', 96, 64, 1
    layers.F = types.SimpleNamespace(scaled_dot_product_attention=_sdpa)  # the ablation hook (bias / recording)
    sp = etth1_splits(a.seq_len)
    N = len(sp.columns)
    dls = series_dls(sp, a.seq_len, 0, a.stride, bs=a.bs, eval_stride=32, num_workers=0)
    res = {}
    for v in a.variants.split(','):
        torch.manual_seed(a.seed)
        lr = float(v.split('_lr')[1]) if '_lr' in v else a.lr
        model = build(v, N, a.seq_len, a)
        learn = pretrain_learner(dls, model, a.mask_ratio)
        curve, t0 = [], time.time()
        class Eval(__import__('fastai.callback.core', fromlist=['Callback']).Callback):
            order = 100
            def after_epoch(self): curve.append(round(evaluate(model, dls.valid, a.mask_ratio, N)[0], 4))
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, lr, cbs=Eval())
        secs = time.time() - t0
        mse, fill = evaluate(model, dls.valid, a.mask_ratio, N)
        att = attention_shares(model, dls.valid.one_batch()[0], a.mask_ratio, N)
        res[v] = dict(curve=curve, final=round(mse, 4), mean_fill=round(fill, 4), seconds=round(secs, 1), attention=att)
        print(v, res[v], flush=True)
    fill = next(iter(res.values()))['mean_fill']
    P = model.n_patches
    rows = '\n'.join(f"| {v} | {r['final']:.4f} | {' '.join(f'{c:.3f}' for c in r['curve'])} | "
                     f"{'-' if not r['attention'] else ' / '.join(str(l['same_variable']) for l in r['attention'])} | "
                     f"{'-' if not r['attention'] else ' / '.join(str(l['same_patch_other_variables']) for l in r['attention'])} | {r['seconds']:.0f} |"
                     for v, r in res.items())
    table = (f"ETTh1 validation masked-cell MSE (z-scored, fixed masks, mask {a.mask_ratio} per patch x variable); visible-mean fill "
             f"{fill:.4f}. L {a.seq_len}, patch {a.patch_len}, D {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, lr {a.lr} unless the variant says (`_lr`), bs {a.bs}, "
             f"{a.epochs} epochs on {len(dls.train_ds)} windows (stride {a.stride}), training loss in the {a.loss_space} space. Attention shares: mass of masked tokens' attention "
             f"(mean over heads) on the same variable at other patches / on the same patch of other variables, per layer "
             f"(uniform attention would give {(P - 1) / (P * N):.3f} / {(N - 1) / (P * N):.3f} for {P} x {N} tokens).\n\n"
             f"| variant | final MSE | MSE after each epoch | attn same variable | attn same patch | s |\n|---|---|---|---|---|---|\n{rows}")
    write(a.name, dict(options=vars(a), results=res), table, out=a.out)

if __name__ == '__main__': main()
