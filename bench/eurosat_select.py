"""The probe chosen by cross-validation on the labelled patches among the two-block probes of the pretrained encoder: ridge
or logistic (`eurosat_labels.py --probe`), CLS + mean or mean + std pooling, 20 or 60 pretraining epochs. Per seed and
label fraction the variant with the highest CV accuracy on the labelled training patches (each variant's own repeated
5-fold CV, w = 0 = the statistics alone inside every grid) is scored on the 94 test patches; nothing is chosen on test.
Reads the four results files below (run those first); writes `eurosat_select`.

    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe
    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe --probe logistic --targets pixels
    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe --targets pixels --epochs 60 --name eurosat_labels_60ep
    nice -n 10 python bench/eurosat_labels.py --threads 1 --seeds 3 --parts probe --probe logistic --targets pixels --epochs 60 --name eurosat_labels_60ep
    python bench/eurosat_select.py
"""
import sys, json
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pandas as pd
from common import parser, parse, write, md_table, RESULTS

SOURCES = {'eurosat_labels_probe': (20, 'ridge'), 'eurosat_labels_probe_logistic': (20, 'logistic'),
           'eurosat_labels_60ep_probe': (60, 'ridge'), 'eurosat_labels_60ep_probe_logistic': (60, 'logistic')}
p = parser(__doc__)
a = parse(p)
if a.quick: p.error('--quick: this script trains nothing and runs in seconds; run it without --quick')
res = Path(a.out) if a.out else RESULTS
dfs = []
for name, (ep, fam) in SOURCES.items():
    f = res/f'{name}.json'
    if not f.exists(): sys.exit(f"{f} is missing: run the eurosat_labels.py command for it (see this script's help)")
    d = pd.DataFrame(json.loads(f.read_text())['rows'])
    d = d[d.method.str.startswith('band stats + w * pixels encoder')].assign(epochs=ep, family=fam)
    dfs.append(d.assign(pooling=d.method.str.extract(r': (\S+)')[0]))
df = pd.concat(dfs, ignore_index=True)
sel = df.sort_values('cv_acc', ascending=False, kind='stable').drop_duplicates(['seed', 'fraction']).sort_values(['fraction', 'seed'])
base = pd.DataFrame(json.loads((res/'eurosat_labels_probe.json').read_text())['rows'])
agg = sel.groupby('fraction').agg(test_acc=('test_acc', 'mean'), test_sd=('test_acc', 'std'), n=('seed', 'count')).reset_index()
for m, col in [('band stats (ridge)', 'stats ridge'), ('band stats (logistic)', 'stats logistic')]:
    agg[col] = base[base.method == m].groupby('fraction').test_acc.mean().values
cols = ['seed', 'fraction', 'family', 'pooling', 'epochs', 'w', 'cv_acc', 'test_acc']
note = ("EuroSAT-MS, 375 labelled training / 94 test patches: per seed and label fraction, the two-block probe of the pretrained "
        "encoder (ridge or logistic, CLS+mean or mean+std pooling, 20 or 60 pretraining epochs) with the highest CV accuracy on the "
        "labelled patches, scored on test; beside it the band statistics alone (ridge, logistic; same draws). Mean and sd over seeds.\n\n")
write(a.name, dict(rows=sel[cols].to_dict('records')), note + md_table(agg, 3) + "\n\nChosen per seed:\n\n" + md_table(sel[cols], 3), out=a.out)
print(md_table(agg, 3))
