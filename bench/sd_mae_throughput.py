"""Scoring throughput of the default SD-MAE (issue 4): window scores (seed, last-10) in windows/s, point scores
(all 10 mask positions, windows every 10 steps) in points/s, and the cost of point scoring relative to window scoring.

Writes bench/results/sd_mae_throughput.{json,md}.   python bench/sd_mae_throughput.py [--threads 1] [--device cuda]
"""
import argparse, sys, time
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write, md_table
from patchssl.anomaly import etth1_anomalies, series_windows
from patchssl.sd_mae import SDMAE, window_scores, point_scores

ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--device', default='cpu')
ap.add_argument('--repeats', type=int, default=3)
ap.add_argument('--n_steps', type=int, default=0, help='score only the first steps of the series (0 = all 2880)')
ap.add_argument('--out', default='', help='results name under bench/results (default sd_mae_throughput[_device])')
a = ap.parse_args()
torch.set_num_threads(a.threads)
series = etth1_anomalies(100).splits.test[100:]          # 2880 x 5, real (clean) ETTh1 test split
if a.n_steps: series = series[:a.n_steps]
rows = []
for strat in ('patch', 'token'):
    torch.manual_seed(0)
    m = SDMAE(strategy=strat).to(a.device).eval()
    win, _ = series_windows(series, 100, 10)
    for score in ('discrepancy', 'both'):
        def best(f):
            f(); ts = []
            for _ in range(a.repeats):
                if a.device != 'cpu': torch.cuda.synchronize()
                t = time.perf_counter(); f()
                if a.device != 'cpu': torch.cuda.synchronize()
                ts.append(time.perf_counter() - t)
            return min(ts)
        tw = best(lambda: window_scores(m, win, 10, score))
        tp = best(lambda: point_scores(m, series, score))
        rows.append(dict(strategy=strat, score=score, n_windows=len(win), window_s=tw, windows_per_s=len(win) / tw,
                         n_points=len(series), point_s=tp, points_per_s=len(series) / tp, point_over_window_cost=tp / tw))
        print(rows[-1], flush=True)
import pandas as pd
df = pd.DataFrame(rows)
note = (f"Default SD-MAE (L=100, N=5, D=64, 3+4+1 layers), untrained weights (speed does not depend on training), "
        f"device {a.device}, {a.threads} torch thread(s), batch 512, best of {a.repeats}. Series: ETTh1 test split, {len(series)} x 5. "
        "Window scoring = the working note's last-10 mask on windows every 10 steps (one forward pass per window); point scoring = the same "
        "windows masked at all 10 block positions (10 forward passes per window) plus aggregation.\n\n")
write(a.out or 'sd_mae_throughput' + ('' if a.device == 'cpu' else f'_{a.device}'), dict(args=vars(a), rows=rows), note + md_table(df, 2))
