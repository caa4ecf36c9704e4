#!/usr/bin/env python
"""How the token feature families are combined, chosen on the training split (chapter 04, issue 24).

Step 1 (`--cache DIR`): for each `vqshape_small` checkpoint (`bench/vqshape_pretrain_ckpt.py --epochs 12 --seed S`), the
feature families of `feature_families` for the train / valid / test series of the 8 bundled sets (as `classify_sets`
computes them), saved as npz files so that the combinations below need no model.

Step 2 (`--combine`): per set, seed and row (`token`, `token+histogram`), several ways of combining the families, each
scored by test accuracy; everything the combination chooses (C, family weights, stacking) is chosen by 5-fold
cross-validation over the training split (train + valid), never on test:
  - `equal`: one standardised logistic regression, every family the same share of the weight (the current default);
  - `cv_weights`: the family weighting (equal, or one family's share doubled / dropped) with the best CV accuracy;
  - `stack`: a logistic regression per family (C by inner CV), their out-of-fold class probabilities stacked into a
    second logistic regression (C by CV on those);
  - `vote`: the per-family probabilities averaged, weighted by their CV accuracy.

    nice -n 10 python bench/vqshape_stack.py --threads 1 --cache /tmp/vqB --ckpts /tmp/vq/s0/epoch12.pt,/tmp/vq/s1/epoch12.pt,/tmp/vq/s2/epoch12.pt
    nice -n 10 python bench/vqshape_stack.py --threads 1 --combine --cache /tmp/vqB
"""
import json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
import numpy as np

FAMILIES = ('slot', 'abs', 'render', 'mpool', 'mabs', 'mhist')

def cache(a):
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, window_scales, tokenize_windows, feature_families
    out = Path(a.cache); out.mkdir(parents=True, exist_ok=True)
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    for s, ck in enumerate(a.ckpts.split(',')):
        model = load_vqshape(ck)
        for d in datas:
            f = out/f'seed{s}_{d.name}.npz'
            if f.exists(): continue
            t = time.time()
            scales = window_scales(int(np.median((~d.pad_train).sum(1))), 8)
            arrs = {}
            for part in ('train', 'valid', 'test'):
                ff = feature_families(model, tokenize_windows(model, getattr(d, f'X_{part}'), getattr(d, f'pad_{part}'), scales), FAMILIES)
                arrs |= {f'{part}_{k}': v for k, v in ff.items()} | {f'{part}_y': getattr(d, f'y_{part}')}
            np.savez(f, **arrs)
            print(f"seed {s} {d.name}: {time.time() - t:.0f} s", flush=True)

if __name__ == '__main__':
    p = parser(__doc__)
    p.add_argument('--cache', required=True); p.add_argument('--ckpts', default='')
    p.add_argument('--datasets', default='all'); p.add_argument('--combine', action='store_true')
    a = parse(p)
    if a.combine:
        from vqshape_stack_combine import combine; combine(a)
    else: cache(a)
