#!/usr/bin/env python
"""Why do the VQShape token features trail MiniRocket? Per-dataset ablations of what the linear classifier sees (chapter 04).

Reads the per-epoch checkpoints of `vqshape_pretrain_ckpt.py` (the benchmark model: `vqshape_small`, same data, seed and
schedule as `vqshape_classification.py`). For every set, the same probe as the benchmark (`logistic_probe`: standardised
logistic regression, C chosen on the 20% valid part of the train split, refit on train + valid, accuracy on test) on:

  token         [z_q, t, l, mu, sigma] per token and variable (the benchmark's token features)
  token_z       the same with z (continuous, before quantisation) instead of z_q
  token_sorted  the token features with the tokens of each variable sorted by their start t (order-free slots)
  token_stats   token features + each variable's mean and log standard deviation (what instance normalisation drops)
  token_wideC   token features with C from (1e-3 ... 100) instead of (0.01 ... 10)
  token_z_stats token_z + each variable's mean and log standard deviation
  token_z_cv    token_z, C chosen by 5-fold cross-validation on train + valid (`logistic_probe(folds=5)`) instead of the one valid part
  token_z_hist  token_z + the code histogram
  hist_stats    code histogram + mean and log std
  query         the tokenizer's outputs (width d_model per token): what the heads read, before any bottleneck
  patches       the encoder's patch embeddings (averaged over groups of 4 neighbouring patches), flattened: a bound inside the model
  x_hat         the series rebuilt from the tokens (what the tokens carry, in the input space)
  series        the instance-normalised series resampled to seq_len: the model's input
  series_stats  the same + mean and log std
  raw           the series at their own length (resampled only to the set's longest), not normalised

Also per set: the series reconstruction MSE from the tokens (test), and how fixed the token slots are (std of t within a
query slot over the test series / std of t over all tokens). Per epoch (all checkpoints): validation loss terms and the
mean *validation* accuracy of the token probe, to show whether longer pretraining still helps (chosen on valid only).

    nice -n 15 python bench/vqshape_diagnosis.py --threads 1 --ckpt-dir /tmp/vqdiag/e12
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))

def main():
    from common import parser, parse, write, md_table
    ap = parser(__doc__, name='vqshape_diagnosis', seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--ckpt-dir', required=True)
    ap.add_argument('--datasets', default='all')
    ap.add_argument('--variants', default='all')
    ap.add_argument('--max-features', type=int, default=5000, help="skip a variant with more features than this on a set ('-' in the table)")
    ap.add_argument('--epoch-scan', action=argparse.BooleanOptionalAction, default=True)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.datasets, a.epoch_scan = 'GunPoint', False
    import torch
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, resample_series, code_histogram, logistic_probe
    import pandas as pd

    t_all = time.time()
    ckpts = sorted(Path(a.ckpt_dir).glob('epoch*.pt'))
    hist = json.loads((Path(a.ckpt_dir)/'history.json').read_text()) if (Path(a.ckpt_dir)/'history.json').exists() else None
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]

    @torch.no_grad()
    def run(model, X, bs=256):
        "Every intermediate of the model on `[n, L, N]` (already resampled), reshaped per series and variable."
        model.eval()
        x = torch.as_tensor(X)
        n, N = x.shape[0], x.shape[2]
        outs = []
        for i in range(0, n, bs):
            xb = x[i:i + bs]
            xn, mean, std = model.prepare(xb)
            h = model.forward_encoder(xn)
            q = model.tokenizer(h, model.queries)
            o = model.attributes(h)
            o['z_q'], o['idx'], _ = model.codebook(o['z'])
            o['x_hat'] = model.decode_series(o)
            o.update(q=q, h=h.unflatten(1, (-1, 4)).mean(2).flatten(1),  # patch embeddings averaged over groups of 4 patches
                      xn=xn, mean=mean[:, 0], logstd=std[:, 0].log())
            outs.append({k: v for k, v in o.items()})
        return {k: torch.cat([o[k] for o in outs]).reshape(n, N, *outs[0][k].shape[1:]).numpy() for k in outs[0]}

    flat = lambda *a: np.concatenate([v.reshape(len(v), -1) for v in a], 1)
    def token(o, z='z_q', order=False):
        f = np.concatenate([o[z], np.stack([o[k] for k in ('t', 'l', 'mu', 'sigma')], -1)], -1)  # [n, N, T, d+4]
        if order:
            ix = np.argsort(o['t'], -1)
            f = np.take_along_axis(f, ix[..., None], 2)
        return f
    stats = lambda o: np.stack([o['mean'], o['logstd']], -1)
    def variants(model, o, raw):
        K = model.n_codes
        hst = code_histogram(dict(idx=o['idx']), K)
        return {'token': flat(token(o)), 'token_z': flat(token(o, 'z')), 'token_sorted': flat(token(o, order=True)),
                'token_stats': flat(token(o), stats(o)), 'token_wideC': flat(token(o)), 'histogram': hst, 'hist_stats': flat(hst, stats(o)),
                'token_z_stats': flat(token(o, 'z'), stats(o)), 'token_z_cv': flat(token(o, 'z')), 'token_z_hist': flat(token(o, 'z'), hst),
                'query': flat(o['q']), 'patches': flat(o['h']), 'x_hat': flat(o['x_hat']), 'series': flat(o['xn']),
                'series_stats': flat(o['xn'], stats(o)), 'raw': flat(raw)}
    wide = (0.001, 0.01, 0.1, 1., 10., 100.)

    final = load_vqshape(ckpts[-1]); final.eval()
    rows, extra = [], []
    for d in datas:
        t0 = time.time()
        parts = {}
        for s in ('train', 'valid', 'test'):
            X, pad = getattr(d, f'X_{s}'), getattr(d, f'pad_{s}')
            o = run(final, resample_series(X, final.seq_len, pad))
            raw = resample_series(X, d.seq_len, pad)  # own steps, no normalisation
            parts[s] = (o, variants(final, o, raw))
        names = [v for v in parts['train'][1] if a.variants == 'all' or v in a.variants.split(',')]
        r = dict(dataset=d.name, L=d.seq_len, N=d.n_vars, classes=d.n_classes)
        for v in names:
            F = [parts[s][1][v] for s in ('train', 'valid', 'test')]
            if F[0].shape[1] > a.max_features: r[v] = r[v + '_valid'] = None; continue
            clf, C, accs = logistic_probe(F[0], d.y_train, F[1], d.y_valid, Cs=wide if v == 'token_wideC' else (0.01, 0.1, 1., 10.), seed=a.seed,
                                          folds=5 if v.endswith('_cv') else None)
            r[v] = float((clf.predict(F[2]) == d.y_test).mean())
            r[v + '_valid'] = accs[C]  # with folds: the mean cross-validation accuracy
        ot = parts['test'][0]
        t_, T = ot['t'], final.n_tokens
        e = dict(dataset=d.name, recon_mse=float(((ot['x_hat'] - ot['xn']) ** 2).mean()),
                 slot_t_std_ratio=float(t_.std(0).mean() / t_.std()),
                 token_t_mean=float(t_.mean()), token_l_mean=float(ot['l'].mean()),
                 seconds=round(time.time() - t0, 1))
        rows.append(r); extra.append(e)
        print(d.name, {k: round(v, 3) for k, v in r.items() if isinstance(v, float) and not k.endswith('_valid')}, e, flush=True)

    scan = []
    if a.epoch_scan:
        for ck in ckpts:
            m = load_vqshape(ck); m.eval()
            va_acc = []
            for d in datas:
                o_tr, o_va = [run(m, resample_series(getattr(d, f'X_{s}'), m.seq_len, getattr(d, f'pad_{s}'))) for s in ('train', 'valid')]
                _, C, accs = logistic_probe(flat(token(o_tr, 'z')), d.y_train, flat(token(o_va, 'z')), d.y_valid, seed=a.seed, folds=None)
                va_acc.append(accs[C])
            ep = int(ck.stem[5:])
            h = hist['history'][ep - 1] if hist else {}
            scan.append(dict(epoch=ep, mean_valid_token_acc=float(np.mean(va_acc)), per_set=va_acc, **h))
            print('epoch', ep, round(float(np.mean(va_acc)), 3), flush=True)

    df = pd.DataFrame(rows)
    vs = [v for v in df.columns if v not in ('dataset', 'L', 'N', 'classes') and not v.endswith('_valid')]
    tab = df[['dataset', 'L', 'N', 'classes'] + vs].copy()
    mean_row = {'dataset': '**mean**', 'L': '', 'N': '', 'classes': ''} | {v: float(df[v].mean()) if df[v].notna().all() else None for v in vs}
    vmean = {'dataset': '**mean valid**', 'L': '', 'N': '', 'classes': ''} | {v: float(df[v + '_valid'].mean()) if df[v].notna().all() else None for v in vs}
    tab = pd.concat([tab, pd.DataFrame([mean_row, vmean])], ignore_index=True).fillna('-')
    ex = pd.DataFrame(extra)
    md = [f"Model: the last checkpoint in `{a.ckpt_dir}` ({ckpts[-1].name}; `vqshape_small` pretrained as in `vqshape_classification.py`). "
          f"Every column: the benchmark's probe (standardised logistic regression, C chosen on the 20% valid part, refit on train + valid), "
          f"test accuracy; only the features differ (see the script's docstring). One seed. Whole run {time.time() - t_all:.0f} s.", "",
          md_table(tab), "", "Per set, on its test series: series reconstruction MSE from the tokens (normalised scale), and std of t within a "
          "query slot / std of t over all tokens (near 0: each learned query is a fixed slot in time; 1: slots move freely).", "", md_table(ex)]
    if scan:
        md += ["", "Per pretraining epoch (checkpoint of the same one-cycle run): validation loss terms and the token probe's (features [z, t, l, mu, sigma], C on the valid part) mean "
               "*validation* accuracy over the sets (no test split involved).", "",
               md_table(pd.DataFrame([{k: s[k] for k in ('epoch', 'mean_valid_token_acc', 'ts_loss', 'shape_loss', 'codes_used', 'perplexity') if k in s}
                                      for s in scan]))]
    write(a.name, dict(args=vars(a), checkpoints=[c.name for c in ckpts], results=rows, per_set=extra, epoch_scan=scan), '\n'.join(md), out=a.out)

if __name__ == '__main__': main()
