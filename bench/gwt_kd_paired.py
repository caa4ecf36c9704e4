"""Chapter 05: paired significance of the workspace row against the baselines the goal names, from a comparison run's
per-seed test accuracies (no training). A seed fixes the teachers, the split and the student's initialisation for
every row, so the rows are paired by seed: paired t-test and Wilcoxon signed-rank test (scipy) of `gwt` minus the
student alone and minus the fixed 0.3 / 0.7 two-teacher baseline, per set.

    python bench/gwt_kd_paired.py [--run gwt_kd_compare_10seeds]
"""
import json, sys
from pathlib import Path
import pandas as pd
from scipy import stats
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table, RESULTS

p = parser(__doc__)  # --threads, --seeds, --name, --quick, --out (this script trains nothing: only --name and --out matter)
p.add_argument('--run', default='gwt_kd_compare_10seeds', help='a gwt_kd_compare results name under bench/results/')
p.set_defaults(name=None); a = parse(p)  # --name default: {run}_paired
if a.quick: p.error('--quick: this script trains nothing and runs in seconds; run it without --quick')
d = json.loads((RESULTS / f'{a.run}.json').read_text())
df = pd.DataFrame(d['rows'])
out = []
for s in sorted(df.set.unique()):
    piv = df[df.set == s].pivot(index='seed', columns='row', values='acc')
    one = 1 / int(df[df.set == s].n_test.iloc[0])
    for base in ('student', 'kd_fixed'):
        diff = piv['gwt'] - piv[base]
        wil = stats.wilcoxon(piv['gwt'], piv[base]).pvalue if (diff.abs() > 1e-9).any() else float('nan')
        out.append({'set': s, 'vs': base, 'seeds': len(diff), 'mean_diff': diff.mean(), 'std_diff': diff.std(),
                    'wins': int((diff > 1e-9).sum()), 'ties': int((diff.abs() <= 1e-9).sum()), 'losses': int((diff < -1e-9).sum()),
                    'per_seed_test_series': ' '.join(f'{v:+d}' for v in (diff / one).round().astype(int)),
                    't_test_p': stats.ttest_rel(piv['gwt'], piv[base]).pvalue, 'wilcoxon_p': wil})
res = pd.DataFrame(out)
text = (f"Per-seed test accuracies from `bench/results/{a.run}.json` (command: `{d['command']}`). `gwt` minus the other row, "
        f"paired by seed; p-values of the paired t-test and the Wilcoxon signed-rank test (two-sided, scipy).\n\n" + md_table(res))
write(a.name or f'{a.run}_paired', {'run': a.run, 'rows': out}, text, out=a.out)
