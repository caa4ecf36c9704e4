#!/usr/bin/env python
"""Codebook use over VQShape pretraining, with and without dead-code re-seeding (chapter 04).

Two pretrainings of the same model from the same initialisation on the same series (every variable of the train parts
of the sets shipped with aeon, labels unused), one with `dead_after` re-seeding and one without. Per epoch: the share
of codes the validation series use, the perplexity, the codes no training step chose during the epoch, and the four
validation loss terms. Writes bench/results/vqshape_usage.{json,md} and nbs/images/vqshape_usage.png.

    nice -n 15 python bench/vqshape_usage.py --threads 1
"""
import os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))
IMAGES = Path(__file__).resolve().parents[1]/'nbs'/'images'

def main():
    from common import parser, parse, write, RESULTS
    ap = parser(__doc__, name='vqshape_usage', seed=0)  # --threads, --seed, --name, --quick, --out
    ap.add_argument('--datasets', default='all')
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--n-codes', type=int, default=64)
    ap.add_argument('--dead-after', type=int, default=20)
    ap.add_argument('--lambda-entropy', type=float, default=0.1)
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--bs', type=int, default=64)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.datasets, a.epochs = 'GunPoint', 1
    figure = Path(a.out or RESULTS)/f'{a.name}.png' if a.quick else IMAGES/'vqshape_usage.png'  # quick: not over the chapter's

    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from fastai.data.core import DataLoaders
    from patchssl.data import load_uea, ArrayDataset
    from patchssl.transfer import seed_everything
    from patchssl.vqshape import vqshape_small, vqshape_learner, vqshape_sets, univariate_pool

    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    tr, va = univariate_pool(datas, a.seq_len)
    runs = {}
    for label, dead in ((f're-seeding after {a.dead_after} idle steps', a.dead_after), ('no re-seeding', None)):
        seed_everything(a.seed)
        model = vqshape_small(seq_len=a.seq_len, n_codes=a.n_codes, lambda_entropy=a.lambda_entropy, dead_after=dead)
        seed_everything(a.seed)
        dls = DataLoaders.from_dsets(ArrayDataset(tr), ArrayDataset(va), bs=a.bs, num_workers=0)
        learn = vqshape_learner(dls, model)
        t = time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
        runs[label] = dict(seconds=round(time.time() - t, 1), reseeded=int(model.codebook.n_reseeded),
                           history=[dict(zip(learn.recorder.metric_names[1:-1], map(float, v))) for v in learn.recorder.values])
        print(label, runs[label]['seconds'], 's', [round(h['codes_used'], 2) for h in runs[label]['history']], flush=True)

    fig, ax = plt.subplots(1, 3, figsize=(11, 2.8))
    for label, r in runs.items():
        ep = range(1, len(r['history']) + 1)
        ax[0].plot(ep, [h['codes_used'] for h in r['history']], marker='o', label=label)
        ax[1].plot(ep, [h['perplexity'] for h in r['history']], marker='o')
        ax[2].plot(ep, [h['dead_codes'] for h in r['history']], marker='o')
    ax[0].set_ylim(0, 1.05); ax[0].legend(fontsize=7)
    for a_, t_ in zip(ax, ['share of codes used (validation)', f'perplexity (at most {a.n_codes})', 'codes no training step chose in the epoch']):
        a_.set_title(t_, fontsize=9); a_.set_xlabel('epoch')
    fig.tight_layout(); figure.parent.mkdir(parents=True, exist_ok=True); fig.savefig(figure, dpi=110)

    rows = ['| run | seconds | codes re-seeded | codes used per epoch (validation) | perplexity, last epoch | ts / shape loss, last epoch |',
            '|---|---|---|---|---|---|']
    for label, r in runs.items():
        h = r['history']
        used = ' '.join(format(x['codes_used'], '.2f') for x in h)
        rows.append(f"| {label} | {r['seconds']} | {r['reseeded']} | {used} | "
                    f"{h[-1]['perplexity']:.1f} | {h[-1]['ts_loss']:.3f} / {h[-1]['shape_loss']:.3f} |")
    md = (f"`vqshape_small` ({a.n_codes} codes, entropy weight {a.lambda_entropy}), {a.epochs} epochs one-cycle lr {a.lr}, bs {a.bs}, on {len(tr)} "
          f"univariate series of {len(datas)} sets (validation: {len(va)} series); same initialisation and data order in both runs.\n\n" + '\n'.join(rows))
    write(a.name, dict(args=vars(a), runs=runs), md, out=a.out)

if __name__ == '__main__': main()
