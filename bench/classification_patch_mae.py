#!/usr/bin/env python
"""Classification benchmark of chapter 01 (PatchMAE): five UCR/UEA sets, one run, one table.

For each of BasicMotions, JapaneseVowels, ArrowHead, GunPoint, ItalyPowerDemand (the copies shipped in aeon,
loaded with `patchssl.data.load_uea`: the train split is cut into train (80%) / valid (20%, stratified, seed 0);
the test split is only ever used for the final number):

  pretrain            PatchMAE (sizes of `patch_mae_small`) on the train windows, labels unused; masked MSE
  pretrain + LP       PatchITransformer(task='classify') from that checkpoint, strict linear probe (head only)
  pretrain + FT       same start, head for `--ft-head-epochs`, then all layers for `--ft-epochs` at lr/2
  supervised          the same PatchITransformer from scratch, all layers, ft-head-epochs + ft-epochs epochs at lr
  MiniRocket          aeon MiniRocketClassifier on the same labelled train part (and, as a bridge to the published
                      numbers, on the full train split = train + valid)

Hyper-parameters are fixed for all sets (nothing is chosen on valid or test); the only per-set choice is the patch
length, set from the series length alone (table `PATCH` below; a remainder policy where the length is prime).
Validation accuracy is reported next to test accuracy as a sanity check only.

    python bench/classification_patch_mae.py        # default CPU run (about 3 min on 2 shared cores), writes bench/results/classification_patch_mae.{json,md}
"""
import os, sys, time
from pathlib import Path
import numpy as np
# OpenMP threads that spin while waiting make 2 torch threads 10-30x slower on a shared 2-core machine (measured here:
# 1.4 s vs 0.1 s per JapaneseVowels step with another process busy); passive waiting costs nothing measurable. Must be set before torch loads.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

sys.path.insert(0, str(Path(__file__).resolve().parent))

DATASETS = ['BasicMotions', 'JapaneseVowels', 'ArrowHead', 'GunPoint', 'ItalyPowerDemand']
# patch_len (= stride) and remainder policy per set, from the series length only:
PATCH = {'BasicMotions': (10, None),          # L=100 -> 10 patches
         'JapaneseVowels': (4, 'pad_end'),    # L=29 (zero-padded, prime) -> 8 patches, last patch padded by repeating step 29
         'ArrowHead': (10, 'pad_end'),        # L=251 (prime) -> 26 patches, last patch padded by repeating step 251
         'GunPoint': (10, None),              # L=150 -> 15 patches
         'ItalyPowerDemand': (4, None)}       # L=24 -> 6 patches
# published / previously measured reference accuracies, from /work/shared/data/README.md
REF = {'GunPoint': dict(rocket=1.000, hc2=1.000), 'ArrowHead': dict(rocket=0.814, hc2=0.869, minirocket=0.863),
       'ItalyPowerDemand': dict(rocket=0.970, hc2=0.970), 'BasicMotions': dict(minirocket=1.000),
       'JapaneseVowels': dict(minirocket=0.981)}

def main():
    from common import parser, parse, write, RESULTS
    ap = parser(__doc__, name='classification_patch_mae', threads=2, seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--datasets', nargs='+', default=DATASETS, choices=DATASETS)
    ap.add_argument('--d-model', type=int, default=64)
    ap.add_argument('--n-heads', type=int, default=4)
    ap.add_argument('--n-layers', type=int, default=2)
    ap.add_argument('--d-ff', type=int, default=128)
    ap.add_argument('--dropout', type=float, default=0.1)
    ap.add_argument('--mask-ratio', type=float, default=0.4)
    ap.add_argument('--pre-epochs', type=int, default=100, help='PatchMAE pretraining epochs')
    ap.add_argument('--lp-epochs', type=int, default=50, help='linear-probe epochs')
    ap.add_argument('--ft-head-epochs', type=int, default=10, help='fine-tune: head-only epochs first')
    ap.add_argument('--ft-epochs', type=int, default=50, help='fine-tune: all-layer epochs after the head')
    ap.add_argument('--pre-lr', type=float, default=1e-3)
    ap.add_argument('--lp-lr', type=float, default=1e-2)
    ap.add_argument('--lr', type=float, default=1e-3, help='supervised lr; fine-tune head lr (all layers at lr/2)')
    ap.add_argument('--max-bs', type=int, default=32, help='batch size = clip(n_train // 4, 4, max_bs): ~4+ steps per epoch on the tiny sets')
    ap.add_argument('--valid-pct', type=float, default=0.2)
    ap.add_argument('--minirocket-kernels', type=int, default=10000)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick:  # one small set, a few epochs
        a.datasets, a.pre_epochs, a.lp_epochs, a.ft_head_epochs, a.ft_epochs, a.minirocket_kernels = ['ItalyPowerDemand'], 2, 2, 1, 2, 840
    res = Path(a.out) if a.out else RESULTS
    res.mkdir(parents=True, exist_ok=True)

    from fastai.torch_core import set_seed
    from patchssl.data import load_uea, classification_dls
    from patchssl.patch_mae import (patch_mae_small, PatchITransformer, pretrain_learner, mean_fill_loss, classifier_learner,
                                    evaluate_classifier)
    from patchssl.transfer import save_checkpoint
    import patchssl.transfer  # noqa: F401  (Learner.linear_probe / fine_tune_pretrained)
    from aeon.classification.convolution_based import MiniRocketClassifier

    t_all = time.time()
    arch = dict(d_model=a.d_model, n_heads=a.n_heads, n_layers=a.n_layers, d_ff=a.d_ff, dropout=a.dropout)
    sup_epochs = a.ft_head_epochs + a.ft_epochs

    acc = lambda model, dl: evaluate_classifier(model, dl)['accuracy']

    results, pre_log = [], {}
    for name in a.datasets:
        d = load_uea(name, valid_pct=a.valid_pct, seed=0)
        n, L, N = d.X_train.shape
        C = d.n_classes
        p, rem = PATCH[name]
        bs = int(np.clip(n // 4, 4, a.max_bs))
        print(f"\n=== {d}; patch_len {p}, remainder {rem}, bs {bs}", flush=True)
        geo = dict(patch_len=p, remainder=rem, **arch)
        ck = res/f'_cls_{name}.pt'
        ds_rows = dict(dataset=name, L=L, N=N, n_classes=C, n_train=n, n_valid=len(d.y_valid), n_test=len(d.y_test),
                       patch_len=p, remainder=rem, bs=bs, padded=round(float(d.pad_train.mean()), 3), methods={})

        def dls():
            return classification_dls(d, bs=bs)

        # (1) PatchMAE pretraining on the train windows, no labels
        set_seed(a.seed)
        mae = patch_mae_small(N, L, **geo)
        pdls = classification_dls(d, bs=bs, labels=False)  # unlabelled (x,) items
        plearn = pretrain_learner(pdls, mae, a.mask_ratio)
        t = time.time()
        with plearn.no_logging(), plearn.no_bar(): plearn.fit_one_cycle(a.pre_epochs, a.pre_lr)
        pre_s = time.time() - t
        vals = [float(v[1]) for v in plearn.recorder.values]
        fill = mean_fill_loss(pdls.valid, mae, a.mask_ratio)
        save_checkpoint(ck, mae, None, a.pre_epochs, dict(valid_loss=vals))
        pre_log[name] = dict(epochs=a.pre_epochs, seconds=round(pre_s, 1), n_params=sum(q.numel() for q in mae.parameters()),
                             n_patches=mae.n_patches, valid_masked_loss_first=round(vals[0], 4), valid_masked_loss_last=round(vals[-1], 4),
                             valid_masked_loss_min=round(min(vals), 4), mean_fill_loss=round(fill, 4))
        print(f"   pretrain: {a.pre_epochs} epochs, {pre_s:.0f} s, valid masked loss {vals[0]:.3f} -> {vals[-1]:.3f} "
              f"(visible-mean fill {fill:.3f})", flush=True)

        def record(key, model, epochs, trained, secs, **extra):
            dl = dls()
            r = dict(test_acc=round(acc(model, dl.test), 4), valid_acc=round(acc(model, dl.valid), 4), epochs=epochs,
                     trained=trained, seconds=round(secs, 1), **extra)
            ds_rows['methods'][key] = r
            print(f"   {key:<22} test {r['test_acc']:.4f}  valid {r['valid_acc']:.4f}  ({epochs} epochs, {secs:.1f} s)", flush=True)

        # (2) linear probe
        set_seed(a.seed)
        m, rep = PatchITransformer.from_checkpoint(ck, task='classify', n_classes=C)
        lrn = classifier_learner(dls(), m); t = time.time()
        with lrn.no_logging(), lrn.no_bar(): lrn.linear_probe(a.lp_epochs, a.lp_lr)
        record('pretrain + LP', m, a.lp_epochs, 'head', time.time() - t, transferred=len(rep.matched))
        # (3) fine-tune
        set_seed(a.seed)
        m, rep = PatchITransformer.from_checkpoint(ck, task='classify', n_classes=C)
        lrn = classifier_learner(dls(), m); t = time.time()
        with lrn.no_logging(), lrn.no_bar(): lrn.fine_tune_pretrained(a.ft_epochs, a.lr, freeze_epochs=a.ft_head_epochs)
        record('pretrain + FT', m, f'{a.ft_head_epochs}+{a.ft_epochs}', 'head, then all', time.time() - t, transferred=len(rep.matched))
        # (4) supervised from scratch, same architecture, same number of epochs
        set_seed(a.seed)
        m = PatchITransformer(N, L, task='classify', n_classes=C, **geo)
        lrn = classifier_learner(dls(), m); t = time.time()
        with lrn.no_logging(), lrn.no_bar(): lrn.fit_one_cycle(sup_epochs, a.lr)
        record('supervised', m, sup_epochs, 'all', time.time() - t)
        ck.unlink()

        # (5) MiniRocket (aeon wants [n, N, L])
        def minirocket(Xtr, ytr):
            t = time.time()
            clf = MiniRocketClassifier(n_kernels=a.minirocket_kernels, n_jobs=a.threads, random_state=a.seed)
            clf.fit(np.ascontiguousarray(Xtr.transpose(0, 2, 1), np.float64), ytr)
            f = lambda X, y: float((clf.predict(np.ascontiguousarray(X.transpose(0, 2, 1), np.float64)) == y).mean())
            return clf, f, time.time() - t
        clf, f, s = minirocket(d.X_train, d.y_train)
        ds_rows['methods']['MiniRocket'] = dict(test_acc=round(f(d.X_test, d.y_test), 4), valid_acc=round(f(d.X_valid, d.y_valid), 4),
                                                epochs='-', trained='ridge on 10k features', seconds=round(s, 1))
        clf, f, s = minirocket(np.concatenate([d.X_train, d.X_valid]), np.concatenate([d.y_train, d.y_valid]))
        ds_rows['methods']['MiniRocket, full train'] = dict(test_acc=round(f(d.X_test, d.y_test), 4), valid_acc=None, epochs='-',
                                                            trained='ridge on 10k features, train+valid', seconds=round(s, 1))
        for k in ('MiniRocket', 'MiniRocket, full train'):
            r = ds_rows['methods'][k]; print(f"   {k:<22} test {r['test_acc']:.4f}  ({r['seconds']} s)", flush=True)
        ds_rows['pretrain'] = pre_log[name]
        results.append(ds_rows)

    total = time.time() - t_all
    # ---- markdown
    keys = ['pretrain + LP', 'pretrain + FT', 'supervised', 'MiniRocket', 'MiniRocket, full train']
    f3 = lambda v: '-' if v is None else f'{v:.3f}'
    md = [f"**Small CPU budget, not the published setups.** PatchMAE / PatchITransformer at `patch_mae_small` sizes "
          f"(d_model {a.d_model}, {a.n_layers} layers, {a.n_heads} heads, d_ff {a.d_ff}, dropout {a.dropout}), mask {a.mask_ratio} (token mode), "
          f"pretraining {a.pre_epochs} epochs on the ~80% train part of each train split (labels unused); linear probe {a.lp_epochs} epochs; "
          f"fine-tune {a.ft_head_epochs} head + {a.ft_epochs} all-layer epochs; supervised from scratch {sup_epochs} epochs, same architecture. "
          f"All deep models and `MiniRocket` see only the same ~80% labelled train part (20% stratified valid held out, seed 0); "
          f"`MiniRocket, full train` uses the whole train split like the published numbers. Fixed hyper-parameters for every set, "
          f"nothing chosen on valid or test; test accuracy on the full standard test split. One seed ({a.seed}). Whole run {total:.0f} s.", "",
          "Test accuracy (this run) next to the references in `/work/shared/data/README.md`: ROCKET (published, mean of 10 runs), "
          "HIVE-COTE 2 (published), and MiniRocket measured earlier with aeon on this kind of machine (full train split).", "",
          "| dataset | L x N, classes | patch (remainder) | pretrain + LP | pretrain + FT | supervised | MiniRocket | MiniRocket, full train "
          "| ROCKET (pub.) | HC2 (pub.) | MiniRocket (README) |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ref = REF.get(r['dataset'], {})
        md.append(f"| {r['dataset']} | {r['L']} x {r['N']}, {r['n_classes']} | {r['patch_len']} ({r['remainder'] or 'fits'}) | "
                  + ' | '.join(f3(r['methods'][k]['test_acc']) for k in keys)
                  + f" | {f3(ref.get('rocket'))} | {f3(ref.get('hc2'))} | {f3(ref.get('minirocket'))} |")
    md.append('| mean over the five | | | ' + ' | '.join(f3(float(np.mean([r['methods'][k]['test_acc'] for r in results]))) for k in keys) + ' | | | |')
    md += ["", "Epochs, seconds (training only, 2 threads) and validation accuracy (sanity check; valid sets hold 6 to 54 series):", "",
           "| dataset | n train / valid / test | bs | pretrain: epochs, s, valid masked loss first -> last (visible-mean fill) | "
           "LP: epochs, s, valid acc | FT: epochs, s, valid acc | supervised: epochs, s, valid acc | MiniRocket: s, valid acc |",
           "|---|---|---|---|---|---|---|---|"]
    for r in results:
        pr, ms = r['pretrain'], r['methods']
        cell = lambda k: f"{ms[k]['epochs']}, {ms[k]['seconds']}, {ms[k]['valid_acc']:.3f}"
        md.append(f"| {r['dataset']} | {r['n_train']} / {r['n_valid']} / {r['n_test']} | {r['bs']} | {pr['epochs']}, {pr['seconds']}, "
                  f"{pr['valid_masked_loss_first']:.3f} -> {pr['valid_masked_loss_last']:.3f} ({pr['mean_fill_loss']:.3f}) | "
                  f"{cell('pretrain + LP')} | {cell('pretrain + FT')} | {cell('supervised')} | {ms['MiniRocket']['seconds']}, {ms['MiniRocket']['valid_acc']:.3f} |")
    md += ["", "Notes: JapaneseVowels is zero-padded at the end to 29 steps by `load_uea` (45% of the cells are padding); no model here "
           "uses the pad mask (PatchMAE, its masking and PatchITransformer have no pad-mask input), so padding is part of the input "
           "for every method, MiniRocket included. Patch lengths come from the series lengths only; `pad_end` repeats the last step "
           "to fill the last patch."]
    write(a.name, dict(args=vars(a), omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'), total_seconds=round(total, 1), results=results,
                       references=dict(source='/work/shared/data/README.md', accuracies=REF)), '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
