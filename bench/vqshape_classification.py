#!/usr/bin/env python
"""Classification benchmark of chapter 04 (VQShape): one pretraining on every set shipped with aeon, then per set
token and histogram accuracy next to MiniRocket and the chapter 01 PatchMAE linear probe.

Protocol (every set loaded with `patchssl.data.load_uea`: the train split is cut into train (80%) and valid (20%,
stratified, seed 0); the test split is used only for the final number):

  pretrain     one VQShape (`vqshape_small` sizes unless changed) on every variable of every series of the train parts
               of all sets (labels unused), validation loss on the valid parts; fixed epochs and learning rate
  token        per set: token features [z, t, l, mu, sigma] per variable (`--code z_q`: the codebook entry instead of the
               continuous z; `--stats`: with each variable's mean and log std), standardised, logistic regression whose C
               is chosen from (0.01, 0.1, 1, 10) on the valid part (`--folds k`: by k-fold cross-validation over train +
               valid), refit on train + valid, accuracy on test
  histogram    the same with the per-variable code histograms
  MiniRocket   aeon MiniRocketClassifier on train + valid (what the probes see), accuracy on test
  PatchMAE LP  the chapter 01 linear probe, read from bench/results/classification_patch_mae.json (its own run; sets it
               did not cover are '-')

Nothing is chosen on the test split. Writes bench/results/vqshape_classification.{json,md} and the figures
nbs/images/vqshape_gallery.png and nbs/images/vqshape_tokens.png.

    nice -n 15 python bench/vqshape_classification.py --threads 1
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # idle OpenMP threads must not spin on a shared machine
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
    ap.add_argument('--code', default='z', choices=('z', 'z_q'), help="token's code vector in the token features")
    ap.add_argument('--stats', action=argparse.BooleanOptionalAction, default=False, help="add each variable's mean and log std")
    ap.add_argument('--folds', type=int, default=0, help='0: C chosen on the valid part; k: by k-fold cross-validation over train + valid')
    ap.add_argument('--minirocket-kernels', type=int, default=10000)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--figures', action=argparse.BooleanOptionalAction, default=True, help='write the gallery and tokens figures to nbs/images')
    ap.add_argument('--name', default='vqshape_classification')
    ap.add_argument('--load', default=None, help='folder written by vqshape_pretrain_ckpt.py (same settings): use its last checkpoint and '
                    'history instead of pretraining again')
    a = ap.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    from fastai.data.core import DataLoaders
    from patchssl.data import load_uea, ArrayDataset
    from patchssl.transfer import seed_everything
    from patchssl.vqshape import (vqshape_small, vqshape_learner, vqshape_sets, univariate_pool, tokenize, classify_sets, code_stats,
                                  shape_fit, plot_code_gallery, plot_tokens, resample_series)
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

    t = time.time()
    rows = classify_sets(model, datas, a.seed, code=a.code, stats=a.stats, folds=a.folds or None)
    probe_s = time.time() - t
    pm_file = RESULTS/'classification_patch_mae.json'
    pm = {r['dataset']: r['methods']['pretrain + LP']['test_acc'] for r in json.loads(pm_file.read_text())['results']} if pm_file.exists() else {}
    for d, r in zip(datas, rows):
        t = time.time()
        clf = MiniRocketClassifier(n_kernels=a.minirocket_kernels, n_jobs=a.threads, random_state=a.seed)
        Xtv = np.concatenate([d.X_train, d.X_valid]).transpose(0, 2, 1).astype(np.float64)
        clf.fit(np.ascontiguousarray(Xtv), np.concatenate([d.y_train, d.y_valid]))
        r['minirocket'] = float((clf.predict(np.ascontiguousarray(d.X_test.transpose(0, 2, 1).astype(np.float64))) == d.y_test).mean())
        r['minirocket_seconds'] = round(time.time() - t, 1)
        r['patch_mae_lp'] = pm.get(d.name)
        print(f"{d.name:<24} token {r['token']['test_acc']:.3f} (C {r['token']['C']})  histogram {r['histogram']['test_acc']:.3f} "
              f"(C {r['histogram']['C']})  MiniRocket {r['minirocket']:.3f}  PatchMAE LP {r['patch_mae_lp']}", flush=True)

    f3 = lambda v: '-' if v is None else f'{v:.3f}'
    tab = pd.DataFrame([dict(dataset=r['dataset'], **{'L x N, classes': f"{d.seq_len} x {d.n_vars}, {r['classes']}"},
                             token=f3(r['token']['test_acc']), histogram=f3(r['histogram']['test_acc']), MiniRocket=f3(r['minirocket']),
                             **{'PatchMAE LP (ch. 01)': f3(r['patch_mae_lp']), 'C token / hist': f"{r['token']['C']} / {r['histogram']['C']}",
                                'test codes used': f"{r['test_codes']['used']:.2f}", 'test perplexity': f"{r['test_codes']['perplexity']:.1f}"})
                        for d, r in zip(datas, rows)])
    mean = lambda k: float(np.mean([r[k]['test_acc'] if isinstance(r[k], dict) else r[k] for r in rows]))
    both = [r for r in rows if r['patch_mae_lp'] is not None]
    summary = dict(mean_token=mean('token'), mean_histogram=mean('histogram'), mean_minirocket=mean('minirocket'),
                   gap_token_minus_minirocket=mean('token') - mean('minirocket'),
                   mean_on_patch_mae_sets=dict(sets=[r['dataset'] for r in both],
                                               token=float(np.mean([r['token']['test_acc'] for r in both])) if both else None,
                                               patch_mae_lp=float(np.mean([r['patch_mae_lp'] for r in both])) if both else None))
    last = hist[-1]
    md = [f"**Small CPU budget, not the published setup.** One VQShape (`vqshape_small`: length {a.seq_len}, patches of 8, width {a.d_model}, "
          f"2 + 2 + 2 layers, {a.n_tokens} tokens, {a.n_codes} codes of width 8, shapes of 64 points; {n_params:,} parameters), entropy weight "
          f"{a.lambda_entropy}, dead-code re-seeding after {a.dead_after or 'never'} steps, pretrained {a.epochs} epochs (one-cycle, lr {a.lr}, bs {a.bs}) "
          f"on {len(tr)} univariate series (every variable of the ~80% train parts of {len(datas)} sets, labels unused) in {pre_s:.0f} s "
          + (f"(the checkpoint of `bench/vqshape_pretrain_ckpt.py` in {a.load}, same settings and seed) " if a.load else '') +
          f"({a.threads} thread(s), shared machine). Classifiers: logistic regression on standardised features (token features "
          f"[{a.code}, t, l, mu, sigma]{' + mean, log std per variable' if a.stats else ''}), C chosen "
          + (f"by {a.folds}-fold cross-validation over train + valid" if a.folds else "on the 20% valid part") + ", "
          f"refit on train + valid; MiniRocket ({a.minirocket_kernels} kernels) fit on the same train + valid series. "
          f"Nothing was chosen on a test split. One seed ({a.seed}). Whole run {time.time() - t_all:.0f} s.", "",
          md_table(tab), "",
          f"Mean test accuracy over the {len(rows)} sets: token {summary['mean_token']:.3f}, histogram {summary['mean_histogram']:.3f}, "
          f"MiniRocket {summary['mean_minirocket']:.3f} (token - MiniRocket = {summary['gap_token_minus_minirocket']:+.3f}). "
          + (f"On the {len(both)} sets of the chapter 01 run: token {summary['mean_on_patch_mae_sets']['token']:.3f}, "
             f"PatchMAE linear probe {summary['mean_on_patch_mae_sets']['patch_mae_lp']:.3f}." if both else ''), "",
          f"Pretraining, last epoch (validation): ts {last['ts_loss']:.3f}, vq {last['vq_loss']:.3f}, shape {last['shape_loss']:.3f}, "
          f"dist {last['dist_loss']:.4f}; codes used {valid_codes['used']:.2f} of {a.n_codes} (perplexity {valid_codes['perplexity']:.1f}, "
          f"{valid_codes['dead']} never chosen on the validation series). Shape fit on 1024 validation series: placed shape vs the real "
          f"sub-sequence MSE {fit['own']:.3f} with the token's own code, {fit['random']:.3f} with a random code (own better for "
          f"{fit['own_better']:.0%} of the tokens). Classification of all sets {probe_s:.0f} s."]
    write(a.name, dict(args=vars(a), n_params=n_params, n_train_series=len(tr), pretrain_seconds=round(pre_s, 1), history=hist,
                       valid_codes=valid_codes, shape_fit=fit, summary=summary, results=rows), '\n'.join(md))

if __name__ == '__main__': main()
