#!/usr/bin/env python
"""How much of a pretraining step does `MaskingCallback` cost? (issue: under 2% on ETTh1-sized batches)

A fastai `Learner` trains a PatchTST-sized patch x variable transformer (d_model 128, 3 layers, 16 heads, d_ff 256;
`--size small`: d_model 64, 2 layers, 4 heads) on real ETTh1 self-supervised windows (lookback 512, 7 variables, patch_len 16 -> 32 x 7 = 224 tokens), batch 64.
Two timing callbacks bracket each training step (from the first `before_batch` callback to the last `after_batch`),
and the masking callback's own `before_batch` (drawing the mask, patchifying the target) is timed inside it. The share is
sum(masking time) / sum(step time) over the same steps, measured side by side in one run, per mask strategy.

    python bench/masking_overhead.py [--steps 30] [--bs 64] [--threads 2] [--size patchtst|small]

Results: bench/results/masking_overhead.{json,md} (`--size small`: masking_overhead_small) unless `--name`.
"""
import sys, time
from pathlib import Path
import torch
from torch import nn
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write
from fastai.learner import Learner
from fastai.callback.core import Callback
import fastai.callback.progress  # Learner.no_bar
from patchssl.data import etth1_dls
from patchssl.patching import MaskingCallback, MaskedLoss, patchify

class PatchVarTransformer(nn.Module):
    "Patch x variable tokens with a learned mask token; all tokens through the encoder (PatchTST-style)."
    def __init__(self, patch_len=16, n_patches=32, n_vars=7, d_model=128, n_layers=3, n_heads=16, d_ff=256):
        super().__init__()
        self.patch_len = patch_len
        self.patch_embed, self.projector = nn.Linear(patch_len, d_model), nn.Linear(d_model, patch_len)
        self.pos = nn.Parameter(torch.randn(n_patches, 1, d_model) * .02)
        self.var = nn.Parameter(torch.randn(1, n_vars, d_model) * .02)
        self.mask_token = nn.Parameter(torch.zeros(d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.2, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
    def forward(self, x, mask):
        p = patchify(x, self.patch_len)                                               # [B, P, N, p]
        h = torch.where(mask[..., None], self.mask_token, self.patch_embed(p)) + self.pos + self.var
        B, P, N, D = h.shape
        return self.projector(self.encoder(h.reshape(B, P * N, D)).reshape(B, P, N, D))

class TimedMasking(MaskingCallback):
    def before_fit(self): self.times = []
    def before_batch(self):
        t = time.perf_counter(); super().before_batch()
        if self.training: self.times.append(time.perf_counter() - t)

class StepStart(Callback):
    order = -1000
    def before_fit(self): self.t = []
    def before_batch(self):
        if self.training: self.t.append(time.perf_counter())
class StepEnd(Callback):
    order = 1000
    def before_fit(self): self.t = []
    def after_batch(self):
        if self.training: self.t.append(time.perf_counter())

class StopAfter(Callback):
    order = 2000  # after StepEnd has stamped the last step
    def __init__(self, n): self.n = n
    def after_batch(self):
        if self.training and self.iter + 1 >= self.n: raise fastai.callback.core.CancelEpochException()

SIZES = {'patchtst': dict(d_model=128, n_layers=3, n_heads=16, d_ff=256),   # official PatchTST self-supervised sizes
         'small': dict(d_model=64, n_layers=2, n_heads=4, d_ff=128)}       # a fast step: the worst case for the share

def run(strategy, steps, bs, size, warmup=3, seed=0):
    dls = etth1_dls(seq_len=512, horizon=0, bs=bs, device='cpu')
    torch.manual_seed(seed)
    mcb, s0, s1 = TimedMasking(0.4, strategy, patch_len=16), StepStart(), StepEnd()
    learn = Learner(dls, PatchVarTransformer(**SIZES[size]), loss_func=MaskedLoss(), cbs=[mcb, s0, s1, StopAfter(steps + warmup)])
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, 1e-3)
    step = [b - a for a, b in zip(s0.t, s1.t)][warmup:]
    mask = mcb.times[warmup:len(step) + warmup]
    return {'strategy': strategy, 'steps': len(step), 'step_ms': 1e3 * sum(step) / len(step),
            'mask_ms': 1e3 * sum(mask) / len(mask), 'share_pct': 100 * sum(mask) / sum(step)}

def main():
    ap = parser(__doc__, threads=2, seed=0)  # --threads, --seed, --name, --quick, --out
    ap.set_defaults(name=None)  # masking_overhead, or masking_overhead_{size} for another --size
    ap.add_argument('--steps', type=int, default=30, help='timed training steps per strategy (after 3 warm-up steps)')
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--size', choices=list(SIZES), default='patchtst', help='encoder size (see SIZES)')
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.steps, a.bs = 3, 16
    rows = [run(s, a.steps, a.bs, a.size, seed=a.seed) for s in ('patch_var', 'patch', 'variable', 'last_n')]
    md = ["| mask strategy (ratio 0.4) | steps | step time (ms) | masking callback (ms) | share of step |", "|---|---|---|---|---|"]
    md += [f"| {r['strategy']} | {r['steps']} | {r['step_ms']:.1f} | {r['mask_ms']:.3f} | {r['share_pct']:.2f}% |" for r in rows]
    z = SIZES[a.size]
    md.append(f"\nBatch {a.bs} x 512 steps x 7 variables of ETTh1, patch_len 16 (224 patch x variable tokens), "
              f"{a.size} encoder (d_model {z['d_model']}, {z['n_layers']} layers, {z['n_heads']} heads, d_ff {z['d_ff']}), "
              f"Adam, CPU. Aim: under 2%.")
    name = a.name or 'masking_overhead' + ('' if a.size == 'patchtst' else f'_{a.size}')
    write(name, {'rows': rows, 'bs': a.bs, 'steps': a.steps, 'size': a.size, 'encoder': z}, '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
