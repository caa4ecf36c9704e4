"""Rows per second of the chunk loaders over the same chunk files, in one run: a naive `torch.load` of each chunk
(shuffled chunks, shuffled rows) vs `ChunkLoader` without and with background prefetch (memory-mapped loads).

Two consumers: iteration only, and a simulated training step (`--step_ms` of sleep per batch, standing in for a GPU
step that leaves the CPU free). Files are in the page cache after the first pass (each loader runs `--passes` times,
the first pass is discarded).

    nice -n 15 python bench/clay_loader_speed.py --threads 1

`--quick`: 6 days, 12 stations, 2 passes, a 1 ms step.
"""
import sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd, torch
from common import parser, parse, write, md_table
from patchssl.clay_ta import make_synthetic_gk2a, build_index, build_patches, chunk_files, ChunkLoader, KEYS

ap = parser(__doc__)
ap.add_argument('--days', type=int, default=60)
ap.add_argument('--stations', type=int, default=80)
ap.add_argument('--chunk_rows', type=int, default=8192)
ap.add_argument('--bs', type=int, default=256)
ap.add_argument('--step_ms', type=float, default=5.)
ap.add_argument('--passes', type=int, default=3)
a = parse(ap)
if a.quick: a.days, a.stations, a.passes, a.step_ms = 6, 12, 2, 1.
tmp = Path(tempfile.mkdtemp())
root = make_synthetic_gk2a(tmp/'data', n_days=a.days, n_stations=a.stations, size=48)
d = pd.Timestamp('2022-01-01')
build_index(root, tmp/'index', str(d + pd.Timedelta(days=a.days - 2)), str(d + pd.Timedelta(days=a.days - 1)))
man = build_patches(tmp/'index', root/'static.npz', tmp/'pt', chunk_rows=a.chunk_rows, workers=2)
files = chunk_files(tmp/'pt', 'train')
mb = sum(f.stat().st_size for f in files) / 2**20

def naive(seed=0):
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(files)):
        dd = torch.load(files[i], weights_only=True)
        idx = torch.from_numpy(rng.permutation(len(dd['y'])))
        for s in range(0, len(idx), a.bs):
            j = idx[s:s + a.bs]; yield tuple(dd[k][j] for k in KEYS)

def run(make, step):
    rates = []
    for p in range(a.passes):
        t, n = time.perf_counter(), 0
        for b in make():
            n += len(b[-1])
            if step: time.sleep(a.step_ms / 1000)
        rates.append(n / (time.perf_counter() - t))
    return float(np.median(rates[1:])) if len(rates) > 1 else rates[0]

loaders = {'naive torch.load per chunk': naive,
           'ChunkLoader, mmap, no prefetch': lambda: iter(ChunkLoader(files, a.bs, prefetch=False)),
           'ChunkLoader, mmap + background prefetch': lambda: iter(ChunkLoader(files, a.bs, prefetch=True))}
rows = [dict(loader=k, rows_per_s_iterate=round(run(f, False)), rows_per_s_with_step=round(run(f, True))) for k, f in loaders.items()]
step_only = man['rows']['train'] / (np.ceil(man['rows']['train'] / a.bs) * a.step_ms / 1000)
table = (f"{len(files)} training chunks of up to {a.chunk_rows} rows ({mb:.0f} MB, x [N, 19, 9, 9] float32), batch {a.bs}, "
         f"{man['rows']['train']} rows; median of passes 2..{a.passes}. With a {a.step_ms:g} ms step per batch the ceiling is "
         f"{step_only:,.0f} rows/s.\n\n" + md_table(pd.DataFrame(rows)))
write(a.name, dict(options=vars(a), rows=rows, chunks=len(files), megabytes=mb, ceiling_rows_per_s=step_only), table, out=a.out)
