#!/usr/bin/env python
"""Screening of chapter 04 (VQShape): does the benchmark's small setup (16 tokens, 64 codes) cause the gap to MiniRocket?

For every configuration `TxK` of `--configs` (T tokens per series, K codes; `TxK+`: the pool also holds the extra
unlabelled series below), one `vqshape_small` with those two sizes
(everything else as `bench/vqshape_classification.py`: same pool, epochs, learning rate, entropy weight, re-seeding,
seed) is pretrained on every variable of the train parts of `--datasets` (labels unused). Then, on the sets of
`--eval-sets` only and on their **training split only** (train + valid; the test split is never loaded into a
feature), the token features with z_q and with z get the benchmark's logistic regression, and the score of a
configuration is the k-fold cross-validation accuracy (`--folds`, default 5) of the best C from (0.01, 0.1, 1, 10):
the number the benchmark chooses C by. Also per configuration: pretraining time, codes used and perplexity on the
validation series of the pool (and on each evaluation set's training split), the last validation loss terms.

`+` pool: the other series the installed aeon ships that are not classification benchmarks (so none of a set's test split):
Covid3Month (201 series), CardanoSentiment (107 x 2 variables), UnitTest (42), the single series Airline, Lynx, Solar,
PBS, ShampooSales, the 5 of Uschange and 6 of Longley, and windows of `seq_len` steps of the 9 sensors of Daphnet
S06R02E0 and of KDD-TSAD 135: every variable a univariate series, 20% of them to the validation part (seed 0).

The results are rewritten after every configuration (partial runs keep what they finished). Writes
bench/results/<name>.{json,md}.

    nice -n 10 python bench/vqshape_scale.py --threads 1 --configs 16x64,64x64,16x512,64x512
"""
import os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
_threads = next((sys.argv[i + 1] for i, v in enumerate(sys.argv[:-1]) if v == '--threads'), None)
if _threads:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, _threads)
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))

def extra_pool(seq_len:int, seed:int=0)->tuple:
    "The unlabelled `+` series (see the docstring), resampled to seq_len: (train, valid) `[n, seq_len, 1]`."
    import pandas as pd
    from aeon import datasets as D
    from patchssl.vqshape import resample_series
    root = Path(D.__file__).parent/'data'
    series = []  # univariate numpy arrays of any length
    for f in ('load_covid_3month', 'load_cardano_sentiment', 'load_unit_test'):
        X = getattr(D, f)()[0]  # [n, N, L]
        series += [x for x in np.asarray(X, np.float32).reshape(-1, X.shape[-1])]
    for f in ('load_airline', 'load_lynx', 'load_solar', 'load_PBS_dataset', 'load_shampoo_sales', 'load_uschange', 'load_longley'):
        X = np.asarray(getattr(D, f)(), np.float32)
        series += [X] if X.ndim == 1 else list(X)
    for f in ('Daphnet_S06R02E0/S06R02E0.csv', 'KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TRAIN.csv',
              'KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv'):
        df = pd.read_csv(root/f).drop(columns=['timestamp', 'is_anomaly'], errors='ignore')
        for c in df.columns:
            v = df[c].to_numpy(np.float32)
            series += [v[i:i + seq_len] for i in range(0, len(v) - seq_len + 1, seq_len)]
    series = [s[np.isfinite(s)] for s in series]
    series = [s for s in series if len(s) >= 8]
    X = np.stack([resample_series(s[None, :, None], seq_len)[0] for s in series]).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(X)); n_va = len(X) // 5
    return X[perm[n_va:]], X[perm[:n_va]]

def main():
    from common import parser, parse, write, md_table
    ap = parser(__doc__, name='vqshape_scale', seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--configs', default='16x64,64x64,16x512,64x512', help="comma-separated TxK: T tokens per series, K codes")
    ap.add_argument('--datasets', default='all', help="pretraining pool: comma-separated sets, or 'all' (every set aeon ships)")
    ap.add_argument('--eval-sets', default='ACSF1,OSULeaf,JapaneseVowels,PickupGestureWiimoteZ')
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--lambda-entropy', type=float, default=0.1)
    ap.add_argument('--dead-after', type=int, default=20, help='0: no re-seeding')
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--folds', type=int, default=5)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.configs, a.datasets, a.eval_sets, a.epochs, a.folds = '16x64', 'GunPoint', 'GunPoint', 1, 2
    try: configs = [tuple(int(v) for v in c.strip().rstrip('+').lower().split('x')) + (c.strip().endswith('+'),)
                    for c in a.configs.split(',') if c.strip()]
    except ValueError: ap.error(f"--configs {a.configs!r}: give TxK pairs such as 16x64,64x512")
    if not configs or any(len(c) != 3 for c in configs): ap.error(f"--configs {a.configs!r}: give TxK pairs such as 16x64,64x512")
    if a.folds < 2: ap.error('--folds must be >= 2 (the score is a cross-validation accuracy)')

    from fastai.data.core import DataLoaders
    from patchssl.data import load_uea, ArrayDataset
    from patchssl.transfer import seed_everything
    from patchssl.vqshape import (vqshape_small, vqshape_learner, vqshape_sets, univariate_pool, tokenize, code_stats, token_features,
                                  logistic_probe, resample_series)
    import pandas as pd

    t_all = time.time()
    names = vqshape_sets(a.datasets)
    evals = vqshape_sets(a.eval_sets)
    datas = {n: load_uea(n, 0.2, 0) for n in dict.fromkeys(names + evals)}
    tr, va = univariate_pool([datas[n] for n in names], a.seq_len)
    print(f"pool: {len(tr)} train / {len(va)} valid univariate series from {len(names)} sets; evaluation on {evals} "
          f"(training split only, {a.folds}-fold CV); load {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    extra = extra_pool(a.seq_len) if any(c[2] for c in configs) else None
    if extra is not None: print(f"+ pool: {len(extra[0])} train / {len(extra[1])} valid extra univariate series", flush=True)
    for T, K, plus in configs:
        ptr, pva = (np.concatenate([tr, extra[0]]), np.concatenate([va, extra[1]])) if plus else (tr, va)
        seed_everything(a.seed)
        model = vqshape_small(seq_len=a.seq_len, d_model=a.d_model, n_tokens=T, n_codes=K, lambda_entropy=a.lambda_entropy,
                              dead_after=a.dead_after or None)
        n_params = sum(p.numel() for p in model.parameters())
        dls = DataLoaders.from_dsets(ArrayDataset(ptr), ArrayDataset(pva), bs=a.bs, num_workers=0)
        learn = vqshape_learner(dls, model)
        load0, t = os.getloadavg()[0], time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
        pre_s = time.time() - t
        last = dict(zip(learn.recorder.metric_names[1:-1], map(float, learn.recorder.values[-1])))
        valid_codes = code_stats(tokenize(model, va)['idx'], K)  # the 8 sets' validation series, as without +
        r = dict(tokens=T, codes=K, extra_pool=plus, n_pool_train=len(ptr), n_params=n_params, pretrain_seconds=round(pre_s, 1), load_start=round(load0, 2),
                 load_end=round(os.getloadavg()[0], 2), last_epoch=last, valid_codes=valid_codes, sets={})
        print(f"{T}x{K}{'+' * plus}: {n_params:,} parameters, pretrained {pre_s:.0f} s (load {load0:.1f} -> {r['load_end']:.1f}); valid codes {valid_codes}",
              flush=True)
        t = time.time()
        for n in evals:
            d = datas[n]
            toks = [tokenize(model, resample_series(getattr(d, f'X_{s}'), model.seq_len, getattr(d, f'pad_{s}'))) for s in ('train', 'valid')]
            s = dict(codes=code_stats(np.concatenate([tk['idx'] for tk in toks]), K))
            for c in ('z_q', 'z'):
                F = [token_features(tk, c) for tk in toks]
                _, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid, seed=a.seed, folds=a.folds)
                s[f'token_{c}'] = dict(cv_acc=accs[C], C=C, cv_acc_each_C=accs, n_features=int(F[0].shape[1]))
            r['sets'][n] = s
            print(f"  {n:<24} CV token z_q {s['token_z_q']['cv_acc']:.3f} (C {s['token_z_q']['C']})  token z {s['token_z']['cv_acc']:.3f} "
                  f"(C {s['token_z']['C']})  codes used {s['codes']['used']:.2f} (perplexity {s['codes']['perplexity']:.1f})", flush=True)
        r['probe_seconds'] = round(time.time() - t, 1)
        for c in ('z_q', 'z'): r[f'mean_cv_token_{c}'] = float(np.mean([s[f'token_{c}']['cv_acc'] for s in r['sets'].values()]))
        rows.append(r)
        print(f"{T}x{K}{'+' * plus}: mean CV token z_q {r['mean_cv_token_z_q']:.3f}, token z {r['mean_cv_token_z']:.3f} ({r['probe_seconds']} s of probes)", flush=True)
        report(a, names, evals, len(tr), rows, time.time() - t_all, write, md_table, pd)

def report(a, names, evals, n_tr, rows, secs, write, md_table, pd):
    f3 = lambda v: f'{v:.3f}'
    tab = pd.DataFrame([{'tokens x codes': f"{r['tokens']} x {r['codes']}" + (' (+ pool)' if r.get('extra_pool') else ''),
                         'pretraining series': r.get('n_pool_train', n_tr), 'parameters': f"{r['n_params']:,}",
                         'pretraining s (load)': f"{r['pretrain_seconds']:.0f} ({r['load_start']:.1f}-{r['load_end']:.1f})",
                         **{f"CV {n}: z_q / z": f"{f3(r['sets'][n]['token_z_q']['cv_acc'])} / {f3(r['sets'][n]['token_z']['cv_acc'])}" for n in evals},
                         'mean CV z_q': f"**{f3(r['mean_cv_token_z_q'])}**", 'mean CV z': f"**{f3(r['mean_cv_token_z'])}**",
                         'valid codes used (perplexity)': f"{r['valid_codes']['used']:.2f} ({r['valid_codes']['perplexity']:.1f})",
                         'last valid ts / shape loss': f"{r['last_epoch']['ts_loss']:.3f} / {r['last_epoch']['shape_loss']:.3f}"} for r in rows])
    codes = pd.DataFrame([{'tokens x codes': f"{r['tokens']} x {r['codes']}" + (' (+ pool)' if r.get('extra_pool') else ''),
                           **{n: f"{r['sets'][n]['codes']['used']:.2f} ({r['sets'][n]['codes']['perplexity']:.1f})" for n in evals}} for r in rows])
    md = [f"Screening of the benchmark's sizes, chosen on training splits only. Per configuration one `vqshape_small` (length {a.seq_len}, "
          f"width {a.d_model}, 2 + 2 + 2 layers, codes of width 8) with T tokens and K codes, entropy weight {a.lambda_entropy}, re-seeding after "
          f"{a.dead_after or 'never'} steps, pretrained {a.epochs} epochs (one-cycle, lr {a.lr}, bs {a.bs}, seed {a.seed}) on the {n_tr} univariate "
          f"training series of {len(names)} sets ({', '.join(names)}; labels unused; `+ pool`: with the extra unlabelled series of the other data aeon ships, see the script's docstring). Score: on the training split (train + valid) of each of "
          f"{', '.join(evals)}, the {a.folds}-fold cross-validation accuracy of the logistic regression on standardised token features "
          f"[code, t, l, mu, sigma] with the best C of (0.01, 0.1, 1, 10) (the number the classification benchmark chooses C by); no test split "
          f"is used. {a.threads} thread(s) on a shared machine: times depend on the load (shown). Run so far {secs:.0f} s.", "",
          "Cross-validation accuracy (token z_q / token z):", "", md_table(tab), "",
          "Codes used (perplexity) by the tokens of each evaluation set's training split:", "", md_table(codes)]
    write(a.name, dict(args=vars(a), pool=names, eval_sets=evals, n_train_series=n_tr, seconds=round(secs, 1), results=rows), '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
