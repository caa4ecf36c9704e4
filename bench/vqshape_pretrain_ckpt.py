#!/usr/bin/env python
"""Pretrain the chapter 04 benchmark VQShape (same settings and seed as `vqshape_classification.py`) and save a checkpoint
after every epoch, for the diagnosis bench (`vqshape_diagnosis.py`) to read: epoch choice on validation, feature ablations.

    nice -n 15 python bench/vqshape_pretrain_ckpt.py --threads 1 --epochs 12 --out /tmp/vqdiag/e12
"""
import argparse, json, os, sys, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, str(Path(__file__).resolve().parent))

def main():
    from common import parser, parse
    ap = parser(__doc__, seed=0)  # --threads, --seed, --quick, --out (here: the checkpoint folder, required); no results file
    out_arg = next(x for x in ap._actions if x.dest == 'out')
    out_arg.required, out_arg.help = True, 'folder for the checkpoints epochNN.pt and history.json'
    next(x for x in ap._actions if x.dest == 'name').help = argparse.SUPPRESS  # nothing is written under a name
    ap.add_argument('--datasets', default='all')
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--n-tokens', type=int, default=16)
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--bs', type=int, default=64)
    a = parse(ap)  # sets the torch threads, seeds everything with --seed
    if a.quick: a.datasets, a.epochs = 'GunPoint', 1
    from fastai.data.core import DataLoaders
    from fastai.callback.core import Callback
    from patchssl.data import load_uea, ArrayDataset
    from patchssl.transfer import seed_everything, save_checkpoint
    from patchssl.vqshape import vqshape_small, vqshape_learner, vqshape_sets, univariate_pool
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    datas = [load_uea(n, 0.2, 0) for n in vqshape_sets(a.datasets)]
    tr, va = univariate_pool(datas, a.seq_len)
    seed_everything(a.seed)
    model = vqshape_small(seq_len=a.seq_len, n_tokens=a.n_tokens)
    dls = DataLoaders.from_dsets(ArrayDataset(tr), ArrayDataset(va), bs=a.bs, num_workers=0)
    class Save(Callback):
        order = 90
        def after_epoch(self): save_checkpoint(out/f'epoch{self.epoch + 1:02d}.pt', model, epoch=self.epoch + 1)
    learn = vqshape_learner(dls, model, cbs=[Save()])
    t = time.time()
    learn.fit_one_cycle(a.epochs, a.lr)
    hist = [dict(zip(learn.recorder.metric_names[1:-1], map(float, v))) for v in learn.recorder.values]
    (out/'history.json').write_text(json.dumps(dict(args=vars(a), seconds=time.time() - t, history=hist), indent=1))
    print(f'{time.time() - t:.0f} s')

if __name__ == '__main__': main()
