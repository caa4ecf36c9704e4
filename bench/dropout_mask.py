#!/usr/bin/env python
"""Cost of a dropout mask on CPU (chapter 00b, *Fast paths on this CPU*): building the inverted-dropout keep mask for
one hidden activation of PatchTST's pretraining size, with each of the library's two masks; the library uses the byte mask on every CPU (`RULE_FAST_PATHS`: it was
the faster on both CPU kinds measured).

Mask rows (each a float 0/1 mask shaped like the activation, 0 with probability 51/256 for p = 0.2; the 1/(1-p) scale is
folded into the next op in both):
  - `bernoulli`: `torch.empty_like(h).bernoulli_(1 - p)`, the draw `nn.Dropout` makes;
  - `bytes`: eight random bytes per 64-bit random number, `torch.ge(bytes, threshold, out=float_mask)`.
Shapes: the feed-forward hidden [448, 25, 512] and the residual branch [448, 25, 128] of the visible-only PatchMAE
encoder at the PatchTST configuration (batch 64 x 7 variables, 25 visible patches, D 128, d_ff 512). Interleaved,
median of `--reps` after warm-up, one thread by default. Also: the drop rate and the mean of each byte lane.

    python bench/dropout_mask.py [--threads 1] [--reps 41] [--name dropout_mask]

`--quick`: 3 timed rounds (give `--out DIR`).
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write

def main():
    p = parser(__doc__)
    p.add_argument('--reps', type=int, default=41)
    a = parse(p)
    if a.quick: a.reps = 3
    import torch
    from patchssl.layers import _keep_bytes, _keep_bernoulli, _random8, RULE_FAST_PATHS
    fp = RULE_FAST_PATHS
    thr = 51  # p = 0.2 -> 51/256
    rows, table = [], ["| shape | mask | median ms | min ms | vs bernoulli | drop rate |", "|---|---|---|---|---|---|"]
    for shape in [(448, 25, 512), (448, 25, 128)]:
        h = torch.randn(shape)
        fs = {'bernoulli': lambda: _keep_bernoulli(h, thr), 'bytes': lambda: _keep_bytes(h, thr)}
        ts = {k: [] for k in fs}
        for r in range(a.reps + 3):
            for k, f in fs.items():
                t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
                if r >= 3: ts[k].append(dt)
        base = sorted(ts['bernoulli'])[len(ts['bernoulli']) // 2]
        for k, v in ts.items():
            med = sorted(v)[len(v) // 2]; rate = float((fs[k]() == 0).float().mean())
            rows.append({'shape': list(shape), 'mask': k, 'median_ms': 1e3 * med, 'min_ms': 1e3 * min(v), 'vs_bernoulli': med / base, 'drop_rate': rate})
            table.append(f"| {' x '.join(map(str, shape))} | {k} | {1e3 * med:.2f} | {1e3 * min(v):.2f} | {med / base:.2f} | {rate:.4f} |")
    r8 = _random8((1_600_000,)).float()
    lanes = [{'lane': i, 'mean': float(r8[i::8].mean()), 'std': float(r8[i::8].std())} for i in range(8)]
    text = (f"The library's choice (`RULE_FAST_PATHS`, the same on every CPU): '{fp['dropout_mask']}'. Drop rate "
            f"expected {thr / 256:.4f}.\n\n" + '\n'.join(table) + "\n\nThe eight byte lanes of the draws (1.6M bytes): means "
            + ', '.join(f"{l['mean']:.1f}" for l in lanes) + " (uniform on [0, 256): 127.5), std "
            + ', '.join(f"{l['std']:.1f}" for l in lanes) + " (73.9).")
    write(a.name, {'p': thr / 256, 'threads': a.threads, 'reps': a.reps, 'rows': rows, 'lanes': lanes, 'rule': fp}, text, a.out)

if __name__ == '__main__': main()
