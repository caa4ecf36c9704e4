"""Write the generated many-variable series of `patchssl.data.factor_series` (shared seasonal + random factors, per-variable
lags, weights and noise) to a CSV file with a `date` column, for `patchssl pretrain --data`.

    python bench/make_factor_csv.py --out /tmp/factor321.csv                    # 321 variables, 4000 hourly steps, seed 0
    patchssl pretrain --data /tmp/factor321.csv --attention hub ...             # then pretrain on it (bench/results/patch_mae_factor321.md)
"""
import argparse
from pathlib import Path

def main():
    from patchssl.data import factor_series
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True, help='CSV file to write')
    ap.add_argument('--n-vars', type=int, default=321); ap.add_argument('--n-steps', type=int, default=4000)
    ap.add_argument('--n-factors', type=int, default=8); ap.add_argument('--max-lag', type=int, default=12)
    ap.add_argument('--noise', type=float, default=0.3); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    df = factor_series(a.n_vars, a.n_steps, a.n_factors, a.max_lag, a.noise, a.seed)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(a.out, float_format='%.5f')
    print(f"wrote {a.out}: {df.shape[0]} rows x {df.shape[1]} variables (factor_series seed {a.seed})")

if __name__ == '__main__': main()
