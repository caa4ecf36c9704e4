"""Scores shared by the SD-MAE benches (bench/sd_mae_repair.py, bench/sd_mae_real_student.py): every score of one trained
model, including the cross-view discrepancy (teacher on the window shown whole, student with one block hidden)."""
from patchssl.anomaly import smooth_scores
from patchssl.sd_mae import sd_scores, point_scores, cross_view_scores

cross_view = cross_view_scores   # the library's; the results of bench/sd_mae_repair.py were made with an identical copy of it

SCORES = ('discrepancy', 'reconstruction', 'reconstruction, blocks', 'cross-view discrepancy')

def all_scores(model, series, ref, smooth=5):
    "`(scores of series, scores of ref)`: dicts over `SCORES`, each smoothed over `smooth` steps."
    sc, sr = sd_scores(model, series, ref, smooth=smooth)
    sc, sr = {k: sc[k] for k in SCORES[:2]}, {k: sr[k] for k in SCORES[:2]}
    for o, s in ((sc, series), (sr, ref)):
        o['reconstruction, blocks'] = smooth_scores(point_scores(model, s, 'reconstruction', masking='blocks'), smooth)
        o['cross-view discrepancy'] = smooth_scores(cross_view(model, s), smooth)
    return sc, sr
