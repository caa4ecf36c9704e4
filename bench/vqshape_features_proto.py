"""The screening prototype of the multi-scale token features (imported by `vqshape_features.py`); the library versions are `patchssl.vqshape.tokenize_windows` and `feature_families`. Kept so the screening tables in bench/results/vqshape_features_*.md can be rerun: it also holds the families the library dropped (`cross`, `mlevel`, `wabs`)."""
import numpy as np, torch
from patchssl.vqshape import extract_subsequence

def window_starts(w):
    return [0.] if w >= 1 else list(np.round(np.arange(0, 1 - w + 1e-9, w / 2), 6))

@torch.no_grad()
def tokenize_windows(model, X, pad=None, scales=(1., .5, .25), bs=512):
    model.eval()
    X = np.asarray(X, np.float32); n, L, N = X.shape
    lens = np.full(n, L) if pad is None else (~np.asarray(pad, bool)).sum(1)
    out = {}
    for w in scales:
        st = window_starts(w); W = len(st)
        keys = ('z', 'z_q', 'idx', 't', 'l', 'mu', 'sigma', 'mean', 'std') + (('x_hat',) if w >= 1 else ())
        res = {}
        for Lg in np.unique(lens):
            ii = np.where(lens == Lg)[0]
            rows = torch.from_numpy(X[ii, :Lg]).permute(0, 2, 1).reshape(-1, Lg)  # [g*N, Lg]
            R = len(rows)
            t = torch.tensor(st, dtype=torch.float32).expand(R, W); l = torch.full((R, W), float(min(w, 1.)))
            l = torch.minimum(l, 1 - t)
            crops = extract_subsequence(rows, t, l, model.seq_len).reshape(-1, model.seq_len, 1)  # [R*W, S, 1]
            parts = []
            for i in range(0, len(crops), bs):
                o = model(crops[i:i + bs])
                parts.append({k: o[k] for k in keys if k not in ('mean', 'std')} | dict(mean=o['mean'][:, 0], std=o['std'][:, 0]))
            cat = {k: torch.cat([p[k] for p in parts]).numpy() for k in keys}
            for k, v in cat.items():
                v = v.reshape(len(ii), N, W, *v.shape[1:])
                if k not in res: res[k] = np.zeros((n,) + v.shape[1:], v.dtype)
                res[k][ii] = v
        out[w] = res
    return out

def window_features(model, tok, families=None):
    f = {}
    full = tok[1.0]; n, N = full['mu'].shape[:2]
    g = lambda k: full[k][:, :, 0]  # [n, N, T(, d)]
    f['slot'] = np.concatenate([g('z'), np.stack([g(k) for k in ('t', 'l', 'mu', 'sigma')], -1)], -1).reshape(n, -1)
    f['slot_q'] = np.concatenate([g('z_q'), np.stack([g(k) for k in ('t', 'l', 'mu', 'sigma')], -1)], -1).reshape(n, -1)
    m, s = full['mean'][:, :, 0, None], full['std'][:, :, 0, None]
    f['abs'] = np.concatenate([m + s * g('mu'), np.log(s * g('sigma') + 1e-8)], -1).reshape(n, -1)
    f['stats'] = np.concatenate([m[..., 0], np.log(s[..., 0])], -1)
    xh = full['x_hat'][:, :, 0] * s + m  # [n, N, S]
    S = xh.shape[-1]; P = 32
    r = xh.reshape(n, N, P, S // P).mean(-1)
    f['render'] = r.reshape(n, -1)
    if N > 1:
        c = xh - xh.mean(-1, keepdims=True); c = c / (np.sqrt((c ** 2).sum(-1, keepdims=True)) + 1e-8)
        cc = np.einsum('nis,njs->nij', c, c); iu = np.triu_indices(N, 1)
        f['cross'] = cc[:, iu[0], iu[1]]
    else: f['cross'] = np.zeros((n, 0), np.float32)
    K = model.n_codes
    def hist(idx):  # [n, N, W, T] -> [n, N, K]
        h = np.zeros((n, N, K), np.float32)
        np.add.at(h, (np.arange(n)[:, None, None, None], np.arange(N)[None, :, None, None], idx), 1.)
        return h / idx[0, 0].size
    f['hist'] = hist(full['idx']).reshape(n, -1)
    f['mhist'] = np.concatenate([hist(tok[w]['idx']).reshape(n, -1) for w in tok], 1)
    pools = []
    for w in tok:
        o = tok[w]
        v = np.concatenate([o['z'], np.stack([o['l'], o['mu'], np.log(o['sigma'] + 1e-8)], -1)], -1)  # [n, N, W, T, d+3]
        v = v.reshape(n, N, -1, v.shape[-1])
        pools += [v.mean(2).reshape(n, -1), v.max(2).reshape(n, -1)]
    f['mpool'] = np.concatenate(pools, 1)
    lv = []
    for w in tok:
        v = np.stack([tok[w]['mean'], np.log(tok[w]['std'])], -1)  # [n, N, W, 2]
        lv += [v.mean(2).reshape(n, -1), v.std(2).reshape(n, -1), v.max(2).reshape(n, -1), v.min(2).reshape(n, -1)]
    f['mlevel'] = np.concatenate(lv, 1)
    ab = []
    for w in tok:
        o = tok[w]; m_, s_ = o['mean'][..., None], o['std'][..., None]  # [n, N, W, 1]
        v = np.stack([m_ + s_ * o['mu'], np.log(s_ * o['sigma'] + 1e-8)], -1).reshape(n, N, -1, 2)  # all tokens of all windows
        ab += [v.mean(2).reshape(n, -1), v.std(2).reshape(n, -1), v.max(2).reshape(n, -1), v.min(2).reshape(n, -1)]
    f['mabs'] = np.concatenate(ab, 1)
    f['wabs'] = np.concatenate([np.concatenate([tok[w]['mean'], np.log(tok[w]['std'])], -1).reshape(n, -1) for w in tok], 1)
    return f

def auto_scales(L, min_steps=16, max_depth=5):
    s = [1.]
    while len(s) < max_depth and L * s[-1] / 2 >= min_steps: s.append(s[-1] / 2)
    return tuple(s)

import warnings
class BlockScale:
    "After standardising: each block of features scaled by 1/sqrt(its size), so every family weighs the same in the L2 penalty."
    def __init__(self, blocks): self.blocks = blocks
    def fit(self, X, y=None): return self
    def transform(self, X):
        w = np.concatenate([np.full(b, 1 / np.sqrt(b)) for b in self.blocks])
        return X * w
    def get_params(self, deep=True): return dict(blocks=self.blocks)
    def set_params(self, **p): self.blocks = p['blocks']; return self

def probe_blocks(F_train, y_train, F_valid, y_valid, blocks, Cs=(0.01, 0.1, 1., 10., 100.), seed=0, folds=5):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler, FunctionTransformer
    from sklearn.model_selection import StratifiedKFold
    blocks = [b for b in blocks if b]
    w = np.concatenate([np.full(b, np.sqrt(sum(blocks) / (len(blocks) * b))) for b in blocks])
    make = lambda C: make_pipeline(StandardScaler(), FunctionTransformer(lambda X: X * w), LogisticRegression(C=C, max_iter=2000, random_state=seed))
    X, y = np.concatenate([F_train, F_valid]), np.concatenate([y_train, y_valid])
    k = min(folds, max(2, np.unique(y, return_counts=True)[1].min()))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        splits = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(X, y))
    accs = {C: float(np.mean([(make(C).fit(X[a], y[a]).predict(X[b]) == y[b]).mean() for a, b in splits])) for C in Cs}
    best = max(Cs, key=lambda C: (accs[C], -C))
    return make(best).fit(X, y), best, accs
