#!/usr/bin/env python
"""How the token feature families are combined, chosen on the training split (chapter 04, issue 24).

Step 1 (`--cache DIR`): for each `vqshape_small` checkpoint (`bench/vqshape_pretrain_ckpt.py --epochs 12 --seed S`), the
feature families of `feature_families` for the train / valid / test series of the 8 bundled sets (as `classify_sets`
computes them), saved as npz files so that the combinations below need no model.

Step 2 (`--combine`): per set, seed and row (`token`, `token+histogram`), several ways of combining the families, each
scored by test accuracy; everything the combination chooses (C, family weights, stacking) is chosen by 5-fold
cross-validation over the training split (train + valid), never on test:
  - `equal`: one standardised logistic regression, every family the same share of the weight (the current default);
  - `cv_weights`: the family weighting (equal, or one family dropped) with the best CV accuracy;
  - `stack`: a logistic regression per family (C by inner CV), their out-of-fold class probabilities stacked into a
    second logistic regression (C by CV on those);
  - `vote`: the per-family probabilities averaged, weighted by their CV accuracy.

    nice -n 10 python bench/vqshape_stack.py --threads 1 --cache /tmp/vqB --ckpts /tmp/vq/s0/epoch12.pt,/tmp/vq/s1/epoch12.pt,/tmp/vq/s2/epoch12.pt
    nice -n 10 python bench/vqshape_stack.py --threads 1 --combine --cache /tmp/vqB

`--quick`: GunPoint only (in both steps).
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


def _folds(y, seed, folds=5):
    from sklearn.model_selection import StratifiedKFold
    import warnings
    k = min(folds, max(2, np.unique(y, return_counts=True)[1].min()))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))

def _pipe(C, seed, w=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler, FunctionTransformer
    from patchssl.vqshape import _scale_columns
    steps = [StandardScaler()] + ([FunctionTransformer(_scale_columns, kw_args=dict(w=w))] if w is not None else [])
    return make_pipeline(*steps, LogisticRegression(C=C, max_iter=2000, random_state=seed))

CS = (0.001, 0.01, 0.1, 1., 10., 100.)

def _weights(sizes, mult):
    "Column weights: family f holds a share mult_f / sum(mult) of the total variance (equal mult: the library's blocks)."
    D, m = sum(sizes), np.asarray(mult, float)
    return np.concatenate([np.full(b, np.sqrt(D * mf / (m.sum() * b))) for b, mf in zip(sizes, m)])

def _cv_weighted(F, y, sizes, mult, splits, seed, Cs=None):
    "CV accuracy of the best C (of `Cs`, default `CS`) for the family weighting `mult`, and that C."
    Cs = CS if Cs is None else Cs
    keep = [i for i, v in enumerate(mult) if v > 0]
    cols = np.concatenate([np.arange(sum(sizes[:i]), sum(sizes[:i + 1])) for i in keep])
    Fk, w = F[:, cols], _weights([sizes[i] for i in keep], [mult[i] for i in keep])
    accs = {C: np.mean([(_pipe(C, seed, w).fit(Fk[a], y[a]).predict(Fk[b]) == y[b]).mean() for a, b in splits]) for C in Cs}
    C = max(Cs, key=lambda c: (accs[c], -c))
    return accs[C], C, cols, w

def _family_probs(F, y, Fte, splits, seed):
    "Per family: C by CV, out-of-fold class probabilities on the training split, test probabilities (refit on all), CV accuracy."
    classes = np.unique(y)
    accs = {C: np.mean([(_pipe(C, seed).fit(F[a], y[a]).predict(F[b]) == y[b]).mean() for a, b in splits]) for C in CS}
    C = max(CS, key=lambda c: (accs[c], -c))
    oof = np.zeros((len(y), len(classes)))
    for a, b in splits:
        m = _pipe(C, seed).fit(F[a], y[a])
        oof[np.ix_(b, np.searchsorted(classes, m.classes_))] = m.predict_proba(F[b])
    te = _pipe(C, seed).fit(F, y).predict_proba(Fte)
    return oof, te, accs[C]

def combine_one(fams, F, Fte, y, yte, seed, cv_weights=True):
    "Test accuracy (and what CV chose) of each way of combining `fams` (dicts family -> [n, d])."
    classes = np.unique(y)
    splits = _folds(y, seed)
    sizes = [F[f].shape[1] for f in fams]
    X, Xte = np.concatenate([F[f] for f in fams], 1), np.concatenate([Fte[f] for f in fams], 1)
    res = {}
    # equal: the library default
    cv, C, cols, w = _cv_weighted(X, y, sizes, [1] * len(fams), splits, seed)
    res['equal'] = dict(test=float((_pipe(C, seed, w).fit(X, y).predict(Xte) == yte).mean()), cv=float(cv))
    # cv_weights: each family dropped in turn (one pass, C from 0.01-1); the weighting with the best CV accuracy is kept
    mult, best = [1] * len(fams), cv
    if cv_weights:
        for i in range(len(fams)):
            m2 = [1] * len(fams); m2[i] = 0
            c2 = _cv_weighted(X, y, sizes, m2, splits, seed, Cs=(0.01, 0.1, 1.))[0]
            if c2 > best + 1e-9: best, mult = c2, m2
        cvw, C, cols, w = _cv_weighted(X, y, sizes, mult, splits, seed)
        res['cv_weights'] = dict(test=float((_pipe(C, seed, w).fit(X[:, cols], y).predict(Xte[:, cols]) == yte).mean()), cv=float(cvw),
                                 mult=dict(zip(fams, mult)))
    else: res['cv_weights'] = dict(res['equal'], mult=dict(zip(fams, mult)))  # not searched: the equal weighting (no refit)
    # per-family probabilities: stacking and a CV-weighted vote
    parts = [_family_probs(F[f], y, Fte[f], splits, seed) for f in fams]
    oof = np.concatenate([np.log(p[0] + 1e-4) for p in parts], 1); te = np.concatenate([np.log(p[1] + 1e-4) for p in parts], 1)
    msplits = _folds(y, seed + 1)
    accs = {C: np.mean([(_pipe(C, seed).fit(oof[a], y[a]).predict(oof[b]) == y[b]).mean() for a, b in msplits]) for C in CS}
    Cm = max(CS, key=lambda c: (accs[c], -c))
    res['stack'] = dict(test=float((_pipe(Cm, seed).fit(oof, y).predict(te) == yte).mean()), cv=float(accs[Cm]))
    wv = np.array([p[2] for p in parts])
    vote_oof = sum(wi * p[0] for wi, p in zip(wv, parts)); vote_te = sum(wi * p[1] for wi, p in zip(wv, parts))
    res['vote'] = dict(test=float((classes[vote_te.argmax(1)] == yte).mean()), cv=float((classes[vote_oof.argmax(1)] == y).mean()))
    # select: the way with the best CV accuracy on the training split (ties: the simpler, in this order)
    order = ['equal', 'cv_weights', 'vote', 'stack']
    pick = max(order, key=lambda k: (res[k]['cv'], -order.index(k)))
    res['select'] = dict(test=res[pick]['test'], cv=res[pick]['cv'], picked=pick)
    return res

def combine(a):
    from patchssl.vqshape import TOKEN_FAMILIES, HISTOGRAM_FAMILIES
    import pandas as pd
    rows_def = {'token': TOKEN_FAMILIES, 'token+histogram': TOKEN_FAMILIES + HISTOGRAM_FAMILIES}
    rows_def = {k: v for k, v in rows_def.items() if a.rows == 'all' or k in a.rows.split(',')}
    files = sorted(Path(a.cache).glob('seed*_*.npz'))
    if a.datasets != 'all': files = [f for f in files if f.stem.split('_', 1)[1] in a.datasets.split(',')]
    if a.seed_files: files = [f for f in files if int(f.stem[4:].split('_')[0]) in a.seeds]
    recs = []
    for f in files:
        t = time.time()
        z = np.load(f)
        seed, name = int(f.stem[4:].split('_')[0]), f.stem.split('_', 1)[1]
        tr = {k: np.concatenate([z[f'train_{k}'], z[f'valid_{k}']]) for k in FAMILIES}
        te = {k: z[f'test_{k}'] for k in FAMILIES}
        y, yte = np.concatenate([z['train_y'], z['valid_y']]), z['test_y']
        for row, fams in rows_def.items():
            r = combine_one(fams, tr, te, y, yte, seed, not a.no_cv_weights)
            recs.append(dict(seed=seed, dataset=name, row=row, cv_weights_run=not a.no_cv_weights, **{k: v['test'] for k, v in r.items()},
                             picked=r['select']['picked'], mult=r['cv_weights']['mult'], cv={k: v['cv'] for k, v in r.items()}))
        print(f"seed {seed} {name}: " + ' '.join(f"{r_['row']} " + ' '.join(f"{k} {r_[k]:.3f}" for k in ('equal', 'cv_weights', 'stack', 'vote', 'select')) + f" ({r_['picked']})"
              for r_ in recs[-len(rows_def):]) + f" [{time.time() - t:.0f} s]", flush=True)
    report(a, recs)

def _baselines(path):
    "Per (seed, set): test accuracy of the linear classifier on the raw input and of MiniRocket, from a `vqshape_tokens.py` JSON."
    z = json.loads(Path(path).read_text())
    return {(p['seed'], r['dataset']): dict(input=r['input']['test_acc'], minirocket=r['minirocket']['test_acc']) for p in z['parts'] for r in p['rows']}

def report(a, recs, note=''):
    from patchssl.vqshape import TOKEN_FAMILIES, HISTOGRAM_FAMILIES
    import pandas as pd
    rows_def = {'token': TOKEN_FAMILIES, 'token+histogram': TOKEN_FAMILIES + HISTOGRAM_FAMILIES}
    df = pd.DataFrame(recs)
    # the library's rule (FamilyEnsemble('select')): of equal (concat), vote and stack, the best CV accuracy (ties: in that order)
    lib = ['equal', 'vote', 'stack']
    df['library_select'] = [r[max(lib, key=lambda k: (r['cv'][k], -lib.index(k)))] for r in recs]
    df['library_pick'] = [max(lib, key=lambda k: (r['cv'][k], -lib.index(k))) for r in recs]
    for k in lib: df[f'cv {k}'] = [r['cv'][k] for r in recs]
    searched = all(r.get('cv_weights_run', True) for r in recs)  # records of --no-cv-weights runs: cv_weights repeats equal
    ways = ['equal', 'cv_weights', 'stack', 'vote', 'select', 'library_select'] if searched else ['equal', 'stack', 'vote', 'library_select']
    base = []
    if a.baselines:
        b = _baselines(a.baselines)
        for k in ('input', 'minirocket'): df[k] = [b[(r['seed'], r['dataset'])][k] for r in recs]
        base = ['input', 'minirocket']
    cols = ways + base
    per = df.groupby(['row', 'dataset'])[cols].mean()
    mean = df.groupby(['row', 'seed'])[cols + [f'cv {k}' for k in lib]].mean()
    lines, summary = [], {}
    for row in [r for r in rows_def if r in set(df['row'])]:
        t = per.loc[row].reset_index()
        m = mean.loc[row]
        summary[row] = dict(sets=list(t['dataset']), seeds=sorted(set(df[df.row == row]['seed'])),
                            per_set_mean={k: dict(zip(t['dataset'], map(float, t[k]))) for k in cols},
                            mean={k: float(m[k].mean()) for k in cols}, sd_of_mean={k: float(m[k].std(ddof=1)) if len(m) > 1 else None for k in cols},
                            cv_mean={k: float(m[f'cv {k}'].mean()) for k in lib})
        t.loc[len(t)] = ['**mean**'] + [f"{m[k].mean():.3f} ± {m[k].std(ddof=1):.3f}" if len(m) > 1 else f"{m[k].mean():.3f}" for k in cols]
        lines += [f"\n### {row}\n", md_table(t.rename(columns={'input': 'linear on input', 'minirocket': 'MiniRocket'}))]
        lines.append("\nMean CV accuracy on the training split (what a choice of the default way may look at): "
                     + ', '.join(f"{k} {summary[row]['cv_mean'][k]:.3f}" for k in lib) + '.')
        if base:
            ps = summary[row]['per_set_mean']
            for k in ways:
                summary[row].setdefault('sets_ge_input', {})[k] = int(sum(ps[k][s] >= ps['input'][s] for s in ps[k]))
                summary[row].setdefault('gap_to_minirocket', {})[k] = summary[row]['mean'][k] - summary[row]['mean']['minirocket']
            lines.append("\nSets where the way's per-set mean >= linear on input: " + ', '.join(f"{k} {v}" for k, v in summary[row]['sets_ge_input'].items())
                         + f" (of {len(ps['input'])}); mean minus MiniRocket: " + ', '.join(f"{k} {v:+.3f}" for k, v in summary[row]['gap_to_minirocket'].items()) + '.')
    picks = df.groupby('row')['library_pick'].value_counts().to_dict()
    md = ("Ways of combining the feature families of `feature_families`, everything chosen by 5-fold CV over the training split "
          "(see the script's docstring); test accuracy, mean over the pretraining seeds per set, mean ± sd over seeds of the 8-set mean.\n"
          + ("`select` picks among equal, cv_weights, vote and stack; " if searched else "(some records come from `--no-cv-weights` runs: the cv_weights and select columns are left out) ")
          + "`library_select` picks among equal, vote and stack by CV accuracy on the training split, as `FamilyEnsemble('select')` does.\n"
          + (f"`linear on input` and `MiniRocket`: the same seeds' baselines from `{a.baselines}`.\n" if base else '')
          + note + '\n'.join(lines) + f"\n\nWhat `library_select` picked (row, way: count): {picks}")
    write(a.name, dict(args=vars(a), summary=summary, records=recs), md, out=a.out)

def merge(a):
    "One report from the records of earlier runs' JSON files (`--merge a.json,b.json`)."
    import glob
    files = [g for f in a.merge.split(',') for g in (sorted(glob.glob(f)) or [f])]  # names or glob patterns
    recs = [r for f in files for r in json.loads(Path(f).read_text())['records']]
    seen = {}
    for r in recs: seen[(r['seed'], r['dataset'], r['row'])] = r  # one record per (seed, set, row): a later file wins
    if len(seen) < len(recs): raise SystemExit(f"--merge: {len(recs) - len(seen)} records repeat a (seed, set, row) of another file; merge each once")
    report(a, recs, note=f"Merged from {a.merge}.\n")

if __name__ == '__main__':
    p = parser(__doc__)
    p.add_argument('--cache', default=None); p.add_argument('--ckpts', default='')
    p.add_argument('--datasets', default='all'); p.add_argument('--combine', action='store_true')
    p.add_argument('--merge', default=None, help='comma-separated JSON files of earlier --combine runs: write one report of their records')
    p.add_argument('--no-cv-weights', action='store_true', help='leave out the cv_weights way (its column repeats equal)')
    p.add_argument('--baselines', default=None, help='a bench/vqshape_tokens.py JSON: add its linear-on-input and MiniRocket columns for the same seeds')
    p.add_argument('--rows', default='all', help="the rows to combine: 'all', or some of token,token+histogram")
    p.add_argument('--seed-files', action='store_true', help='combine only the cached seeds given by --seeds')
    a = parse(p)
    if a.quick: a.datasets = 'GunPoint'
    if a.merge: merge(a)
    elif a.combine:
        combine(a)
    else: cache(a)
