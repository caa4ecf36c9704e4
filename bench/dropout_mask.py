#!/usr/bin/env python
"""Cost of a dropout mask on CPU (chapter 00b): building the inverted-dropout multiplier for one hidden activation of
PatchTST's pretraining size.

Mask rows, each producing what one dropout needs (a float tensor to multiply by, with the 1/(1-p) scale where the
method carries it):
  - `torch bernoulli_`: `torch.empty_like(h).bernoulli_(1 - p)`, what `nn.Dropout` draws (scale still to apply);
  - `15-bit draws, bool -> uint8 -> float, scaled`: the previous `_keep_scale` (four 15-bit integers per 64-bit random
    number, compared, converted, multiplied by 1/(1-p));
  - `8-bit draws, one comparison into a float mask`: the current `_keep_mask` (eight random bytes per 64-bit random
    number, `torch.ge(bytes, threshold, out=float_mask)`; the scale is folded into the next op).
Shapes: the feed-forward hidden [448, 25, 512] and the residual branch [448, 25, 128] of the visible-only PatchMAE
encoder at the PatchTST configuration (batch 64 x 7 variables, 25 visible patches, D 128, d_ff 512). Interleaved,
median of `--reps` after warm-up, one thread by default.

    python bench/dropout_mask.py [--threads 1] [--reps 41]
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--reps', type=int, default=41)
    a = ap.parse_args()
    import torch
    from common import write
    from patchssl.layers import _keep_mask, _random8
    torch.set_num_threads(a.threads)
    p = .2
    def old_keep_scale(h):  # the previous implementation, kept here for the comparison
        n = h.numel(); thr = round(p * 32768)
        r = torch.empty((n + 3) // 4, dtype=torch.int64).random_().view(torch.int16)[:n].view(h.shape) & 0x7FFF
        return (r >= thr).view(torch.uint8).to(h.dtype).mul_(32768 / (32768 - thr))
    rows, table = [], ["| shape | mask | median ms | min ms | vs bernoulli_ |", "|---|---|---|---|---|"]
    for shape in [(448, 25, 512), (448, 25, 128)]:
        h = torch.randn(shape)
        fs = {'torch bernoulli_': lambda: torch.empty_like(h).bernoulli_(1 - p),
              '15-bit draws, bool -> uint8 -> float, scaled': lambda: old_keep_scale(h),
              '8-bit draws, one comparison into a float mask': lambda: _keep_mask(h, p)}
        ts = {k: [] for k in fs}
        for r in range(a.reps + 3):
            for k, f in fs.items():
                t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
                if r >= 3: ts[k].append(dt)
        base = sorted(ts['torch bernoulli_'])[len(ts['torch bernoulli_']) // 2]
        for k, v in ts.items():
            med = sorted(v)[len(v) // 2]
            rows.append({'shape': list(shape), 'mask': k, 'median_ms': 1e3 * med, 'min_ms': 1e3 * min(v), 'vs_bernoulli': med / base})
            table.append(f"| {' x '.join(map(str, shape))} | {k} | {1e3 * med:.2f} | {1e3 * min(v):.2f} | {med / base:.2f} |")
    r8 = _random8((1_600_000,)).float()
    lanes = [{'lane': i, 'mean': float(r8[i::8].mean()), 'std': float(r8[i::8].std())} for i in range(8)]
    text = '\n'.join(table) + ("\n\nThe eight byte lanes of the draws (1.6M bytes): means "
                               + ', '.join(f"{l['mean']:.1f}" for l in lanes) + " (uniform on [0, 256): 127.5), std "
                               + ', '.join(f"{l['std']:.1f}" for l in lanes) + " (73.9).")
    write('dropout_mask', {'p': p, 'threads': a.threads, 'reps': a.reps, 'rows': rows, 'lanes': lanes}, text)

if __name__ == '__main__': main()
