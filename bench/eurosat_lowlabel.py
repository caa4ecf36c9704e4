"""Low-label rules for the two-block probe on EuroSAT-MS: how to choose the encoder block's weight w without overfitting
a cross-validation on 20-94 labelled patches.

`eurosat_select.py` chose w (with the penalty) by repeated 5-fold CV on the labelled patches of each fraction; with 5-25 %
of the labels that choice raises CV accuracy and lowers test accuracy. Here one CV grid per seed, fraction, probe family
(ridge, logistic) and encoder (`block_cv`: every repeat, fold, w and penalty) feeds several rules, all on the labelled
training patches only, scored on the 94 test patches; the splits are the committed tables' (`stratified`, same seeds):

* `CV (w, penalty), 3 repeats`: the committed rule (the first 3 repeats here are the committed folds);
* `CV (w, penalty), more repeats`: the same with `--reps` repeats of the 5-fold CV (3 with all labels);
* `one-SE rule`: the smallest w whose best CV accuracy is within one standard error (sd of the fold accuracies over
  sqrt(5)) of the best (w, penalty), then that w's best penalty (the same repeats);
* `w from the full-label CV`: w chosen once per seed by the committed rule on all 375 labelled patches, then used at
  every fraction, the penalty by CV at the fraction (this rule sees the labels of the full training split once);
* `w = 0`: the statistics alone, the penalty by the same CV;
* ablation rows `fixed w = ...`: every w of the grid, the penalty by CV at that w (the curve behind the rules; no rule).

Beside them the band statistics alone as in the committed tables: ridge (penalty by 5-fold CV) and logistic (C by 3-fold CV).
Encoders (mean + std of the patch tokens, the pooling chosen at 100 %): the ImageCrossMAE pretrained `--epochs` epochs with
the pixel target (`eurosat_labels.py`'s cache; pretrained there when missing) and the same model untrained.

    nice -n 10 python bench/eurosat_lowlabel.py --threads 1 --seeds 3
"""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np, pandas as pd
from common import parser, parse, write, md_table
from eurosat_common import (EuroSAT, cached_encoder, features, ridge, logistic, stratified, block_cv, cv_score, block_test,
                            WEIGHTS, LOGISTIC_CS, RIDGE_ALPHAS, DATA, CACHE)

p = parser(__doc__, seeds='3')
p.add_argument('--data', default=str(DATA))
p.add_argument('--cache', default=str(CACHE), help='folder of the pretrained encoders (eurosat_target.py writes them)')
p.add_argument('--epochs', type=int, default=60, help='pretraining epochs of the cached encoder')
p.add_argument('--fractions', default='0.05,0.1,0.25,1')
p.add_argument('--families', default='ridge,logistic')
p.add_argument('--reps', type=int, default=10, help='repeats of the 5-fold CV for the rules that use more repeats')
a = parse(p)
if a.quick: a.epochs, a.seeds, a.fractions, a.reps, a.families = 2, a.seeds[:1], '0.05,1', 3, 'logistic'
if a.reps < 3: p.error(f"--reps {a.reps}: the committed rule needs at least 3 repeats")
d = EuroSAT(a.data)
tr, te, S = d.tr, d.te, d.stats
FR = sorted({float(f) for f in a.fractions.split(',')} | {1.0}, reverse=True)  # 100 % first: its w feeds a rule
FAM = [f.strip() for f in a.families.split(',')]
PENS = {'ridge': RIDGE_ALPHAS, 'logistic': LOGISTIC_CS}
rows = []

def pick(score, i=None):
    "(w index, penalty index) of the best CV score, first of ties; with `i`, the best penalty at that w."
    if i is not None: return i, int(np.argmax(score[i]))
    return tuple(int(v) for v in np.unravel_index(np.argmax(score), score.shape))

def one_se(correct, sizes, score):
    "The smallest w whose best score is within one standard error of the best (w, penalty), and that w's best penalty."
    acc = correct / np.maximum(sizes, 1)[..., None, None]
    ok = sizes > 0
    se = acc[ok].std(0) / np.sqrt(sizes.shape[1])  # [W, P]: fold accuracies over all repeats, per sqrt(k)
    i0, j0 = pick(score)
    i = next(i for i in range(score.shape[0]) if score[i].max() >= score[i0, j0] - se[i0, j0])
    return pick(score, i)

for seed in a.seeds:
    encs = {'pretrained': features(cached_encoder(d, 'pixels', seed, a.epochs, a.cache), d.x)['mean+std'],
            'random': features(cached_encoder(d, None, seed, a.epochs, a.cache), d.x)['mean+std']}
    w_full = {}
    for frac in FR:
        sub = stratified(d.ytr, seed, frac)
        ys = d.ytr[sub]
        base = dict(seed=seed, fraction=frac, n_labelled=len(sub))
        rows.append(dict(base, family='ridge', encoder='none', rule='band stats alone (committed)',
                         test_acc=ridge(S[tr][sub], ys, S[te], d.yte)[0]))
        rows.append(dict(base, family='logistic', encoder='none', rule='band stats alone (committed)',
                         test_acc=logistic(S[tr][sub], ys, S[te], d.yte)))
        for fam in FAM:
            for enc, f in encs.items():
                reps = 3 if frac == 1 else a.reps  # all labels: the committed 3 repeats (there the rules differ little)
                correct, sizes = block_cv(S[tr][sub], f[tr][sub], ys, WEIGHTS, PENS[fam], fam, reps=reps)
                test = np.stack([block_test(S[tr][sub], f[tr][sub], ys, S[te], f[te], d.yte, w, PENS[fam], fam) for w in WEIGHTS])
                s3, sR = cv_score(correct[:3], sizes[:3], fam), cv_score(correct, sizes, fam)
                if frac == 1: w_full[fam, enc] = pick(s3)[0]
                rules = {'CV (w, penalty), 3 repeats': (pick(s3), s3), 'CV (w, penalty), more repeats': (pick(sR), sR),
                         'one-SE rule': (one_se(correct, sizes, sR), sR),
                         'w from the full-label CV': (pick(s3, w_full[fam, enc]), s3), 'w = 0': (pick(s3, 0), s3)}
                rules.update({f'fixed w = {w:g}': (pick(sR, i), sR) for i, w in enumerate(WEIGHTS)})
                for rule, ((i, j), sc) in rules.items():
                    rows.append(dict(base, family=fam, encoder=enc, rule=rule, w=WEIGHTS[i], penalty=PENS[fam][j],
                                     cv_acc=float(sc[i, j]), test_acc=float(test[i, j])))
        print(f"seed {seed} fraction {frac}: " + ', '.join(f"{r['family']}/{r['encoder']}/{r['rule']} {r['test_acc']:.3f}"
                                                          for r in rows if r['seed'] == seed and r['fraction'] == frac
                                                          and not r['rule'].startswith('fixed')), flush=True)

df = pd.DataFrame(rows)
agg = (df.groupby(['fraction', 'family', 'encoder', 'rule'], sort=False)
         .agg(test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'), w_mean=('w', 'mean'), cv_acc=('cv_acc', 'mean'),
              n=('seed', 'count')).reset_index().sort_values(['fraction', 'family', 'encoder'], kind='stable'))
main = agg[~agg.rule.str.startswith('fixed w')]
note = (f"EuroSAT-MS, {tr.sum()} labelled training / {te.sum()} test patches (one patch = 0.011), a stratified share of the "
        "labelled patches drawn per seed (the committed tables' draws). Two-block probe [band statistics, w x encoder "
        "block (mean + std of the patch tokens)], each block standardised on the labelled patches; encoder `pretrained`: "
        f"ImageCrossMAE, {a.epochs} epochs, pixel target; `random`: the same model untrained; `none`: the band statistics "
        "alone as in the committed tables (ridge: penalty by 5-fold CV, logistic: C by 3-fold CV). Rules (all on the "
        "labelled patches only; see the script's docstring): the committed CV over (w, penalty) with 3 or more repeats, "
        "the one-standard-error rule, w fixed from the full-label CV (penalty by CV at the fraction), w = 0. "
        f"Mean and sd over seeds {a.seeds}.\n\n")
abl = agg[agg.rule.str.startswith('fixed w')]
write(a.name, dict(args=vars(a), rows=rows), out=a.out,
      table_md=note + md_table(main, 3) + "\n\nAblation: every fixed w, the penalty by CV at that w:\n\n" + md_table(abl, 3)
      + "\n\nPer seed:\n\n" + md_table(df, 3))
