#!/usr/bin/env python
"""Speed against the reference PatchTST (issue 9, item 4): one training step of Hugging Face `transformers`' PatchTST
and of patchssl's models, side by side in one process.

A step = forward + loss + backward + Adam step, in training mode (dropout on). Steps are interleaved (A, B, C, A, B,
C, ...) so that other load on the machine hits every model alike; each model's time is the median of `--reps` timed
steps after `--warmup` untimed rounds. Same thread count for all (`--threads`, default 2). With `--block k` each model
runs k consecutive steps per round (A A A, B B B, ...): the first step of a block follows another model and finds the
memory allocator cold (glibc hands large freed blocks back to the system, so the next model page-faults them in again;
measured with `getrusage` on a loaded 2-core machine: the Hugging Face pretraining step faulted in ~500 MB right after
another model and ~330 MB per step in a block of its own, PatchMAE's visible-only step almost nothing); the other k-1
steps are a training loop's steady state. Both are reported; the goals are judged on the steady state.

Pretraining, at the self-supervised PatchTST configuration: batch 64, L 512, N 7, patch = stride = 12 (42 patches,
start trimmed), D 128, 3 layers, 16 heads, d_ff 512, dropout 0.2, attention dropout 0, mask 0.4 (random per
variable). `PatchTSTForPretraining` vs PatchMAE (`patch_mae_patchtst`) in four settings:
  - token mode, channel-independent: mask tokens in the encoder, each variable its own sequence (PatchTST's design);
  - visible mode, channel-independent: the encoder sees only the visible patches (MAE), a 1-layer 64-wide decoder;
  - visible mode, patch x variable tokens, without and with the variable-pair attention bias (`var_attn_prior`).
The PatchMAE step includes drawing the mask (`make_mask`), as PatchTSTForPretraining draws its mask in `forward`.

Supervised, at the PatchTST/64 configuration: batch 64, L 512, H 96, patch 16, stride 8 (63 patches), D 128,
3 layers, 16 heads, d_ff 256, dropout 0.2: `PatchTSTForPrediction` vs `PatchITransformer` (channel-independent), MSE.
`PatchTSTForPrediction`'s default head averages the patches (`pooling_type='mean'`, D -> H: 0.42M parameters); the
paper's and PatchITransformer's head flattens them (P*D -> H: 1.17M parameters, 0.77M of them in the head), so the
table also has `PatchTSTForPrediction` with `pooling_type=None` (the same design) and tsai's PatchTST (`pip install
tsai --no-deps`: its PatchTST needs only torch and fastai; without it the row is left out and the results say so).

`--autocast` adds the two references and our two same-design models with forward + loss under
`torch.autocast('cpu', dtype=torch.bfloat16)` (weights and Adam stay fp32), and a bfloat16 matmul peak: on CPUs with
bfloat16 matrix units (AMX) the matmuls alone are several times faster; the rows show whether whole steps are.

`--compile` adds the same-design PatchMAE with `torch.compile` on its encoder; its first step (compilation) is timed
apart. Use `--threads 1` on a shared machine: with 2 threads on 2 busy cores every small op that enters a parallel
region waits for the second thread to be scheduled (a sqrt of 128 floats took 21 ms with 2 threads and 1 us with 1).

FLOPs of one step are counted with `torch.utils.flop_counter.FlopCounterMode` (matmuls, convolutions and attention;
element-wise work is not counted) and set against an fp32 matmul peak (4096 x 4096 x 4096, best of 3) measured in
the same run. Inputs are random normal tensors (speed does not depend on the values). Hugging Face models are built
from a `PatchTSTConfig`, nothing is downloaded. Needs the `bench` extra: `pip install -e ".[bench]"`.

`--ablate-fast-paths` adds our three channel-independent models with patchssl's CPU fast paths off (every attention through
the fused kernel, every dropout mask from `bernoulli_`); the fast-path decision in force (`patchssl.layers.fast_path_decision`:
the documented rule up to 32 keys, over 33-64 keys the decision measured once on this CPU and cached) is recorded with the results either way.

    python bench/speed_patchtst.py [--threads 2] [--warmup 2] [--reps 5] [--block 1] [--compile] [--autocast] [--ablate-fast-paths] [--profile] [--name speed_patchtst] [--out DIR]

`--seed` seeds the models' weights and the random inputs (default 0). `--quick` checks the script end to end in seconds
(batch 8, no warm-up, 2 timed rounds, a 1024^3 matmul peak): its times are not comparable; give `--out DIR` so that it
does not write over bench/results/speed_patchtst.
"""
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write

GOALS = [  # (label, numerator (reference), denominator (ours), minimum speed-up or None for information only)
    ('PatchMAE token/channel-independent (same design) vs PatchTSTForPretraining', 'hf_pretrain', 'pm_token_ci', 1.6),
    ('PatchMAE visible/channel-independent (visible-only encoder) vs PatchTSTForPretraining', 'hf_pretrain', 'pm_visible_ci', 3.5),
    ('PatchMAE visible/patch x variable, default prior, vs PatchTSTForPretraining', 'hf_pretrain', 'pm_visible_pv', 1.0),
    ('PatchMAE visible/patch x variable, var_attn_prior=None, vs PatchTSTForPretraining', 'hf_pretrain', 'pm_visible_pv_noprior', 1.0),
    ('PatchITransformer (channel-independent) vs PatchTSTForPrediction (default mean-pool head)', 'hf_predict', 'pit_ci', 1.6),
    ('PatchITransformer (channel-independent) vs PatchTSTForPrediction with the flatten head (same design)', 'hf_predict_flat', 'pit_ci', None),
    ("PatchITransformer (channel-independent) vs tsai's PatchTST", 'tsai', 'pit_ci', None),
    ('PatchMAE token/channel-independent, torch.compile(encoder), vs PatchTSTForPretraining', 'hf_pretrain', 'pm_token_ci_compiled', None),
    ('CPU fast paths off (fused attention, bernoulli_ masks): PatchMAE token/channel-independent, off / on', 'pm_token_ci_nofast', 'pm_token_ci', None),
    ('CPU fast paths off: PatchMAE visible/channel-independent, off / on', 'pm_visible_ci_nofast', 'pm_visible_ci', None),
    ('CPU fast paths off: PatchITransformer, off / on', 'pit_ci_nofast', 'pit_ci', None),
    ('bfloat16 autocast: PatchTSTForPretraining fp32 / bf16', 'hf_pretrain', 'hf_pretrain_bf16', None),
    ('bfloat16 autocast: PatchMAE token/channel-independent fp32 / bf16', 'pm_token_ci', 'pm_token_ci_bf16', None),
    ('bfloat16 autocast: PatchTSTForPrediction fp32 / bf16', 'hf_predict', 'hf_predict_bf16', None),
    ('bfloat16 autocast: PatchITransformer fp32 / bf16', 'pit_ci', 'pit_ci_bf16', None),
]
AUTOCAST = ['hf_pretrain', 'pm_token_ci', 'hf_predict', 'pit_ci']  # models also timed under bfloat16 autocast with --autocast
NOFAST = ['pm_token_ci', 'pm_visible_ci', 'pit_ci']  # models also timed with patchssl's CPU fast paths switched off, with --ablate-fast-paths

def matmul_peak(n=4096, reps=3, dtype=None)->float:
    import torch
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b; best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9

TSAI_MISSING = []  # why tsai's row is absent, if it is
LOSSES = {}  # name -> loss function of its step (reused by the autocast copies)

def build(bs=64, L=512, N=7, H=96, compile_encoder=False, autocast=False, nofast=False, seed=0):
    "name -> (description, model, step function); every step function runs forward + loss + backward + Adam step."
    import torch, torch.nn.functional as F
    from transformers import PatchTSTConfig, PatchTSTForPretraining, PatchTSTForPrediction
    from patchssl.patch_mae import patch_mae_patchtst, PatchITransformer
    from patchssl.patching import make_mask
    torch.manual_seed(seed)
    x, y = torch.randn(bs, L, N), torch.randn(bs, H, N)
    out = {}
    def add(name, desc, model, loss_fn):
        LOSSES[name] = loss_fn
        model.train(); opt = torch.optim.Adam(model.parameters(), 1e-4)
        def step():
            loss = loss_fn(model); opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        out[name] = (desc, model, step)
    # dropout 0.2 on the residual paths, inside the feed-forward and after the position code, none on attention weights
    # (the official PatchTST: `dropout` = 0.2, `attn_dropout` = 0)
    drop = dict(positional_dropout=0.2, path_dropout=0.2, ff_dropout=0.2, attention_dropout=0.)
    ssl = PatchTSTConfig(num_input_channels=N, context_length=L, patch_length=12, patch_stride=12, d_model=128,
                         num_hidden_layers=3, num_attention_heads=16, ffn_dim=512, head_dropout=0.2, do_mask_input=True,
                         mask_type='random', random_mask_ratio=0.4, **drop)
    add('hf_pretrain', 'HF PatchTSTForPretraining', PatchTSTForPretraining(ssl), lambda m: m(past_values=x).loss)
    def pm_loss(m):
        mask = make_mask((x.shape[0], m.n_patches, N), 0.4, 'patch_var')
        return m.forward_loss(x, m(x, mask), mask)
    for name, desc, kw in [('pm_token_ci', 'PatchMAE token / channel-independent', dict(token_mode='channel_independent', mask_mode='token')),
                           ('pm_visible_ci', 'PatchMAE visible / channel-independent', dict(token_mode='channel_independent', mask_mode='visible')),
                           ('pm_visible_pv_noprior', 'PatchMAE visible / patch x variable, var_attn_prior=None',
                            dict(token_mode='patch_var', mask_mode='visible', var_attn_prior=None)),
                           ('pm_visible_pv', 'PatchMAE visible / patch x variable (default var_attn_prior)', dict(token_mode='patch_var', mask_mode='visible'))]:
        add(name, desc, patch_mae_patchtst(N, L, **kw), pm_loss)
    if compile_encoder:  # the same-design model with its encoder compiled by torch.compile (inductor); compile time is timed in main
        cm = patch_mae_patchtst(N, L, token_mode='channel_independent', mask_mode='token')
        cm.encoder = torch.compile(cm.encoder)
        add('pm_token_ci_compiled', 'PatchMAE token / channel-independent, encoder under torch.compile', cm, pm_loss)
    sup = PatchTSTConfig(num_input_channels=N, context_length=L, patch_length=16, patch_stride=8, d_model=128,
                         num_hidden_layers=3, num_attention_heads=16, ffn_dim=256, prediction_length=H, head_dropout=0., **drop)
    add('hf_predict', "HF PatchTSTForPrediction (its default head: mean over patches, D -> H)", PatchTSTForPrediction(sup),
        lambda m: m(past_values=x, future_values=y).loss)
    sup_flat = PatchTSTConfig(**{**sup.to_dict(), 'pooling_type': None})  # the paper's flatten head, P*D -> H, as PatchITransformer
    add('hf_predict_flat', 'HF PatchTSTForPrediction, pooling_type=None (flatten head P*D -> H, as the paper)', PatchTSTForPrediction(sup_flat),
        lambda m: m(past_values=x, future_values=y).loss)
    try:  # tsai's PatchTST (input [B, N, L], output [B, N, H]); 63 patches like the others (no end padding)
        from tsai.models.PatchTST import PatchTST as TsaiPatchTST
        ts = TsaiPatchTST(N, N, L, H, n_layers=3, n_heads=16, d_model=128, d_ff=256, dropout=0.2, attn_dropout=0., patch_len=16, stride=8,
                          padding_patch=False)
        xt, yt = x.transpose(1, 2).contiguous(), y.transpose(1, 2).contiguous()
        add('tsai', "tsai PatchTST (flatten head, BatchNorm, residual attention)", ts, lambda m: F.mse_loss(m(xt), yt))
    except ImportError as e: TSAI_MISSING.append(f"{type(e).__name__}: {e}")
    pit = PatchITransformer(N, L, horizon=H, patch_len=16, stride=8, d_model=128, n_heads=16, n_layers=3, d_ff=256, dropout=0.2,
                            token_mode='channel_independent')
    add('pit_ci', 'PatchITransformer channel-independent', pit, lambda m: F.mse_loss(m(x), y))
    if autocast:  # the same models (own copies, same seed) with forward + loss under torch.autocast('cpu', bfloat16)
        import copy
        for n in AUTOCAST:
            desc, m, _ = out[n]; loss_fn = LOSSES[n]
            def bf16_loss(mm, f=loss_fn):
                with torch.autocast('cpu', dtype=torch.bfloat16): return f(mm)
            add(n + '_bf16', desc + ', bfloat16 autocast', copy.deepcopy(m), bf16_loss)
    if nofast:  # the same models (own copies) with the CPU fast paths off: always fused attention, torch's bernoulli_ masks
        import copy, patchssl.layers as layers
        for n in NOFAST:
            desc, m, _ = out[n]; loss_fn = LOSSES[n]
            def nofast_loss(mm, f=loss_fn):
                old = layers.EXPLICIT_KEYS_MAX, layers.DROPOUT_MASK
                layers.EXPLICIT_KEYS_MAX, layers.DROPOUT_MASK = 0, 'bernoulli'
                try: return f(mm)
                finally: layers.EXPLICIT_KEYS_MAX, layers.DROPOUT_MASK = old
            add(n + '_nofast', desc + ', CPU fast paths off', copy.deepcopy(m), nofast_loss)
    return out

def time_interleaved(models:dict, names:list, warmup:int, reps:int, block:int=1)->tuple:
    """Rounds of A, B, C, ...: each model runs `block` consecutive steps per round. Returns (steady, first): with `block` > 1
    `steady` has the steps after the first of each block (a training loop's steady state) and `first` the first step after
    another model ran (its allocations start cold); with `block` = 1 both are the single interleaved steps."""
    steady, first = {n: [] for n in names}, {n: [] for n in names}
    for r in range(warmup + reps):
        for n in names:
            for i in range(block):
                t0 = time.perf_counter(); models[n][2](); dt = time.perf_counter() - t0
                if r >= warmup: (first if i == 0 else steady)[n].append(dt)
    return (first, first) if block == 1 else (steady, first)

def paired_ratios(ref:list, ours:list, reps:int)->list:
    """Per timed round, the reference's mean step time over ours in the same round (the two ran seconds apart, so a slow
    spell of the machine hits both): a ratio per round, whose median is robust to load that comes and goes."""
    kr, ko = len(ref) // reps, len(ours) // reps
    return [sum(ref[i * kr:(i + 1) * kr]) / kr / (sum(ours[i * ko:(i + 1) * ko]) / ko) for i in range(reps)]

def count_flops(step)->float:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: step()
    return fc.get_total_flops()

def profile_top(step, k=5, steps=2)->list:
    "Top-k ops by self CPU time over `steps` steps."
    from torch.profiler import profile, ProfilerActivity
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps): step()
    ev = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    tot = sum(e.self_cpu_time_total for e in ev)
    return [{'op': e.key, 'self_cpu_ms_per_step': e.self_cpu_time_total / 1e3 / steps, 'share': e.self_cpu_time_total / tot,
             'calls_per_step': e.count / steps} for e in ev[:k]]

def main():
    ap = parser(__doc__, name='speed_patchtst', threads=2, seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--block', type=int, default=1, help='consecutive steps of one model per round (>1: steady-state and first-step times apart)')
    ap.add_argument('--compile', action='store_true', help='add the same-design PatchMAE with torch.compile on its encoder (compiles for minutes)')
    ap.add_argument('--profile', action='store_true', help='profile the reference and the slowest row of each missed goal')
    ap.add_argument('--autocast', action='store_true', help='also time the references and ours with forward + loss under bfloat16 autocast')
    ap.add_argument('--ablate-fast-paths', action='store_true', help="also time ours with patchssl's CPU fast paths off (fused attention, bernoulli_ masks)")
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    bs, peak_n = (8, 1024) if a.quick else (64, 4096)
    if a.quick: a.warmup, a.reps, a.block = 0, 2, 1
    import torch, transformers
    load0, t_start = os.getloadavg(), time.time()
    from patchssl.layers import fast_path_decision, fast_path_cache
    t0 = time.perf_counter(); fast = fast_path_decision(); fast_s = time.perf_counter() - t0  # the decision in force (read from the cache, or measured now)
    peak = matmul_peak(peak_n)
    peak_bf16 = matmul_peak(peak_n, dtype=torch.bfloat16) if a.autocast else None
    models = build(bs=bs, compile_encoder=a.compile, autocast=a.autocast, nofast=a.ablate_fast_paths, seed=a.seed)
    compile_s = None
    if a.compile:  # the first step compiles (forward and backward graphs); time it apart from the timed steps
        t0 = time.perf_counter(); models['pm_token_ci_compiled'][2](); compile_s = time.perf_counter() - t0
    pre = [n for n in ['hf_pretrain', 'pm_token_ci', 'pm_visible_ci', 'pm_visible_pv_noprior', 'pm_visible_pv', 'pm_token_ci_compiled',
                           'hf_pretrain_bf16', 'pm_token_ci_bf16', 'pm_token_ci_nofast', 'pm_visible_ci_nofast'] if n in models]
    sup = [n for n in ['hf_predict', 'hf_predict_flat', 'tsai', 'pit_ci', 'hf_predict_bf16', 'pit_ci_bf16', 'pit_ci_nofast'] if n in models]
    (st_pre, fi_pre), (st_sup, fi_sup) = (time_interleaved(models, g, a.warmup, a.reps, a.block) for g in (pre, sup))
    times, first = {**st_pre, **st_sup}, {**fi_pre, **fi_sup}
    peak_end = matmul_peak(peak_n)
    rows = {}
    for n in pre + sup:
        desc, m, step = models[n]
        ts = sorted(times[n]); med = ts[len(ts) // 2]
        try: fl = count_flops(step)
        except Exception as e: print(f"FLOP count failed for {n}: {e}"); fl = float('nan')
        fs = sorted(first[n]); first_med = fs[len(fs) // 2]
        rows[n] = {'model': desc, 'step_ms': 1e3 * med, 'min_ms': 1e3 * ts[0], 'max_ms': 1e3 * ts[-1], 'times_ms': [1e3 * t for t in times[n]],
                   'first_step_ms': 1e3 * first_med, 'first_times_ms': [1e3 * t for t in first[n]],
                   'params': sum(p.numel() for p in m.parameters()), 'gflop_per_step': fl / 1e9, 'gflops_per_s': fl / 1e9 / med}
    ratios = []
    for label, ref, ours, goal in GOALS:
        if ref not in rows or ours not in rows: continue
        r = rows[ref]['step_ms'] / rows[ours]['step_ms']
        pr = paired_ratios(times[ref], times[ours], a.reps)
        ratios.append({'goal': label, 'reference': ref, 'ours': ours, 'speedup': r, 'target': goal, 'met': None if goal is None else r >= goal,
                       'speedup_first_step': rows[ref]['first_step_ms'] / rows[ours]['first_step_ms'],
                       'paired_round_ratios': pr, 'paired_median': sorted(pr)[len(pr) // 2]})
    prof = {}
    if a.profile:
        missed = {g['ours'] for g in ratios if g['met'] is False}
        for ref_, group in (('hf_pretrain', pre), ('hf_predict', sup)):
            slow = [n for n in group if n in missed]
            if not slow: continue
            worst = max(slow, key=lambda n: rows[n]['step_ms'])
            for n in (ref_, worst): prof[n] = profile_top(models[n][2])
    load1 = os.getloadavg()
    hf_attn = {n: getattr(models[n][1].config, '_attn_implementation', '?') for n in ('hf_pretrain', 'hf_predict')}
    how = ("steps interleaved across the models of each group, one step each per round" if a.block == 1 else
           f"models interleaved in blocks of {a.block} consecutive steps per round; the table's step time is the median of the "
           f"steps after the first of each block (steady state, as in a training loop), the first step after another model "
           f"ran (allocations start cold) is reported beside it")
    lines = [f"transformers {transformers.__version__} (attention implementation: {hf_attn['hf_pretrain']}); torch.set_num_threads({a.threads}); "
             f"{a.warmup} warm-up rounds + {a.reps} timed rounds, {how}, so load from "
             f"other processes hits every model alike (the ratios are fairer than the absolute times).",
             f"Load average (1, 5, 15 min): start {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}, end {load1[0]:.2f} / {load1[1]:.2f} / {load1[2]:.2f} "
             f"(wall time {time.time() - t_start:.0f} s).",
             (f"patchssl's CPU fast paths ({fast.get('key', 'rule')}): explicit attention up to 32 keys by the rule; over 33-64 keys up to "
              f"{fast['explicit_keys_max'][0]} keys at head width <= 8 and {fast['explicit_keys_max'][1]} at <= 16 ("
              + (f"measured {fast['date']} at load {fast['load_avg']:.1f}" if 'date' in fast else fast.get('source', 'FAST_PATHS=rule'))
              + f"; read or measured in {fast_s:.1f} s; cache {fast_path_cache()}); dropout mask '{fast['dropout_mask']}'."),
             f"fp32 matmul peak measured in this run ({peak_n}^3, best of 3): {peak:.1f} GFLOP/s at start, {peak_end:.1f} at the end"
             + (f"; bfloat16 matmul {peak_bf16:.1f} GFLOP/s (the % column is against the fp32 peak)." if peak_bf16 else "."), "",
             "| model | step (ms, median) | min-max (ms) | first step of a block (ms, median) | params | GFLOP / step | achieved GFLOP/s | % of matmul peak |",
             "|---|---|---|---|---|---|---|---|"]
    for grp, title in ((pre, f'**pretraining** (bs {bs}, L 512, N 7, p = stride = 12, D 128, 3 layers, 16 heads, d_ff 512, dropout 0.2, mask 0.4)'),
                       (sup, f'**supervised** (bs {bs}, L 512, H 96, p 16, stride 8, D 128, 3 layers, 16 heads, d_ff 256, dropout 0.2)')):
        lines.append(f"| {title} | | | | | | | |")
        for n in grp:
            r = rows[n]
            lines.append(f"| {r['model']} | {r['step_ms']:.0f} | {r['min_ms']:.0f}-{r['max_ms']:.0f} | {r['first_step_ms']:.0f} | {r['params']:,} | {r['gflop_per_step']:.1f} | "
                         f"{r['gflops_per_s']:.1f} | {100 * r['gflops_per_s'] / peak:.0f}% |")
    lines += ["", "| goal | speed-up (reference ms / ours ms) | paired per-round ratio, median (min-max) | first steps of blocks only | target | met |",
              "|---|---|---|---|---|---|"]
    for g in ratios:
        tgt, met = ('-', '(information)') if g['target'] is None else (f">= {g['target']}x", 'met' if g['met'] else 'MISSED')
        pr = g['paired_round_ratios']
        lines.append(f"| {g['goal']} | {g['speedup']:.2f}x | {g['paired_median']:.2f}x ({min(pr):.2f}-{max(pr):.2f}) | "
                     f"{g['speedup_first_step']:.2f}x | {tgt} | {met} |")
    lines += ["", "The paired ratio divides, round by round, the reference's steady steps by ours from the same round (seconds apart), "
                  "so a slow spell of the machine cancels; 'met' is decided on the ratio of the medians (second column)."]
    if compile_s is not None:
        lines += ["", f"torch.compile: the first step of the compiled-encoder model took {compile_s:.0f} s (compilation of the forward and "
                      f"backward graphs); its timed steps are in the table above."]
    if 'tsai' not in rows:
        lines += ["", f"tsai's PatchTST: not in this run ({'; '.join(TSAI_MISSING) or 'not built'}); install it with `pip install tsai --no-deps` "
                      f"(its PatchTST needs only torch and fastai, which patchssl already has)."]
    for n, top in prof.items():
        lines += ["", f"Profile, {rows[n]['model']}: top 5 ops by self CPU time (torch.profiler, 2 steps, per step)", "",
                  "| op | self CPU ms / step | share | calls / step |", "|---|---|---|---|"]
        lines += [f"| `{t['op']}` | {t['self_cpu_ms_per_step']:.0f} | {100 * t['share']:.0f}% | {t['calls_per_step']:.0f} |" for t in top]
    if a.quick: lines.insert(0, "**--quick**: batch 8, no warm-up, 2 timed rounds; the times are not comparable with a full run.\n")
    payload = {'threads': a.threads, 'seed': a.seed, 'quick': a.quick, 'batch': bs, 'warmup': a.warmup, 'reps': a.reps, 'block': a.block, 'transformers': transformers.__version__, 'hf_attn_implementation': hf_attn,
               'load_avg_start': load0, 'load_avg_end': load1, 'matmul_peak_gflops': peak, 'matmul_peak_gflops_end': peak_end, 'matmul_peak_bf16_gflops': peak_bf16,
               'rows': rows, 'ratios': ratios, 'profiles': prof, 'compile_first_step_s': compile_s,
               'tsai_missing': TSAI_MISSING, 'cpu_fast_paths': fast, 'cpu_fast_paths_seconds': fast_s}
    write(a.name, payload, '\n'.join(lines), out=a.out)
    for g in ratios:
        print(f"RATIO {g['speedup']:.2f}x ({'information' if g['target'] is None else ('goal >= %sx, ' % g['target']) + ('met' if g['met'] else 'MISSED')}): {g['goal']}")

if __name__ == '__main__': main()
