#!/usr/bin/env python
"""Speed and scale of PatchMAE pretraining steps (issue 3, "Scale"): one run, side by side.

1. Visible-only encoder (MAE, `mask_mode='visible'`) vs all-tokens encoder (`mask_mode='token'`) at mask 0.4 and 0.75:
   step time and peak memory on an ETTh1-sized batch (real ETTh1 windows, lookback 512, 7 variables, patch 16).
2. Growth with the number of variables N = 7, 21, 64, 321 for patch x variable tokens (P*N tokens per sample, attention
   across variables) vs channel-independent tokens (B*N sequences of P tokens). Series for N > 7 are ETTh1's 7
   variables tiled (speed does not depend on values). Configurations whose attention would not fit the time budget
   are reported as skipped, not estimated.
3. Achieved GFLOP/s of a pretraining step (FLOPs counted by `torch.utils.flop_counter` for forward + backward) against
   the fp32 matmul peak measured in the same run (a 2048 x 2048 x 2048 matmul).

A step = forward + masked loss + backward + Adam step. Each configuration runs in its own subprocess, so its peak
memory is its own: peak RSS (CPU, `ru_maxrss`) minus the RSS after building the model and the batch, or
`torch.cuda.max_memory_allocated` on a GPU. Times are medians over `--steps` steps after 2 warm-up steps.

    python bench/speed_patch_mae.py [--steps 10] [--bs 32] [--threads 2] [--device cpu]

Results: bench/results/speed_patch_mae.{json,md} (`speed_patch_mae_{device}` off the CPU) unless `--name`.
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))

def one(cfg:dict)->dict:
    "Time one configuration (runs inside a subprocess)."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from patchssl.patch_mae import PatchMAE
    from patchssl.patching import make_mask
    from patchssl.data import etth1_splits
    torch.set_num_threads(cfg['threads']); torch.manual_seed(cfg.get('seed', 0))
    dev = torch.device(cfg['device'])
    sp = etth1_splits(512)
    base = torch.as_tensor(sp.train[:512 + 16 * (cfg['bs'] - 1)]).unfold(0, 512, 16).permute(0, 2, 1)[:cfg['bs']]  # [bs, 512, 7] real windows
    x = base.repeat(1, 1, -(-cfg['n_vars'] // 7))[..., :cfg['n_vars']].contiguous().to(dev)               # tile to N variables
    m = PatchMAE(cfg['n_vars'], 512, patch_len=16, d_model=cfg['d_model'], n_heads=cfg['n_heads'], n_layers=cfg['n_layers'],
                 d_ff=cfg['d_ff'], dropout=0., token_mode=cfg['token_mode'], mask_mode=cfg['mask_mode']).to(dev)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    mask = make_mask((x.shape[0], m.n_patches, cfg['n_vars']), cfg['mask_ratio'], 'patch_var', torch.Generator().manual_seed(0), device=dev)
    def step():
        loss = m.forward_loss(x, m(x, mask), mask); opt.zero_grad(); loss.backward(); opt.step()
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter(); step(); sync(); first = time.perf_counter() - t0
    if first > cfg['max_step_s']:
        return {**cfg, 'skipped': f"one step took {first:.1f} s > --max-step-s {cfg['max_step_s']}"}
    step(); sync()
    times = []
    for _ in range(cfg['steps']):
        t0 = time.perf_counter(); step(); sync(); times.append(time.perf_counter() - t0)
    with FlopCounterMode(display=False) as fc: step()
    peak_mb = (torch.cuda.max_memory_allocated() / 2**20 if dev.type == 'cuda'
               else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024)
    times.sort(); med = times[len(times) // 2]
    n_tok = m.n_patches * cfg['n_vars']
    return {**cfg, 'tokens_per_sample': n_tok, 'step_ms': 1e3 * med, 'peak_mem_mb': peak_mb,
            'gflop_per_step': fc.get_total_flops() / 1e9, 'gflops_per_s': fc.get_total_flops() / 1e9 / med}

def matmul_peak(device, threads, n=2048, reps=5)->float:
    import torch
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = (lambda: torch.cuda.synchronize()) if device != 'cpu' else (lambda: None)
    a @ b; sync(); best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; sync(); best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9

def run_sub(cfg):
    r = subprocess.run([sys.executable, __file__, '--one', json.dumps(cfg)], capture_output=True, text=True)
    if r.returncode: return {**cfg, 'skipped': 'failed: ' + (r.stderr.strip().splitlines() or ['?'])[-1][:200]}
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    from common import parser, parse, write
    ap = parser(__doc__, threads=2, seed=0)  # --threads, --seed (of the model and the masks), --name, --quick, --out
    ap.set_defaults(name=None)  # speed_patch_mae, or speed_patch_mae_{device} off the CPU
    ap.add_argument('--steps', type=int, default=10); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--max-step-s', type=float, default=20., help='skip a configuration whose first step takes longer')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.one: print(json.dumps(one(json.loads(a.one)))); return
    if a.quick: a.steps, a.max_step_s = 1, 2.
    arch = dict(d_model=128, n_heads=8, n_layers=3, d_ff=256)  # head width 16: CPU attention is very slow at width 8
    base = dict(steps=a.steps, bs=a.bs, threads=a.threads, device=a.device, max_step_s=a.max_step_s, seed=a.seed, **arch)
    peak = matmul_peak(a.device, a.threads)
    rows1 = [run_sub({**base, 'n_vars': 7, 'token_mode': 'patch_var', 'mask_mode': mm, 'mask_ratio': r})
             for r in (0.4, 0.75) for mm in ('token', 'visible')]
    rows2 = [run_sub({**base, 'bs': max(1, a.bs // 8), 'n_vars': n, 'token_mode': tm, 'mask_mode': 'token', 'mask_ratio': 0.4})
             for n in (7, 21, 64, 321) for tm in ('patch_var', 'channel_independent')]
    def f(r, k, fmt): return fmt.format(r[k]) if k in r else r.get('skipped', '-')
    md = [f"fp32 matmul peak measured in this run: {peak:.1f} GFLOP/s (2048^3, best of 5).", "",
          f"**1. Visible-only vs all-tokens encoder** (batch {a.bs}, ETTh1 lookback 512, N 7, patch 16 = 224 tokens, "
          f"D 128, 3 layers, 8 heads, d_ff 256; visible mode adds a 1-layer 64-wide decoder over all tokens)", "",
          "| mask ratio | encoder | step (ms) | peak memory (MB) | GFLOP / step | achieved GFLOP/s | % of matmul peak |", "|---|---|---|---|---|---|---|"]
    for r in rows1:
        md.append(f"| {r['mask_ratio']} | {'visible only (MAE)' if r['mask_mode'] == 'visible' else 'all tokens (mask token)'} | "
                  f"{f(r, 'step_ms', '{:.0f}')} | {f(r, 'peak_mem_mb', '{:.0f}')} | {f(r, 'gflop_per_step', '{:.2f}')} | "
                  f"{f(r, 'gflops_per_s', '{:.1f}')} | {(100 * r['gflops_per_s'] / peak) if 'gflops_per_s' in r else float('nan'):.0f}% |")
    for r_ in (0.4, 0.75):
        t, v = [next(r for r in rows1 if r['mask_ratio'] == r_ and r['mask_mode'] == mm) for mm in ('token', 'visible')]
        if 'step_ms' in t and 'step_ms' in v:
            md.append(f"\nMask {r_}: visible-only step = {v['step_ms'] / t['step_ms']:.2f} x the all-tokens step, "
                      f"memory {v['peak_mem_mb'] / max(t['peak_mem_mb'], 1e-9):.2f} x.")
    md += ["", f"**2. Growth with the number of variables** (batch {max(1, a.bs // 8)}, mask 0.4, all-tokens encoder; "
           "patch x variable: one sequence of 32*N tokens per sample; channel-independent: N sequences of 32 tokens)", "",
           "| N | tokens | patch x variable step (ms) | memory (MB) | channel-independent step (ms) | memory (MB) |", "|---|---|---|---|---|---|"]
    for n in (7, 21, 64, 321):
        pv, ci = [next(r for r in rows2 if r['n_vars'] == n and r['token_mode'] == tm) for tm in ('patch_var', 'channel_independent')]
        md.append(f"| {n} | {32 * n} | {f(pv, 'step_ms', '{:.0f}')} | {f(pv, 'peak_mem_mb', '{:.0f}')} | "
                  f"{f(ci, 'step_ms', '{:.0f}')} | {f(ci, 'peak_mem_mb', '{:.0f}')} |")
    write(a.name or 'speed_patch_mae' + ('' if a.device == 'cpu' else f'_{a.device}'),
          {'matmul_peak_gflops': peak, 'visible_vs_token': rows1, 'n_vars_scaling': rows2}, '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
