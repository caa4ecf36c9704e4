#!/usr/bin/env python
"""What `classify_sets(combine='select')` (the default, chapter 04) costs against `combine='concat'`, and a check that the
library reproduces `bench/results/vqshape_stack.json` (issue 24).

For a checkpoint (default: the committed benchmark model `bench/results/vqshape_small_seed0.pt`, `vqshape_small`, 12 epochs,
pretraining seed 0) and a few bundled sets, `classify_sets` is run end to end (tokenization, feature families, fits, test
scoring) once with `combine='concat'` and once with `combine='select'`; both times are wall-clock seconds of the whole call.
Every choice is made on the training split (C, the rule); test is only scored. With `--stack` the select rows are compared
with that file's records of the same pretraining seed (its `library_select` column: the rule with the best CV accuracy of
equal/concat, vote, stack): the same rule and the same test accuracy are expected.

    python bench/vqshape_select_cost.py --threads 1 --datasets GunPoint,ItalyPowerDemand,BasicMotions,ArrowHead

`--quick`: GunPoint only.
"""
import json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parser, parse, write, md_table

ROOT = Path(__file__).resolve().parents[1]

def main():
    p = parser(__doc__)
    p.add_argument('--ckpt', default=str(ROOT/'bench'/'results'/'vqshape_small_seed0.pt'))
    p.add_argument('--ckpt-seed', type=int, default=0, help='the pretraining seed of --ckpt (which records of --stack to compare with)')
    p.add_argument('--datasets', default='GunPoint,ItalyPowerDemand,BasicMotions')
    p.add_argument('--stack', default=str(ROOT/'bench'/'results'/'vqshape_stack.json'), help="a vqshape_stack.py JSON to compare with ('' : none)")
    a = parse(p)
    if a.quick: a.datasets = 'GunPoint'
    import numpy as np, pandas as pd
    from patchssl.data import load_uea
    from patchssl.vqshape import load_vqshape, vqshape_sets, classify_sets
    model = load_vqshape(a.ckpt)
    recs = json.loads(Path(a.stack).read_text())['records'] if a.stack else []
    lib = ['equal', 'vote', 'stack']
    rows = []
    for name in vqshape_sets(a.datasets):
        d = load_uea(name, 0.2, 0)  # as bench/vqshape_pretrain_ckpt.py and vqshape_stack.py load them
        out = {}
        for comb in ('concat', 'select'):
            t = time.perf_counter()
            out[comb] = classify_sets(model, [d], seed=0, combine=comb)[0]
            out[comb]['seconds'] = time.perf_counter() - t
        for kind in ('token', 'token+histogram'):
            r = dict(dataset=name, kind=kind, concat=out['concat'][kind]['test_acc'], select=out['select'][kind]['test_acc'],
                     rule=out['select'][kind]['way'], concat_s=round(out['concat']['seconds'], 1), select_s=round(out['select']['seconds'], 1))
            b = next((x for x in recs if x['seed'] == a.ckpt_seed and x['dataset'] == name and x['row'] == kind), None)
            if b is not None:
                pick = max(lib, key=lambda k: (b['cv'][k], -lib.index(k)))
                r |= dict(stack_rule={'equal': 'concat'}.get(pick, pick), stack_acc=b[pick], stack_concat=b['equal'])
                r['matches'] = bool(r['stack_rule'] == r['rule'] and abs(r['stack_acc'] - r['select']) < 1e-9 and abs(r['stack_concat'] - r['concat']) < 1e-9)
            rows.append(r)
            print(r, f"load {os.getloadavg()[0]:.2f}", flush=True)
    df = pd.DataFrame(rows)
    per_set = df.drop_duplicates('dataset')
    ratio = per_set['select_s'].sum() / per_set['concat_s'].sum()
    md = (f"Checkpoint `{a.ckpt}` (pretraining seed {a.ckpt_seed}); `classify_sets` end to end with `combine='concat'` and with "
          f"`combine='select'` (the default), every choice on the training split; seconds are wall-clock for the whole call "
          f"(all three kinds of `FEATURE_KINDS`, tokenization included), torch threads {a.threads}.\n\n"
          f"Total: concat {per_set['concat_s'].sum():.1f} s, select {per_set['select_s'].sum():.1f} s (x{ratio:.2f}).\n"
          + (f"Rows where the library's select (and concat) reproduce `{a.stack}`'s records: {int(df['matches'].sum())} of {len(df)}.\n" if 'matches' in df else '')
          + '\n' + md_table(df))
    write(a.name, dict(args=vars(a), rows=rows, ratio=ratio), md, out=a.out)

if __name__ == '__main__': main()
