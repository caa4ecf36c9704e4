"""Scores shared by the SD-MAE benches (bench/sd_mae_repair.py, bench/sd_mae_real_student.py): every score of one trained
model, including the cross-view discrepancy (teacher on the window shown whole, student with one block hidden)."""
import numpy as np, torch
from patchssl.anomaly import series_windows, smooth_scores, window_to_point_scores, check_long_series
from patchssl.sd_mae import sd_scores, point_scores, _block_masks

@torch.no_grad()
def cross_view(model, series, n_last=10, stride=10):
    "Teacher on the window shown whole against the student with one block of `n_last` steps hidden, on that block `[T]`."
    s = check_long_series(series, model.seq_len)
    win, st = series_windows(s, model.seq_len, stride)
    was = model.training; model.eval()
    t = model.unpatchify(model.forward_decoder(model.forward_encoder(win, torch.zeros_like(win, dtype=torch.bool)), 'teacher'))
    out = np.full(win.shape[:2], np.nan)
    for k, mk in enumerate(_block_masks(model, n_last)):
        sk = model.unpatchify(model.forward_decoder(model.forward_encoder(win, mk.expand(len(win), -1, -1)), 'student'))
        blk = slice(k * n_last, (k + 1) * n_last)
        out[:, blk] = ((t - sk) ** 2).mean(-1)[:, blk].numpy()
    model.train(was)
    return window_to_point_scores(out, st, len(s))

SCORES = ('discrepancy', 'reconstruction', 'reconstruction, blocks', 'cross-view discrepancy')

def all_scores(model, series, ref, smooth=5):
    "`(scores of series, scores of ref)`: dicts over `SCORES`, each smoothed over `smooth` steps."
    sc, sr = sd_scores(model, series, ref, smooth=smooth)
    sc, sr = {k: sc[k] for k in SCORES[:2]}, {k: sr[k] for k in SCORES[:2]}
    for o, s in ((sc, series), (sr, ref)):
        o['reconstruction, blocks'] = smooth_scores(point_scores(model, s, 'reconstruction', masking='blocks'), smooth)
        o['cross-view discrepancy'] = smooth_scores(cross_view(model, s), smooth)
    return sc, sr
