#!/usr/bin/env python
"""Classification from VQShape tokens with the library's current recipe (chapter 04), on the sets shipped with aeon.

One checkpoint (default: the committed benchmark model `bench/results/vqshape_small_seed0.pt`, written by
`bench/vqshape_pretrain_ckpt.py --threads 1 --epochs 12 --seed 0`; `--ckpt none` pretrains `vqshape_small` here for
`--epochs`), then per set:

  token, histogram, token+histogram  `classify_sets` with its defaults: every series tokenized whole and in windows
               (`window_scales`), the feature families of `feature_families`, combined by `FamilyEnsemble` (`--combine`,
               default the library's: 'select' picks concat / vote / stack by 5-fold CV over the training split)
  input        the same grid of C on the series themselves (own length, padding dropped, not normalised)
  MiniRocket   aeon MiniRocketClassifier (`--minirocket-kernels`) fit on train + valid

Nothing is chosen on the test split. Every set is loaded with `load_uea(name, 0.2, 0)`.

    nice -n 10 python bench/vqshape_classification.py --threads 1
    nice -n 10 python bench/vqshape_classification.py --threads 1 --ckpt none --epochs 12 --seeds 1-1

(`bench/results/vqshape_classification.md` and `_e40`, `_seed1` were written by the earlier version of this script, the
reference's token features: see `bench/results/vqshape_earlier_design.md`; the three-seed results of the current recipe
are `bench/results/vqshape_tokens.md` and `vqshape_stack.md`.)
"""
import os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
_threads = next((sys.argv[i + 1] for i, v in enumerate(sys.argv[:-1]) if v == '--threads'), None)
if _threads:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, _threads)
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table

def pretrain(a, datas, seed):
    from fastai.data.core import DataLoaders
    from patchssl.data import ArrayDataset
    from patchssl.transfer import seed_everything
    from patchssl.vqshape import vqshape_small, vqshape_learner, univariate_pool
    tr, va = univariate_pool(datas, 256)
    seed_everything(seed)
    model = vqshape_small()
    learn = vqshape_learner(DataLoaders.from_dsets(ArrayDataset(tr), ArrayDataset(va), bs=64, num_workers=0), model)
    with learn.no_bar(): learn.fit_one_cycle(a.epochs, 2e-3)
    return model

def main():
    p = parser(__doc__, name='vqshape_recipe')
    p.add_argument('--ckpt', default=str(Path(__file__).resolve().parent/'results'/'vqshape_small_seed0.pt'), help="a VQShape checkpoint, or 'none': pretrain here")
    p.add_argument('--epochs', type=int, default=12, help='pretraining epochs (with --ckpt none)')
    p.add_argument('--datasets', default='all')
    p.add_argument('--combine', default=None, help="FamilyEnsemble rule: concat, vote, stack or select (default: the library's)")
    p.add_argument('--minirocket-kernels', type=int, default=10000)
    a = parse(p)
    import pandas as pd, inspect
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, classify_sets, logistic_probe, resample_series
    from aeon.classification.convolution_based import MiniRocketClassifier
    combine = a.combine or inspect.signature(classify_sets).parameters['combine'].default
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    if a.quick: datas, a.minirocket_kernels = datas[:1], 500
    recs = []
    for seed in a.seeds:
        model = pretrain(a, datas, seed) if a.ckpt == 'none' else load_vqshape(a.ckpt)
        for d in datas:
            t = time.time()
            r = classify_sets(model, [d], seed=seed, combine=combine)[0]
            F = [resample_series(getattr(d, f'X_{s}'), d.seq_len, getattr(d, f'pad_{s}')).reshape(len(getattr(d, f'y_{s}')), -1) for s in ('train', 'valid', 'test')]
            clf, C, _ = logistic_probe(F[0], d.y_train, F[1], d.y_valid, seed=seed)
            mr = MiniRocketClassifier(n_kernels=a.minirocket_kernels, n_jobs=a.threads, random_state=seed)
            mr.fit(np.ascontiguousarray(np.concatenate([d.X_train, d.X_valid]).transpose(0, 2, 1).astype(np.float64)), np.concatenate([d.y_train, d.y_valid]))
            mr_acc = float((mr.predict(np.ascontiguousarray(d.X_test.transpose(0, 2, 1).astype(np.float64))) == d.y_test).mean())
            recs.append(dict(seed=seed, dataset=d.name, **{k: r[k]['test_acc'] for k in ('token', 'histogram', 'token+histogram')},
                             rule=r['token+histogram'].get('way'), input=float((clf.predict(F[2]) == d.y_test).mean()), minirocket=mr_acc))
            print(recs[-1], f"[{time.time() - t:.0f} s]", flush=True)
    df = pd.DataFrame(recs)
    cols = ['token', 'histogram', 'token+histogram', 'input', 'minirocket']
    tab = df.groupby('dataset', sort=False)[cols].mean().reset_index()
    tab.loc[len(tab)] = ['**mean**'] + [df.groupby('seed')[c].mean().mean() for c in cols]
    md = (f"Checkpoint `{a.ckpt}`" + (f" (pretrained here, {a.epochs} epochs)" if a.ckpt == 'none' else '') + f", rule `{combine}`, seeds {a.seeds}; "
          "test accuracy (mean over seeds):\n\n" + md_table(tab) + f"\n\nGap of tokens + histograms to MiniRocket: {tab.iloc[-1]['token+histogram'] - tab.iloc[-1]['minirocket']:+.3f}.")
    write(a.name, dict(args=vars(a), combine=combine, rows=recs), md, out=a.out)

if __name__ == '__main__': main()
