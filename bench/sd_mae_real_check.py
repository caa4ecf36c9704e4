"""Why do the SD-MAE scores gain nothing on Yahoo and MIT-BIH? (issue 24) Label-free facts of the two series, in the split
of bench/sd_mae_real_student.py (train = first 30%, z-scored with its statistics; test = the rest), and three
model-free step scores next to them: |x|, |x[t] - x[t-1]| and |x - its moving mean over 11 steps|. No training, no
choice: the scores are fixed before looking at the labels and only reported.

    python bench/sd_mae_real_check.py
"""
import sys
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table
from patchssl.data import load_sktime_anomaly
from patchssl.anomaly import zscore, anomaly_metrics

a = parse(parser(__doc__, seeds=1))
facts, rows = [], []
for nm in ('yahoo', 'mitdb'):
    x, y = load_sktime_anomaly(nm); n = int(.3 * len(x)); tr, te = zscore(x[:n], x[n:]); yt = y[n:]
    d = np.diff(np.r_[0, yt, 0]); st, en = np.where(d == 1)[0], np.where(d == -1)[0]
    v = te[:, 0]
    facts.append(dict(dataset=nm, steps=len(x), train_steps=n, test_steps=len(te), events=len(st), event_lengths=' '.join(map(str, (en - st).tolist())),
                      anomalous_frac=round(float(yt.mean()), 4), train_range=f'{tr.min():.2f} .. {tr.max():.2f}',
                      test_range=f'{v.min():.2f} .. {v.max():.2f}', test_value_at_events=' '.join(f'{u:.2f}' for u in v[yt == 1][:8])))
    for sn, s in (('abs(x)', np.abs(v)), ('abs(x[t] - x[t-1])', np.abs(np.r_[0, np.diff(v)])),
                  ('abs(x - moving mean 11)', np.abs(v - np.convolve(v, np.ones(11) / 11, 'same')))):
        m = anomaly_metrics(yt, s, vus_buffer=100)
        rows.append(dict(dataset=nm, score=sn, vus_pr=m['vus_pr'], auc_roc=m['auc_roc']))
        print(rows[-1], flush=True)
write(a.name, dict(args=vars(a), facts=facts, rows=rows),
      "Split of bench/sd_mae_real_student.py (train = first 30%, z-scored with its statistics). VUS-PR (buffer 100) and point AUC-ROC of "
      "model-free step scores on the test part.\n\n## The series\n\n" + md_table(pd.DataFrame(facts)) +
      "\n\n## Model-free scores\n\n" + md_table(pd.DataFrame(rows).round(3)), out=a.out)
