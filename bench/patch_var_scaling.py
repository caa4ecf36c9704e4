"""Step time and peak memory of PatchMAE pretraining against the number of variables N, for each token layout / attention.

One masked-pretraining step (forward, masked loss, backward, Adam step; mask 0.4, mask tokens in the encoder) at
L 336, patch 16 (21 patches), D 64, 4 heads, 2 layers, d_ff 128, batch 8, for N = 7, 21, 64, 321, 862 and the kinds
- `ci`: channel-independent tokens (PatchTST; each variable a sequence of 21 patches, no cross-variable attention),
- `full`: patch x variable tokens, full attention over all P*N tokens (with the variable-pair prior, the default),
- `factorised`: patch x variable, time within a variable then all variables within a patch (chapter 00b),
- `hub`: patch x variable, time within a variable then the variables of a patch through `n_hubs` learned hub tokens.

Each configuration runs in a fresh Python process (`--worker`), so its memory is its own: peak memory is the process's
peak resident set (`resource.getrusage(RUSAGE_SELF).ru_maxrss`), reported whole and as the increase over the resident
set just before the first step (model, optimiser and batch built; the increase is what the steps themselves need).
Step time is the median of `--reps` steps after `--warmup` steps, as wall time and as the process's CPU time
(`time.process_time`; with one thread it is the time the step computed, and it moves much less than wall time when other
jobs share the cores: the ratios are taken on it). A configuration whose attention would need more than
`--max-attn-gb` if its scores were materialised (probabilities and their gradient of one layer: 2 x B x H x T^2 x 4 bytes
for the longest attended sequence T) is not run and is marked as skipped.

Writes bench/results/{name}.json, .md and .png (step time and peak-memory increase against N, log-log).

    python bench/patch_var_scaling.py --threads 1                    # the full grid
    python bench/patch_var_scaling.py --threads 1 --quick            # N = 7, 21 only, 1 rep
    python bench/patch_var_scaling.py --threads 1 --profile 321      # + the top operators of one step at N = 321, per kind
"""
import json, os, resource, statistics, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ('ci', 'full', 'factorised', 'hub')
LABEL = {'ci': 'channel-independent', 'full': 'patch x variable, full', 'factorised': 'patch x variable, factorised',
         'hub': 'patch x variable, hub'}

def rss_mb()->float:
    "Current resident set of this process in MB (from /proc/self/status)."
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024
    return float('nan')

def attn_gb(kind, B, P, N, H, n_hubs)->float:
    "Memory of one layer's attention probabilities and their gradient if materialised, for the longest attended sequence."
    if kind == 'ci': rows, T, S = B * N, P, P
    elif kind == 'full': rows, T, S = B, P * N, P * N
    elif kind == 'factorised': rows, T, S = max((B * N, P, P), (B * P, N, N), key=lambda r: r[0] * r[1] * r[2])
    else: rows, T, S = max((B * N, P, P), (B * P, N, n_hubs), key=lambda r: r[0] * r[1] * r[2])
    return 2 * rows * H * T * S * 4 / 2**30

def build(kind, N, a):
    from patchssl.patch_mae import PatchMAE
    tm = 'channel_independent' if kind == 'ci' else 'patch_var'
    att = 'full' if kind in ('ci', 'full') else kind
    return PatchMAE(N, a.seq_len, patch_len=a.patch_len, d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff,
                    dropout=0., token_mode=tm, attention=att, n_hubs=a.n_hubs)

def worker(a):
    "One configuration in this process: print one JSON line with the step times and memory."
    import torch
    from patchssl.patching import make_mask
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    model = build(a.kind, a.n_vars, a)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(a.bs, a.seq_len, a.n_vars)
    masks = [make_mask((a.bs, model.n_patches, a.n_vars), a.mask_ratio, 'patch_var', torch.Generator().manual_seed(i))
             for i in range(a.warmup + a.reps)]
    def step(mask):
        loss = model.forward_loss(x, model(x, mask), mask)
        opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    before = rss_mb()
    times, cpu = [], []
    for i, m in enumerate(masks):
        t0, c0 = time.perf_counter(), time.process_time(); step(m)
        times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = dict(kind=a.kind, n_vars=a.n_vars, step_s=statistics.median(times[a.warmup:]), all_steps_s=times,
               cpu_s=statistics.median(cpu[a.warmup:]), all_steps_cpu_s=cpu,
               peak_rss_mb=peak, rss_before_steps_mb=before, peak_increase_mb=peak - before,
               params=sum(p.numel() for p in model.parameters()))
    if a.profile_this:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU]) as prof: step(masks[-1])
        ka = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]
        tot = sum(e.self_cpu_time_total for e in prof.key_averages())
        out['profile'] = [dict(op=e.key, self_ms=e.self_cpu_time_total / 1e3, share=e.self_cpu_time_total / tot, calls=e.count) for e in ka]
    print('RESULT ' + json.dumps(out), flush=True)

def plot(rows, path, a):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    for i, k in enumerate(KINDS):
        r = [x for x in rows if x['kind'] == k and 'step_s' in x]
        if not r: continue
        ns = [x['n_vars'] for x in r]
        axs[0].loglog(ns, [x['cpu_s'] * 1e3 for x in r], 'o-', color=f'C{i}', label=LABEL[k])
        axs[1].loglog(ns, [x['peak_increase_mb'] for x in r], 'o-', color=f'C{i}', label=LABEL[k])
        sk = [x['n_vars'] for x in rows if x['kind'] == k and 'skipped' in x]
        for n in sk: axs[0].annotate(f'{LABEL[k].split(", ")[-1]}: skipped', (n, r[-1]['cpu_s'] * 1e3), color=f'C{i}', fontsize=7, ha='center')
    axs[0].set(xlabel='variables N', ylabel='step CPU time (ms, 1 thread)', title='one pretraining step (fwd + bwd + Adam)')
    axs[1].set(xlabel='variables N', ylabel='peak RSS increase over the step (MB)', title='peak memory of the steps')
    for ax in axs: ax.grid(True, which='both', alpha=.3); ax.set_xticks(a.n_list, [str(n) for n in a.n_list]); ax.minorticks_off()
    axs[0].legend(fontsize=8)
    fig.suptitle(f'PatchMAE, L {a.seq_len}, patch {a.patch_len}, D {a.d_model}, {a.n_layers} layers, batch {a.bs}, mask {a.mask_ratio}, '
                 f'{a.threads} thread(s); full attention skipped where its scores would need > {a.max_attn_gb:g} GB', fontsize=9)
    fig.tight_layout(); fig.savefig(path, dpi=110)

def main():
    from common import parser, parse, write, md_table, RESULTS
    p = parser(__doc__)
    p.add_argument('--n-list', default='7,21,64,321,862'); p.add_argument('--kinds', default=','.join(KINDS))
    p.add_argument('--seq-len', type=int, default=336); p.add_argument('--patch-len', type=int, default=16)
    p.add_argument('--d-model', type=int, default=64); p.add_argument('--n-heads', type=int, default=4)
    p.add_argument('--n-layers', type=int, default=2); p.add_argument('--d-ff', type=int, default=128)
    p.add_argument('--n-hubs', type=int, default=4); p.add_argument('--bs', type=int, default=8)
    p.add_argument('--mask-ratio', type=float, default=0.4)
    p.add_argument('--warmup', type=int, default=1); p.add_argument('--reps', type=int, default=3)
    p.add_argument('--max-attn-gb', type=float, default=8.)
    p.add_argument('--profile', type=int, default=None, help='also profile one step of every kind at this N')
    p.add_argument('--worker', action='store_true', help=argparse_hidden()); p.add_argument('--kind'); p.add_argument('--n-vars', type=int)
    p.add_argument('--profile-this', action='store_true', help=argparse_hidden())
    a = parse(p)
    a.n_list = [int(v) for v in a.n_list.split(',')]
    if a.worker: return worker(a)
    if a.quick: a.n_list, a.reps = [n for n in a.n_list if n <= 21], 1
    P = (a.seq_len - a.patch_len) // a.patch_len + 1
    rows = []
    for N in a.n_list:
        for k in a.kinds.split(','):
            est = attn_gb(k, a.bs, P, N, a.n_heads, a.n_hubs)
            if est > a.max_attn_gb:
                rows.append(dict(kind=k, n_vars=N, skipped=f'attention would need {est:.1f} GB > {a.max_attn_gb:g} GB', attn_gb=est))
                print(f"{k} N={N}: skipped ({rows[-1]['skipped']})", flush=True); continue
            cmd = [sys.executable, __file__, '--worker', '--kind', k, '--n-vars', str(N), '--threads', str(a.threads)]
            for opt in ('seq_len', 'patch_len', 'd_model', 'n_heads', 'n_layers', 'd_ff', 'n_hubs', 'bs', 'mask_ratio', 'warmup', 'reps'):
                cmd += ['--' + opt.replace('_', '-'), str(getattr(a, opt))]
            if a.profile == N: cmd.append('--profile-this')
            r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': str(a.threads)})
            line = next((l for l in r.stdout.splitlines() if l.startswith('RESULT ')), None)
            if line is None: rows.append(dict(kind=k, n_vars=N, skipped=f'failed: {r.stderr.strip().splitlines()[-1:]}', attn_gb=est))
            else: rows.append({**json.loads(line[7:]), 'attn_gb': est})
            print(k, N, {kk: v for kk, v in rows[-1].items() if kk not in ('profile', 'all_steps_s')}, flush=True)
    ci = {r['n_vars']: r for r in rows if r['kind'] == 'ci' and 'step_s' in r}
    lines = []
    for r in rows:
        c = ci.get(r['n_vars'])
        if 'step_s' in r:
            lines.append(dict(N=r['n_vars'], kind=LABEL[r['kind']], cpu_ms=round(r['cpu_s'] * 1e3, 1), wall_ms=round(r['step_s'] * 1e3, 1),
                              cpu_vs_ci=f"{r['cpu_s'] / c['cpu_s']:.2f}x" if c else '-',
                              peak_rss_mb=round(r['peak_rss_mb']), step_memory_mb=round(r['peak_increase_mb']),
                              memory_vs_ci=f"{r['peak_increase_mb'] / c['peak_increase_mb']:.2f}x" if c else '-',
                              peak_rss_vs_ci=f"{r['peak_rss_mb'] / c['peak_rss_mb']:.2f}x" if c else '-'))
        else: lines.append(dict(N=r['n_vars'], kind=LABEL[r['kind']], cpu_ms=r['skipped'], wall_ms='-', cpu_vs_ci='-', peak_rss_mb='-',
                                step_memory_mb='-', memory_vs_ci='-', peak_rss_vs_ci='-'))
    import pandas as pd
    table = md_table(pd.DataFrame(lines), 2)
    table += ("\n\ncpu_ms / wall_ms: median CPU / wall time of the steps after the warm-up; step_memory_mb: peak resident set of the configuration's own process "
              "(getrusage ru_maxrss) minus its resident set just before the first step (model, Adam state and batch built); "
              "peak_rss_mb: the whole peak (torch and Python included, about the same for every row).")
    prof = [r for r in rows if 'profile' in r]
    for r in prof:
        table += f"\n\nProfile of one step, {LABEL[r['kind']]}, N = {r['n_vars']} (self CPU time, top operators):\n\n"
        table += md_table(pd.DataFrame(r['profile']).assign(share=lambda d: d.share.map(lambda v: f'{v:.0%}')), 1)
    out = Path(a.out) if a.out else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    plot(rows, out/f'{a.name}.png', a)
    write(a.name, dict(args={k: v for k, v in vars(a).items()}, rows=rows, memory='getrusage(RUSAGE_SELF).ru_maxrss in a fresh process per configuration'),
          table, a.out)

def argparse_hidden():
    import argparse; return argparse.SUPPRESS

if __name__ == '__main__': main()
