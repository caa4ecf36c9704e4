#!/usr/bin/env python
"""Which token features carry the class? Feature-family ablations of the chapter 04 VQShape classifier, per set.

Reads checkpoints of `vqshape_pretrain_ckpt.py` (the benchmark model: `vqshape_small`, 12 epochs on the train parts of
the 8 bundled sets, labels unused), one per pretraining seed. For every set it tokenizes every series and every
variable once at full length and, for the multi-scale families, also in windows (half and quarter of the series, half
a window apart, each window resampled to the model's length and tokenized on its own), then fits the benchmark's
classifier (`logistic_probe`: standardised logistic regression, C from (0.01, 0.1, 1, 10) chosen by 5-fold
cross-validation over train + valid, refit, accuracy on test) on each feature family and on combinations of them.

Families (per variable unless said; all built from the tokens and what `tokenize` returns with them):
  slot      per token slot [z, t, l, mu, sigma] (the library's token features with z)
  slot_q    the same with z_q (the codebook entry)
  abs       per token slot the offset and log scale in the series' own units: mean + std * mu, log(std * sigma)
            (instance normalisation undone: where the token sits and how big it is in the data's units)
  stats     the variable's mean and log standard deviation (what instance normalisation removed)
  render    the series the tokens rebuild (series decoder output, de-normalised), averaged to 32 points
  cross     correlations between the variables' rebuilt series (multivariate sets only; empty otherwise)
  hist      code histogram of the full-length tokens
  mhist     multi-scale code histograms: per scale (1, 1/2, 1/4), the share of all the tokens of all the windows
            that chose each code (shift-free: a shape counts wherever it occurs)
  mpool     multi-scale pooled token vectors: per scale, the mean and the max of z and of [l, mu, log sigma] over all
            the tokens of all windows
  wabs      per window of each scale, the window's mean and log std (the windows' tokens in the series' units)

Nothing is chosen on the test split: the table reports CV accuracy (what a choice may use) and test accuracy.

    nice -n 10 python bench/vqshape_features.py --threads 1 --ckpts /tmp/vq/s0/epoch12.pt
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
_threads = next((sys.argv[i + 1] for i, v in enumerate(sys.argv[:-1]) if v == '--threads'), None)
if _threads:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, _threads)
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_COMBOS = ('slot,slot_q,abs,stats,render,cross,hist,mhist,mpool,wabs,slot+stats,slot+abs,slot+abs+stats,'
                  'slot+abs+render,slot+abs+cross,mhist+mpool,slot+abs+mhist+mpool,slot+abs+render+mhist+mpool+cross,'
                  'slot+abs+stats+render+cross+hist+mhist+mpool')

def main():
    from common import parser, parse, write, md_table
    ap = parser(__doc__, name='vqshape_features')  # --threads, --seeds (unused: the seeds are the checkpoints'), --name, --quick, --out
    ap.add_argument('--ckpts', required=True, help='comma-separated checkpoints (one per pretraining seed)')
    ap.add_argument('--datasets', default='all')
    ap.add_argument('--combos', default=DEFAULT_COMBOS, help="comma-separated feature combinations, families joined by '+'")
    ap.add_argument('--scales', default='1,0.5,0.25')
    ap.add_argument('--blocks', action=argparse.BooleanOptionalAction, default=False, help='scale each family to equal weight after standardising')
    ap.add_argument('--min-steps', type=int, default=16, help="--scales auto: halve the window while it keeps this many steps")
    ap.add_argument('--cache', default='/tmp/vqshape_features_cache')
    a = parse(ap)  # sets the torch threads, seeds everything with the first seed
    if a.quick: a.datasets, a.combos = 'GunPoint', 'slot,slot+abs'
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, logistic_probe
    from vqshape_features_proto import tokenize_windows, window_features, auto_scales, probe_blocks
    import pandas as pd
    combos = [c.strip() for c in a.combos.split(',') if c.strip()]
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    rows, t0 = [], time.time()
    for ck in a.ckpts.split(','):
        model = load_vqshape(ck)
        for d in datas:
            t = time.time()
            feats = []
            scales = auto_scales(min_steps=a.min_steps, L=d.seq_len if d.pad_train.sum() == 0 else int(np.median((~d.pad_train).sum(1)))) if a.scales == 'auto' else tuple(float(s) for s in a.scales.split(','))
            for s in ('train', 'valid', 'test'):
                tok = tokenize_windows(model, getattr(d, f'X_{s}'), getattr(d, f'pad_{s}'), scales)
                feats.append(window_features(model, tok, families=None))
            tt = time.time() - t
            for c in combos:
                F = [np.concatenate([f[k] for k in c.split('+')], 1) for f in feats]
                if F[0].shape[1] == 0: continue
                if a.blocks: clf, C, accs = probe_blocks(F[0], d.y_train, F[1], d.y_valid, [feats[0][k].shape[1] for k in c.split('+')])
                else: clf, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid)
                rows.append(dict(ckpt=ck, dataset=d.name, combo=c, n_features=int(F[0].shape[1]), C=C, cv_acc=accs[C],
                                 test_acc=float((clf.predict(F[2]) == d.y_test).mean())))
                print(f"{Path(ck).parent.name} {d.name:<22} {c:<45} n={F[0].shape[1]:<6} cv {accs[C]:.3f} test {rows[-1]['test_acc']:.3f}", flush=True)
            print(f"  tokens {tt:.0f} s, all {time.time() - t:.0f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    df = pd.DataFrame(rows)
    by = df.groupby(['combo', 'dataset'])['test_acc'].mean().unstack()
    cv = df.groupby('combo')['cv_acc'].mean()
    tab = by.copy(); tab['mean test'] = by.mean(1); tab['mean CV'] = cv
    tab = tab.loc[[c for c in combos if c in tab.index]].reset_index()
    md = (f"Feature-family ablation: test accuracy per set (mean over {len(a.ckpts.split(','))} pretraining seed(s)), mean CV "
          f"accuracy over the training splits; scales {a.scales}, blocks {a.blocks}. Whole run {time.time() - t0:.0f} s.\n\n" + md_table(tab))
    write(a.name, dict(args=vars(a), rows=rows), md, out=a.out)

if __name__ == '__main__': main()
