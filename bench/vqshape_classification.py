#!/usr/bin/env python
"""Classification benchmark of chapter 04 (VQShape): one pretraining on every set shipped with aeon, then per set
token (with the codebook entry z_q and with the continuous z) and histogram accuracy next to a linear classifier on the
input itself, MiniRocket and the chapter 01 PatchMAE linear probe.

Protocol (every set loaded with `patchssl.data.load_uea`: the train split is cut into train (80%) and valid (20%,
stratified, seed 0); the test split is used only for the final number):

  pretrain     one VQShape (`vqshape_small` sizes unless changed) on every variable of every series of the train parts
               of all sets (labels unused), validation loss on the valid parts; fixed epochs and learning rate
  token z_q    per set: token features [z_q, t, l, mu, sigma] per variable (z_q: the token's codebook entry, as the
               reference; `--stats`: with each variable's mean and log std), standardised, logistic regression whose C
               is chosen from (0.01, 0.1, 1, 10) by k-fold cross-validation over train + valid (`--folds k`, default 5;
               `--folds 0`: on the valid part alone), refit on train + valid, accuracy on test
  token z      the same with z, the encoder's continuous vector before quantisation (`--codes` picks the rows)
  histogram    the same with the per-variable code histograms
  input        the same classifier on the series themselves (each set's own length, padding dropped, not normalised):
               what a linear classifier gets without any pretraining
  test-C       for every row above, also the test accuracy of the best C chosen *on test* (what tuning on the test split,
               as the reference's benchmark did, would have reported); reported beside, never used for a choice
  MiniRocket   aeon MiniRocketClassifier on train + valid (what the probes see), accuracy on test
  PatchMAE LP  the chapter 01 linear probe, read from bench/results/classification_patch_mae.json (its own run; sets it
               did not cover are '-')

Nothing is chosen on the test split. Writes bench/results/vqshape_classification.{json,md} and the figures
nbs/images/vqshape_gallery.png and nbs/images/vqshape_tokens.png.

    nice -n 10 python bench/vqshape_classification.py --threads 1 --epochs 12
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # idle OpenMP threads must not spin on a shared machine
# numpy/scipy's OpenBLAS threads spin while they wait: on a loaded 2-core machine a logistic regression with 2 BLAS threads
# ran many times slower than with one (seen here: the main thread stuck in exec_blas_async_wait). Same count as --threads.
_threads = next((sys.argv[i + 1] for i, v in enumerate(sys.argv[:-1]) if v == '--threads'), None)
if _threads:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ.setdefault(_v, _threads)
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
IMAGES = Path(__file__).resolve().parents[1]/'nbs'/'images'

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--datasets', default='all', help="comma-separated sets, or 'all' (every set aeon ships)")
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--n-tokens', type=int, default=16)
    ap.add_argument('--n-codes', type=int, default=64)
    ap.add_argument('--lambda-entropy', type=float, default=0.1)
    ap.add_argument('--dead-after', type=int, default=20, help='0: no re-seeding')
    ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--codes', default='z_q,z', help="comma-separated token rows: 'z_q' (codebook entry), 'z' (before quantisation)")
    ap.add_argument('--stats', action=argparse.BooleanOptionalAction, default=False, help="add each variable's mean and log std")
    ap.add_argument('--folds', type=int, default=5, help='k: C chosen by k-fold cross-validation over train + valid; 0: on the valid part')
    ap.add_argument('--minirocket-kernels', type=int, default=10000)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--figures', action=argparse.BooleanOptionalAction, default=True, help='write the gallery and tokens figures to nbs/images')
    ap.add_argument('--name', default='vqshape_classification')
    ap.add_argument('--load', default=None, help='folder written by vqshape_pretrain_ckpt.py (same settings): use its last checkpoint and '
                    'history instead of pretraining again')
    a = ap.parse_args()
    codes = [c.strip() for c in a.codes.split(',') if c.strip()]
    if not codes or set(codes) - {'z', 'z_q'}: ap.error(f"--codes {a.codes!r}: give z_q and/or z")

    import torch
    torch.set_num_threads(a.threads)
    from fastai.data.core import DataLoaders
    from patchssl.data import load_uea, ArrayDataset
    from patchssl.transfer import seed_everything
    from patchssl.vqshape import (vqshape_small, vqshape_learner, vqshape_sets, univariate_pool, tokenize, code_stats, token_features,
                                  code_histogram, logistic_probe, shape_fit, plot_code_gallery, plot_tokens, resample_series)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from aeon.classification.convolution_based import MiniRocketClassifier
    from common import write, md_table, RESULTS
    import pandas as pd

    t_all = time.time()
    names = vqshape_sets(a.datasets)
    datas = [load_uea(n, 0.2, 0) for n in names]
    tr, va = univariate_pool(datas, a.seq_len)
    seed_everything(a.seed)
    model = vqshape_small(seq_len=a.seq_len, d_model=a.d_model, n_tokens=a.n_tokens, n_codes=a.n_codes, lambda_entropy=a.lambda_entropy,
                          dead_after=a.dead_after or None)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"VQShape {n_params:,} parameters; {len(tr)} train / {len(va)} valid univariate series from {len(datas)} sets", flush=True)
    dls = DataLoaders.from_dsets(ArrayDataset(tr), ArrayDataset(va), bs=a.bs, num_workers=0)
    if a.load:  # the checkpoint of the same pretraining (vqshape_pretrain_ckpt.py), its history and time
        from patchssl.vqshape import load_vqshape
        ck = sorted(Path(a.load).glob('epoch*.pt'))[-1]
        model, saved = load_vqshape(ck), json.loads((Path(a.load)/'history.json').read_text())
        if int(ck.stem[5:]) != a.epochs or saved['args']['seed'] != a.seed or model.n_tokens != a.n_tokens or model.seq_len != a.seq_len:
            raise SystemExit(f"--load {a.load}: {ck.name} (seed {saved['args']['seed']}) does not match --epochs {a.epochs} --seed {a.seed}")
        pre_s, hist = saved['seconds'], saved['history']
        print(f"loaded {ck} instead of pretraining", flush=True)
    else:
        learn = vqshape_learner(dls, model)
        t = time.time()
        with learn.no_bar(): learn.fit_one_cycle(a.epochs, a.lr)
        pre_s = time.time() - t
        hist = [dict(zip(learn.recorder.metric_names[1:-1], map(float, v))) for v in learn.recorder.values]
    valid_codes = code_stats(tokenize(model, va)['idx'], model.n_codes)
    fit = shape_fit(model, va[:1024])
    print(f"pretraining {pre_s:.0f} s; valid codes {valid_codes}; shape fit {fit}", flush=True)
    if a.figures:
        pool_idx = tokenize(model, va)['idx']
        plot_code_gallery(model, pool_idx, title=f"codes of the validation series of {len(datas)} sets, most used first").savefig(IMAGES/'vqshape_gallery.png', dpi=110)
        gp = next((d for d in datas if d.name == 'GunPoint'), datas[0])
        plot_tokens(model, resample_series(gp.X_valid[:1], a.seq_len)[0, :, 0],
                    title=f"a {gp.name} validation series (class {gp.classes[gp.y_valid[0]]}) with its {model.n_tokens} tokens").savefig(IMAGES/'vqshape_tokens.png', dpi=110)

    pm_file = RESULTS/'classification_patch_mae.json'
    pm = {r['dataset']: r['methods']['pretrain + LP']['test_acc'] for r in json.loads(pm_file.read_text())['results']} if pm_file.exists() else {}
    kinds = [f'token_{c}' for c in codes] + ['histogram', 'input']
    rows, probe_s = [], 0.
    for d in datas:
        t = time.time()
        parts = ('train', 'valid', 'test')
        toks = [tokenize(model, resample_series(getattr(d, f'X_{s}'), model.seq_len, getattr(d, f'pad_{s}'))) for s in parts]
        stats = lambda t: [t['mean'], np.log(t['std'])] if a.stats else []
        feats = {f'token_{c}': [token_features(t, c, a.stats) for t in toks] for c in codes}
        feats['histogram'] = [np.concatenate([code_histogram(t, model.n_codes)] + stats(t), 1) for t in toks]
        feats['input'] = [resample_series(getattr(d, f'X_{s}'), d.seq_len, getattr(d, f'pad_{s}')).reshape(len(getattr(d, f'y_{s}')), -1)
                          for s in parts]  # own length, padding dropped, not normalised
        r = dict(dataset=d.name, n_train=len(d.y_train), n_valid=len(d.y_valid), n_test=len(d.y_test), n_vars=d.n_vars, classes=d.n_classes,
                 seq_len=d.seq_len)
        ytv = np.concatenate([d.y_train, d.y_valid])
        for k in kinds:
            F = feats[k]
            clf, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid, seed=a.seed, folds=a.folds or None)
            # beside, never used: the test accuracy of every C refit on train + valid, and the best of them (test-split tuning)
            on_test = {c: float((make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=a.seed))
                                 .fit(np.concatenate(F[:2]), ytv).predict(F[2]) == d.y_test).mean()) for c in accs}
            r[k] = dict(test_acc=float((clf.predict(F[2]) == d.y_test).mean()), C=C, cv_acc=accs[C], n_features=int(F[0].shape[1]),
                        test_acc_each_C=on_test, test_acc_best_C_on_test=max(on_test.values()))
        r['test_codes'] = code_stats(toks[2]['idx'], model.n_codes)
        r['probe_seconds'] = round(time.time() - t, 1); probe_s += time.time() - t
        t = time.time()
        clf = MiniRocketClassifier(n_kernels=a.minirocket_kernels, n_jobs=a.threads, random_state=a.seed)
        Xtv = np.concatenate([d.X_train, d.X_valid]).transpose(0, 2, 1).astype(np.float64)
        clf.fit(np.ascontiguousarray(Xtv), ytv)
        r['minirocket'] = float((clf.predict(np.ascontiguousarray(d.X_test.transpose(0, 2, 1).astype(np.float64))) == d.y_test).mean())
        r['minirocket_seconds'] = round(time.time() - t, 1)
        r['patch_mae_lp'] = pm.get(d.name)
        rows.append(r)
        print(f"{d.name:<24} " + '  '.join(f"{k} {r[k]['test_acc']:.3f} (C {r[k]['C']}, test-C {r[k]['test_acc_best_C_on_test']:.3f})" for k in kinds)
              + f"  MiniRocket {r['minirocket']:.3f}  PatchMAE LP {r['patch_mae_lp']}  [{r['probe_seconds']} s + {r['minirocket_seconds']} s, "
              f"load {os.getloadavg()[0]:.1f}]", flush=True)

    f3 = lambda v: '-' if v is None else f'{v:.3f}'
    label = {'token_z_q': 'token z_q', 'token_z': 'token z', 'histogram': 'histogram', 'input': 'linear on input'}
    tab = pd.DataFrame([dict(dataset=r['dataset'], **{'L x N, classes': f"{r['seq_len']} x {r['n_vars']}, {r['classes']}"},
                             **{label[k]: f3(r[k]['test_acc']) for k in kinds}, MiniRocket=f3(r['minirocket']),
                             **{'PatchMAE LP (ch. 01)': f3(r['patch_mae_lp']), 'C ' + ' / '.join(label[k] for k in kinds): ' / '.join(str(r[k]['C']) for k in kinds),
                                'test codes used': f"{r['test_codes']['used']:.2f}", 'test perplexity': f"{r['test_codes']['perplexity']:.1f}"})
                        for r in rows])
    acc = lambda r, k, key='test_acc': r[k][key] if isinstance(r[k], dict) else r[k]
    mean = lambda k, key='test_acc': float(np.mean([acc(r, k, key) for r in rows]))
    tab.loc[len(tab)] = dict(dataset='**mean**', **{'L x N, classes': ''}, **{label[k]: f"**{mean(k):.3f}**" for k in kinds},
                             MiniRocket=f"**{mean('minirocket'):.3f}**", **{c: '' for c in tab.columns[-4:]})
    tt = pd.DataFrame([dict(dataset=r['dataset'], **{label[k]: f"{acc(r, k):.3f} -> {acc(r, k, 'test_acc_best_C_on_test'):.3f}" for k in kinds})
                       for r in rows] + [dict(dataset='**mean**', **{label[k]: f"{mean(k):.3f} -> {mean(k, 'test_acc_best_C_on_test'):.3f}" for k in kinds})])
    both = [r for r in rows if r['patch_mae_lp'] is not None]
    summary = dict(**{f'mean_{k}': mean(k) for k in kinds}, mean_minirocket=mean('minirocket'),
                   **{f'gap_{k}_minus_minirocket': mean(k) - mean('minirocket') for k in kinds},
                   **{f'mean_{k}_best_C_on_test': mean(k, 'test_acc_best_C_on_test') for k in kinds},
                   mean_on_patch_mae_sets=dict(sets=[r['dataset'] for r in both],
                                               **{k: float(np.mean([r[k]['test_acc'] for r in both])) if both else None for k in kinds},
                                               patch_mae_lp=float(np.mean([r['patch_mae_lp'] for r in both])) if both else None))
    last = hist[-1]
    cv = f"{a.folds}-fold cross-validation over train + valid" if a.folds else "the 20% valid part"
    md = [f"**Small CPU budget, not the published setup.** One VQShape (`vqshape_small`: length {a.seq_len}, patches of 8, width {a.d_model}, "
          f"2 + 2 + 2 layers, {a.n_tokens} tokens, {a.n_codes} codes of width 8, shapes of 64 points; {n_params:,} parameters), entropy weight "
          f"{a.lambda_entropy}, dead-code re-seeding after {a.dead_after or 'never'} steps, pretrained {a.epochs} epochs (one-cycle, lr {a.lr}, bs {a.bs}) "
          f"on {len(tr)} univariate series (every variable of the ~80% train parts of {len(datas)} sets, labels unused) in {pre_s:.0f} s "
          + (f"(the checkpoint of `bench/vqshape_pretrain_ckpt.py` in {a.load}, same settings and seed) " if a.load else '') +
          f"({a.threads} thread(s), shared machine). Classifiers: logistic regression on standardised features, C from (0.01, 0.1, 1, 10) chosen by "
          f"{cv}, refit on train + valid. Rows: token features [z_q, t, l, mu, sigma] per variable and token (z_q the codebook entry, as the "
          f"reference) and the same with z (the encoder's vector before quantisation){' (both + mean, log std per variable)' if a.stats else ''}; "
          f"code histograms; the same classifier on the input series themselves (own length, padding dropped, not normalised); MiniRocket "
          f"({a.minirocket_kernels} kernels) fit on the same train + valid series; the chapter 01 PatchMAE linear probe read from "
          f"`bench/results/classification_patch_mae.json` (its own run, one model per set, 5 of the sets). Nothing was chosen on a test split. "
          f"One seed ({a.seed}). Whole run {time.time() - t_all:.0f} s.", "",
          "Test accuracy:", "", md_table(tab), "",
          f"Mean test accuracy over the {len(rows)} sets: " + ', '.join(f"{label[k]} {summary[f'mean_{k}']:.3f}" for k in kinds)
          + f", MiniRocket {summary['mean_minirocket']:.3f}; gap to MiniRocket: "
          + ', '.join(f"{label[k]} {summary[f'gap_{k}_minus_minirocket']:+.3f}" for k in kinds) + ". "
          + (f"On the {len(both)} sets of the chapter 01 run: " + ', '.join(f"{label[k]} {summary['mean_on_patch_mae_sets'][k]:.3f}" for k in kinds)
             + f", PatchMAE linear probe {summary['mean_on_patch_mae_sets']['patch_mae_lp']:.3f}." if both else ''), "",
          f"What tuning on the test split would report (beside, never used): test accuracy with C chosen by {cv} -> with the C that is best "
          f"on the test split (same four values of C, each refit on train + valid):", "", md_table(tt), "",
          f"Pretraining, last epoch (validation): ts {last['ts_loss']:.3f}, vq {last['vq_loss']:.3f}, shape {last['shape_loss']:.3f}, "
          f"dist {last['dist_loss']:.4f}; codes used {valid_codes['used']:.2f} of {a.n_codes} (perplexity {valid_codes['perplexity']:.1f}, "
          f"{valid_codes['dead']} never chosen on the validation series). Shape fit on 1024 validation series: placed shape vs the real "
          f"sub-sequence MSE {fit['own']:.3f} with the token's own code, {fit['random']:.3f} with a random code (own better for "
          f"{fit['own_better']:.0%} of the tokens). Classifiers of all sets (without MiniRocket) {probe_s:.0f} s."]
    write(a.name, dict(args=vars(a), n_params=n_params, n_train_series=len(tr), pretrain_seconds=round(pre_s, 1), history=hist,
                       valid_codes=valid_codes, shape_fit=fit, summary=summary, results=rows), '\n'.join(md))

if __name__ == '__main__': main()
