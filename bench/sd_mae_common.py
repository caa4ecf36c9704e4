"""What the ETTh1 SD-MAE regime benches share (bench/sd_mae_repair.py, bench/sd_mae_own_student.py,
bench/sd_mae_own_student_figure.py): the model, the own-student regimes, and the loop that trains each regime for each
seed on ETTh1 with injected events, checks the repair, scores validation and test, and chooses the fusion on validation;
and the split of the three real labelled series that bench/sd_mae_real_student.py and bench/sd_mae_real_norm.py share
(`real_series`).

Every choice (fusion partner / method / weight) is made on the injected VALIDATION series; the injected TEST series (its
own events) is scored with it and reported beside it."""
import time
from patchssl.anomaly import etth1_anomalies, anomaly_metrics, series_windows, zscore
from patchssl.data import load_kdd_tsad_135, load_sktime_anomaly
from patchssl.sd_mae import fit_sd_mae, repair_check, choose_fusion, fuse_scores
from sd_mae_views import all_scores

L, BS, STRIDE, SMOOTH = 100, 32, 4, 5
BASE = dict(recipe='reference', d_model=32, n_heads=2, n_layers=2, n_teacher_layers=2, n_student_layers=1, mask_ratio=0.3, visible_weight=1., lr=3e-3)
OWN = dict(student_encoder='own', n_student_enc_layers=1, schedule='two_stage', stage1=0.6)
OWN_REPAIR = dict(OWN, schedule='two_stage_pseudo', pseudo_frac=0.5, repair_weight=4.)
OWN_REGIMES = {   # bench/sd_mae_own_student.py; `steps_factor` scales the epochs
    'joint, shared encoder (default)': dict(),
    'own student, teacher mask': dict(OWN),
    'own student, whole window': dict(OWN, student_mask_ratio=0.),
    'own student, mask 0.6': dict(OWN, student_mask_ratio=0.6),
    'own student, repairing teacher, whole window': dict(OWN_REPAIR, student_mask_ratio=0.),
    'own student, repairing teacher, mask 0.6': dict(OWN_REPAIR, student_mask_ratio=0.6),
    'own residual student, whole window': dict(OWN, student_mask_ratio=0., student_residual=True),
    'own residual student, repairing teacher, whole window': dict(OWN_REPAIR, student_mask_ratio=0., student_residual=True),
    # the same teacher (300 steps of stage 1), the student trained 2.5x longer (500 steps of stage 2): 800 steps in all;
    # these are the options of `SD_RECIPES['own_student']`
    'own residual student, repairing teacher, whole window, longer stage 2': dict(OWN_REPAIR, student_mask_ratio=0., student_residual=True,
                                                                                 stage1=0.375, steps_factor=1.6),
}

REAL_SERIES = ('kdd_tsad_135', 'mitdb', 'yahoo')

def real_series(names=REAL_SERIES):
    """Yield `(name, train, test, test_labels)` for each real labelled series in `names` (offline): UCR KDD-TSAD 135
    trains on its normal part; MIT-BIH and Yahoo (sktime) on their first 30% (labels unused). Both parts are z-scored
    with the training part's statistics."""
    for nm in names:
        if nm == 'kdd_tsad_135':
            k = load_kdd_tsad_135(); tr, te = zscore(k['train'], k['test']); yield nm, tr, te, k['labels']
        elif nm in ('mitdb', 'yahoo'):
            x, y = load_sktime_anomaly(nm); n = int(.3 * len(x)); tr, te = zscore(x[:n], x[n:]); yield nm, tr, te, y[n:]
        else: raise ValueError(f'unknown real series {nm!r}: pass some of {REAL_SERIES} (--datasets)')

def etth1_epochs(train, steps):
    "Epochs of windows every `STRIDE` steps (batch `BS`, the last 20% held out by `fit_sd_mae`) that make about `steps` Adam steps (at least 3)."
    n_win = (len(train) - int(len(train) * .2) - L) // STRIDE + 1
    return max(3, round(steps / -(-n_win // BS)))

def run_etth1_regimes(regimes:dict, seeds, steps:int, partners=('discrepancy', 'cross-view discrepancy')):
    """Train every regime (options over `BASE`; `steps_factor` scales the epochs) for every seed (model seed = injection
    seed) on injected ETTh1 and score it. Returns `(rows, fusions, epochs)`: one row per (regime, seed, score) with
    validation and test AUC-ROC / VUS-PR and the repair check; per (regime, seed) the fusion `choose_fusion` picked on
    validation, with its whole grid; the epochs of `steps_factor` 1."""
    rows, fus = [], []
    for seed in seeds:
        e = etth1_anomalies(seed=seed)
        tr, ref = e.splits.train, e.splits.train[-1700:]
        epochs = etth1_epochs(tr, steps)
        rw = series_windows(e.splits.valid[L:], L, 20)[0]
        for nm, kw in regimes.items():
            t0 = time.time()
            kw = dict(kw); ep = round(epochs * kw.pop('steps_factor', 1))
            m = fit_sd_mae(tr, epochs=ep, seq_len=L, stride=STRIDE, bs=BS, seed=seed, **{**BASE, **kw}).model
            fit_s = time.time() - t0
            rc = repair_check(m, rw, seed=seed)
            gc, go = rc.loc['teacher - student', 'changed cells'], rc.loc['teacher - student', 'other cells']
            base = dict(regime=nm, seed=seed, fit_s=fit_s, epochs=ep,
                        teacher_err_changed=rc.loc['teacher - clean', 'changed cells'], input_err_changed=rc.loc['input - clean', 'changed cells'],
                        gap_changed=gc, gap_other=go, disc_snr=gc / go,
                        rec_snr=rc.loc['teacher - input', 'changed cells'] / rc.loc['teacher - input', 'other cells'])
            (sv, rv), (stt, _) = all_scores(m, e.valid_x, ref, SMOOTH), all_scores(m, e.test_x, ref, SMOOTH)
            for s in sv:
                mv, mt = anomaly_metrics(e.valid_y, sv[s], vus_buffer=100), anomaly_metrics(e.test_y, stt[s], vus_buffer=100)
                rows.append(dict(base, score=s, valid_auc=mv['auc_roc'], valid_vus=mv['vus_pr'], test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
            ch = choose_fusion(sv, rv, e.valid_y, partners=partners)
            best = ch.iloc[0]
            ft, _ = fuse_scores(stt['reconstruction'], stt[best.partner], rv['reconstruction'], rv[best.partner], best.weight, best.method)
            fv, _ = fuse_scores(sv['reconstruction'], sv[best.partner], rv['reconstruction'], rv[best.partner], best.weight, best.method)
            mv, mt = anomaly_metrics(e.valid_y, fv, vus_buffer=100), anomaly_metrics(e.test_y, ft, vus_buffer=100)
            rows.append(dict(base, score='fused (chosen on validation)', valid_auc=mv['auc_roc'], valid_vus=mv['vus_pr'], test_auc=mt['auc_roc'], test_vus=mt['vus_pr']))
            fus.append(dict(regime=nm, seed=seed, partner=best.partner, method=best.method, weight=float(best.weight),
                            valid_auc=float(best.auc_roc), grid=ch.to_dict('records')))
            print(nm, seed, f'fit {fit_s:.0f}s', {r['score']: (round(r['valid_auc'], 3), round(r['test_auc'], 3)) for r in rows[-len(sv) - 1:]},
                  'fusion', best.partner, best.method, float(best.weight), 'snr disc/rec', round(base['disc_snr'], 2),
                  round(base['rec_snr'], 2), flush=True)
    return rows, fus, epochs
