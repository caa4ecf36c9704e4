#!/usr/bin/env python
"""Classification from VQShape tokens with the library's default recipe (chapter 04), over pretraining seeds.

For each checkpoint of `vqshape_pretrain_ckpt.py` (the benchmark model `vqshape_small`, 12 epochs on the train parts of
the 8 bundled sets, labels unused; one checkpoint per pretraining seed), `classify_sets` with `combine='concat'` (the default
until issue 24; the default `combine='select'` and the other rules are measured by `vqshape_stack.py`): every series
tokenized whole and in windows (`window_scales(median length, min_steps=8)`), the feature families of
`feature_families`, a standardised logistic regression in which every family holds the same share of the weight, C
from (0.001 ... 100) chosen by 5-fold cross-validation over train + valid (the training split), refit, scored once on
test. Rows: `token` (the token families: slot, abs, render, mpool, mabs), `histogram` (mhist), `token+histogram`, and
each family alone (the ablation). Beside them, per seed: the same classifier on the input series themselves (own
length, padding dropped, not normalised) and MiniRocket (aeon, 10,000 kernels, fit on train + valid).

Run one process per checkpoint (they can run side by side), then combine:

    nice -n 10 python bench/vqshape_tokens.py --threads 1 --ckpt /tmp/vq/s0/epoch12.pt --seed 0 --part /tmp/vq/part0.json
    (the same for seeds 1, 2)
    python bench/vqshape_tokens.py --combine /tmp/vq/part0.json,/tmp/vq/part1.json,/tmp/vq/part2.json
"""
import json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
_threads = next((sys.argv[i + 1] for i, v in enumerate(sys.argv[:-1]) if v == '--threads'), None)
if _threads:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, _threads)
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))

FAMILIES = ('slot', 'abs', 'render', 'mpool', 'mabs', 'mhist')

def run(a):
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, classify_sets, logistic_probe, resample_series, FEATURE_KINDS
    from aeon.classification.convolution_based import MiniRocketClassifier
    t0 = time.time()
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    model = load_vqshape(a.ckpt)
    kinds = dict(FEATURE_KINDS) | {f'only {f}': (f,) for f in FAMILIES}
    rows = []
    for d in datas:
        t = time.time()
        r = classify_sets(model, [d], seed=a.seed, kinds=kinds, combine='concat')[0]
        F = [resample_series(getattr(d, f'X_{s}'), d.seq_len, getattr(d, f'pad_{s}')).reshape(len(getattr(d, f'y_{s}')), -1)
             for s in ('train', 'valid', 'test')]
        clf, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid, seed=a.seed)
        r['input'] = dict(test_acc=float((clf.predict(F[2]) == d.y_test).mean()), C=C, cv_acc=accs[C])
        mr = MiniRocketClassifier(n_kernels=10000, n_jobs=a.threads, random_state=a.seed)
        Xtv = np.concatenate([d.X_train, d.X_valid]).transpose(0, 2, 1).astype(np.float64)
        mr.fit(np.ascontiguousarray(Xtv), np.concatenate([d.y_train, d.y_valid]))
        pred = mr.predict(np.ascontiguousarray(d.X_test.transpose(0, 2, 1).astype(np.float64)))
        r['minirocket'] = dict(test_acc=float((pred == d.y_test).mean()))
        r['seconds'] = round(time.time() - t, 1)
        rows.append(r)
        print(f"{d.name:<22} " + ' '.join(f"{k} {r[k]['test_acc']:.3f}" for k in ('token', 'histogram', 'token+histogram', 'input', 'minirocket'))
              + f" [{r['seconds']} s, load {os.getloadavg()[0]:.1f}]", flush=True)
    Path(a.part).write_text(json.dumps(dict(ckpt=a.ckpt, seed=a.seed, seconds=time.time() - t0, rows=rows), default=float))

def combine(a):
    from common import write, md_table
    import pandas as pd
    parts = [json.loads(Path(p).read_text()) for p in a.combine.split(',')]
    # beside: the linear classifier on the input with the earlier, narrower grid of C (0.01 ... 10), same folds per seed
    from patchssl.data import load_uea
    from patchssl.vqshape import logistic_probe, resample_series
    for p in parts:
        for r in p['rows']:
            if 'input_narrow' in r: continue
            d = load_uea(r['dataset'], 0.2, 0)
            F = [resample_series(getattr(d, f'X_{s}'), d.seq_len, getattr(d, f'pad_{s}')).reshape(len(getattr(d, f'y_{s}')), -1)
                 for s in ('train', 'valid', 'test')]
            clf, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid, Cs=(0.01, 0.1, 1., 10.), seed=p['seed'])
            r['input_narrow'] = dict(test_acc=float((clf.predict(F[2]) == d.y_test).mean()), C=C)
    cols = ['token', 'histogram', 'token+histogram', 'input', 'input_narrow', 'minirocket'] + [f'only {f}' for f in FAMILIES]
    label = {'token': 'tokens', 'histogram': 'histograms', 'token+histogram': 'tokens + histograms', 'input': 'linear on input', 'input_narrow': 'linear on input, C 0.01-10',
             'minirocket': 'MiniRocket'} | {f'only {f}': f'only {f}' for f in FAMILIES}
    names = [r['dataset'] for r in parts[0]['rows']]
    acc = {c: np.array([[p['rows'][i][c]['test_acc'] for i in range(len(names))] for p in parts]) for c in cols}  # [seeds, sets]
    ms = lambda v: f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v.mean():.3f}"
    tab = pd.DataFrame([dict(dataset=n, **{label[c]: ms(acc[c][:, i]) for c in cols[:6]}) for i, n in enumerate(names)]
                       + [dict(dataset='**mean**', **{label[c]: ms(acc[c].mean(1)) for c in cols[:6]})])
    abl = pd.DataFrame([dict(dataset=n, **{label[c]: f"{acc[c][:, i].mean():.3f}" for c in cols[6:]}) for i, n in enumerate(names)]
                       + [dict(dataset='**mean**', **{label[c]: f"{acc[c].mean():.3f}" for c in cols[6:]})])
    raw, raw_n = acc['input'].mean(0), acc['input_narrow'].mean(0)
    wins = {c: int((acc[c].mean(0) >= raw).sum()) for c in ('token', 'token+histogram')}
    wins_n = {c: int((acc[c].mean(0) >= raw_n).sum()) for c in ('token', 'token+histogram')}
    summary = dict(sets=names, seeds=[p['seed'] for p in parts],
                   mean={c: float(acc[c].mean()) for c in cols}, sd_of_mean={c: float(acc[c].mean(1).std(ddof=1)) if len(parts) > 1 else None for c in cols},
                   per_set_mean={c: dict(zip(names, map(float, acc[c].mean(0)))) for c in cols},
                   sets_token_ge_input=wins['token'], sets_token_hist_ge_input=wins['token+histogram'],
                   sets_token_ge_input_narrow=wins_n['token'], sets_token_hist_ge_input_narrow=wins_n['token+histogram'],
                   gap_token_hist_to_minirocket=float(acc['token+histogram'].mean() - acc['minirocket'].mean()))
    md = (f"`classify_sets` with `combine='concat'` (one regression, families weighted alike): {len(parts)} pretraining seeds ({', '.join(str(p['seed']) for p in parts)}), one "
          f"`vqshape_small` checkpoint each (`bench/vqshape_pretrain_ckpt.py --threads 1 --epochs 12 --seed S`); per seed also the CV folds, "
          f"the linear classifier on the input and MiniRocket's kernels change. C chosen by 5-fold cross-validation over the training "
          f"split only. Test accuracy, mean ± sd over the seeds:\n\n" + md_table(tab) +
          f"\n\nTokens ≥ linear on input (per-set means over the seeds) on {wins['token']} of {len(names)} sets; tokens + histograms on "
          f"{wins['token+histogram']}; against the input classifier with the narrower grid of C: {wins_n['token']} and "
          f"{wins_n['token+histogram']}. Tokens + histograms minus MiniRocket on the mean: {summary['gap_token_hist_to_minirocket']:+.3f}.\n\n"
          f"Each family alone (same classifier; mean over the seeds):\n\n" + md_table(abl) +
          f"\n\nPer-seed times: {', '.join('%.0f s' % p['seconds'] for p in parts)} (tokenizing, classifiers, MiniRocket; shared 2-core machine).")
    write(a.name, dict(args=vars(a), summary=summary, parts=parts), md, out=a.out)

if __name__ == '__main__':
    from common import parser, parse
    ap = parser(__doc__, name='vqshape_tokens', seed=0)  # --threads, --seed (the checkpoint's pretraining seed), --name, --quick, --out
    ap.add_argument('--ckpt'); ap.add_argument('--part')
    ap.add_argument('--datasets', default='all')
    ap.add_argument('--combine', help='comma-separated part files to combine into bench/results/{name}')
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.datasets = 'GunPoint'
    combine(a) if a.combine else run(a)
