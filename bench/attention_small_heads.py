#!/usr/bin/env python
"""Attention at small head widths on CPU (chapter 01, speed): torch's fused `scaled_dot_product_attention` against
explicit attention (scores materialised, softmax, product; what a hand-written "math" path does), forward + backward,
for the attention shapes of the speed bench's models, with 1 and 2 threads. Interleaved, median of `--reps` after 2
warm-up rounds.

Shapes [batch x heads, tokens, head width]: the visible-only PatchMAE encoder (448 series x 16 heads, 25 tokens, 8), the
token-mode encoder (42 tokens), PatchITransformer (63 tokens), the MAE decoder (4 heads of 16, 42 tokens), a smaller
batch of the token-mode encoder (64 series), and a longer sequence with wider heads (196 tokens, 32).

    python bench/attention_small_heads.py [--reps 9]
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))

SHAPES = [(448, 16, 25, 8), (448, 16, 42, 8), (448, 16, 63, 8), (448, 4, 42, 16), (64, 16, 42, 8), (448, 8, 42, 16), (64, 4, 196, 32)]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=9); ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    a = ap.parse_args()
    import torch, torch.nn.functional as F
    from common import write
    def fused(q, k, v): return F.scaled_dot_product_attention(q, k, v)
    def explicit(q, k, v): return torch.matmul(q * q.shape[-1] ** -.5, k.transpose(-1, -2)).softmax(-1) @ v
    rows, table = [], ["| threads | B x H, T, d | fused SDPA ms | explicit ms | explicit / fused |", "|---|---|---|---|---|"]
    for th in a.threads:
        torch.set_num_threads(th)
        for B, H, T, d in SHAPES:
            torch.manual_seed(0)
            q0, k0, v0, g = (torch.randn(B, H, T, d) for _ in range(4))
            ts = {'fused': [], 'explicit': []}
            for r in range(a.reps + 2):
                for name, f in (('fused', fused), ('explicit', explicit)):
                    q, k, v = (t.clone().requires_grad_() for t in (q0, k0, v0))
                    t0 = time.perf_counter(); f(q, k, v).backward(g); dt = time.perf_counter() - t0
                    if r >= 2: ts[name].append(dt)
            med = {n: sorted(v)[len(v) // 2] * 1e3 for n, v in ts.items()}
            rows.append({'threads': th, 'shape': [B, H, T, d], 'fused_ms': med['fused'], 'explicit_ms': med['explicit'], 'ratio': med['explicit'] / med['fused']})
            table.append(f"| {th} | {B} x {H}, {T}, {d} | {med['fused']:.1f} | {med['explicit']:.1f} | {med['explicit'] / med['fused']:.2f} |")
    write('attention_small_heads', {'reps': a.reps, 'rows': rows}, "Forward + backward of one attention call, median ms.\n\n" + '\n'.join(table))

if __name__ == '__main__': main()
