#!/usr/bin/env python
"""Attention at small head widths on CPU (chapter 00b, *Fast paths on this CPU*): torch's fused
`scaled_dot_product_attention` against the explicit product (scores materialised, softmax, product), whole and in the
library's batch chunks of at most `EXPLICIT_CHUNK` scores, forward + backward, for the attention shapes of the speed
bench's models, with 1 and 2 threads; and whether the library's own decision on this machine (the rule up to 32 keys,
`cpu_fast_paths` over 33-64 keys: measured once per CPU model, torch version and thread count, and cached) picks the faster of fused and chunked for each
shape. Interleaved (fused, explicit, chunked, fused, ...), median of `--reps` after 2 warm-up rounds.

Shapes [batch x heads, tokens, head width]: the visible-only PatchMAE encoder (448 series x 16 heads, 25 tokens, 8), the
token-mode encoder (42 tokens), PatchITransformer (63 tokens), the MAE decoder (4 heads of 16, 42 tokens), a smaller
batch of the token-mode encoder (64 series), 8 heads of 16, and a longer sequence with wider heads (196 tokens, 32: outside
the explicit path's domain, fused by rule).

    python bench/attention_small_heads.py [--reps 9] [--thread-counts 1 2] [--remeasure] [--name attention_small_heads]

`--quick`: one timed round, the first thread count and the first two shapes (give `--out DIR`).
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write

SHAPES = [(448, 16, 25, 8), (448, 16, 42, 8), (448, 16, 63, 8), (448, 4, 42, 16), (64, 16, 42, 8), (448, 8, 42, 16), (64, 4, 196, 32)]

def main():
    p = parser(__doc__)
    p.add_argument('--reps', type=int, default=9)
    p.add_argument('--thread-counts', type=int, nargs='+', default=[1, 2])
    p.add_argument('--remeasure', action='store_true', help="measure the library's decision again instead of reading the cache")
    a = parse(p)
    shapes = SHAPES[:2] if a.quick else SHAPES
    if a.quick: a.reps, a.thread_counts = 1, a.thread_counts[:1]
    import torch, torch.nn.functional as F
    import patchssl.layers as L
    def fused(q, k, v): return F.scaled_dot_product_attention(q, k, v)
    def explicit(q, k, v): return torch.matmul(q * q.shape[-1] ** -.5, k.transpose(-1, -2)).softmax(-1) @ v
    def chunked(q, k, v): return L._explicit_attention(q, k, v, q.shape[-1] ** -.5)
    fns = {'fused': fused, 'explicit': explicit, 'chunked': chunked}
    rows, decisions = [], {}
    table = ["| threads | B x H, T, d | scores | fused ms | explicit ms | chunked ms | chunked / fused | library's choice | the faster of the two |",
             "|---|---|---|---|---|---|---|---|---|"]
    for th in a.thread_counts:
        torch.set_num_threads(th)
        fp = L.cpu_fast_paths(remeasure=a.remeasure); decisions[th] = fp
        L._FAST[th] = fp  # the choice column below uses this decision
        for B, H, T, d in shapes:
            torch.manual_seed(0)
            q0, k0, v0, g = (torch.randn(B, H, T, d) for _ in range(4))
            ts = {n: [] for n in fns}
            for r in range(a.reps + 2):
                for name, f in fns.items():
                    q, k, v = (t.clone().requires_grad_() for t in (q0, k0, v0))
                    t0 = time.perf_counter(); f(q, k, v).backward(g); dt = time.perf_counter() - t0
                    if r >= 2: ts[name].append(dt)
            med = {n: sorted(v)[len(v) // 2] * 1e3 for n, v in ts.items()}
            scores = B * H * T * T
            choice = 'chunked' if (scores <= L.EXPLICIT_LIMIT and L._explicit_keys(T, d)) else 'fused'
            best = 'chunked' if med['chunked'] < med['fused'] else 'fused'
            rows.append({'threads': th, 'shape': [B, H, T, d], 'scores': scores, **{f'{n}_ms': m for n, m in med.items()},
                         'chunked_over_fused': med['chunked'] / med['fused'], 'choice': choice, 'faster': best})
            table.append(f"| {th} | {B} x {H}, {T}, {d} | {scores / 1e6:.1f}M | {med['fused']:.1f} | {med['explicit']:.1f} | {med['chunked']:.1f} | "
                         f"{med['chunked'] / med['fused']:.2f} | {choice} | {best}{'' if best == choice else ' (missed)'} |")
    right = sum(r['choice'] == r['faster'] for r in rows)
    lost = [r['chunked_ms'] / r['fused_ms'] if r['choice'] == 'chunked' else r['fused_ms'] / r['chunked_ms'] for r in rows if r['choice'] != r['faster']]
    dec = '; '.join(f"{th} thread(s): explicit up to {fp['explicit_keys_max'][0]} keys at head width <= 8 and {fp['explicit_keys_max'][1]} at <= 16, "
                    f"dropout mask '{fp['dropout_mask']}' (" + (f"measured {fp['date']} at load {fp['load_avg']:.1f})" if 'date' in fp else f"{fp['source']})")
                    for th, fp in decisions.items())
    text = (f"Forward + backward of one attention call, median ms. 'chunked' is the library's explicit product (batch chunks of at most "
            f"{L.EXPLICIT_CHUNK:,} scores). The library's decision on this machine: {dec}. It picked the faster of fused and chunked for "
            f"{right} of {len(rows)} shapes" + (f"; where it did not, the one it picked took {', '.join(f'{x:.2f}' for x in lost)}x the other's time." if lost else ".")
            + "\n\n" + '\n'.join(table))
    write(a.name, {'reps': a.reps, 'rows': rows, 'decisions': {str(k): v for k, v in decisions.items()}, 'chunk': L.EXPLICIT_CHUNK}, text, a.out)

if __name__ == '__main__': main()
