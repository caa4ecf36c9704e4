"""Data-parallel check for the Clay chapter through `patchssl.distributed.fit_distributed` (gloo, 2 CPU processes vs 1).

1. TA regression (deterministic: no masks, no dropout): 2 torchrun processes on the global batches vs one process
   on the same global batches in the order the ranks see them; the weights must agree (and be identical on both ranks).
2. MAE pretraining of ClaySSL under torchrun: both ranks end with identical weights (gradients averaged), the loss falls.

    nice -n 15 python bench/clay_ddp_check.py [--threads 1] [--name clay_ddp_check] [--out DIR]

`--quick`: one epoch per run instead of three (the same checks).

Each process uses --threads torch threads (default 1).
"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
from common import parser, parse, write

ap = parser(__doc__)
a = parse(ap)

SCRIPT = r'''
import sys, torch
from pathlib import Path
torch.set_num_threads(int(sys.argv[3])); epochs = int(sys.argv[4])
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from patchssl.distributed import fit_distributed, rank_world
from patchssl.clay_ta import ClayEncoder, ClayTA, ta_learner, ClaySSL, ssl_learner, BT_WAVES_UM, RF_WAVES_UM
out, task, bs = Path(sys.argv[1]), sys.argv[2], 8
g = torch.Generator().manual_seed(0)
n = 64
x, t7 = torch.randn(n, 19, 9, 9, generator=g), torch.randn(n, 7, generator=g)
loc = torch.tensor([[36., 128., 2000.]]).repeat(n, 1); lc = torch.zeros(n, 17); lc[:, 3] = 1
y = x[:, 6, 4, 4] * .8 + .1 * torch.randn(n, generator=g)
rank, world = rank_world()
torch.manual_seed(0)
if task == 'ta':
    ds = [(x[i], t7[i], loc[i], lc[i], y[i]) for i in range(n)]
    if world == 1:  # the replay: global batches in the order the two ranks see them
        per = n // 2
        order = [r * per + k * bs + j for k in range(per // bs) for r in range(2) for j in range(bs)]
        ds, bs = [ds[i] for i in order], 2 * bs
    model = ClayTA(ClayEncoder(2, 32, 2, 1))
    learn = ta_learner(DataLoaders(DataLoader(ds, bs=bs), DataLoader(ds, bs=16), device='cpu'), model)
else:
    model = ClaySSL(ClayEncoder(2, 32, 2, 1), BT_WAVES_UM + RF_WAVES_UM, gsd=2000.)
    ds = [(x[i, :16, :8, :8], torch.zeros(8), torch.tensor(0.)) for i in range(n)]
    learn = ssl_learner(DataLoaders(DataLoader(ds, bs=bs, shuffle=True), DataLoader(ds, bs=16), device='cpu'), model)
with learn.no_bar(), learn.no_logging(): main = fit_distributed(learn, epochs, 3e-3, seed=1)
torch.save(dict(state=model.state_dict(), main=main, losses=[float(v[0]) for v in learn.recorder.values]), out/f'{task}_{world}_rank{rank}.pt')
'''

def launch(d, task, n_proc):
    env = {**os.environ, 'OMP_NUM_THREADS': str(a.threads), 'PYTHONWARNINGS': 'ignore'}
    cmd = ([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={n_proc}'] if n_proc > 1 else [sys.executable])
    r = subprocess.run(cmd + [str(d/'s.py'), str(d), task, str(a.threads), str(1 if a.quick else 3)], capture_output=True, text=True, env=env, timeout=600)
    if r.returncode: raise RuntimeError(r.stdout[-2000:] + r.stderr[-3000:])

t0 = time.time()
d = Path(tempfile.mkdtemp()); (d/'s.py').write_text(SCRIPT)
launch(d, 'ta', 2); launch(d, 'ta', 1); launch(d, 'mae', 2)
L = lambda f: torch.load(d/f, weights_only=True)
r0, r1, single = L('ta_2_rank0.pt'), L('ta_2_rank1.pt'), L('ta_1_rank0.pt')
ranks_equal = all(torch.equal(r0['state'][k], r1['state'][k]) for k in r0['state'])
worst = max((r0['state'][k].float() - v.float()).abs().max().item() for k, v in single['state'].items())
m0, m1 = L('mae_2_rank0.pt'), L('mae_2_rank1.pt')
mae_equal = all(torch.equal(m0['state'][k], m1['state'][k]) for k in m0['state'])
res = dict(ta_ranks_identical=ranks_equal, ta_max_abs_diff_vs_single=worst, mae_ranks_identical=mae_equal,
           mae_train_loss_per_epoch_rank0=m0['losses'], main_flags=[r0['main'], r1['main']], seconds=round(time.time() - t0, 1))
print(res)
assert ranks_equal and mae_equal and worst < 1e-5 and res['main_flags'] == [True, False]
table = ("| check | result |\n|---|---|\n"
         f"| TA regression, 2 gloo processes: weights identical on both ranks | {ranks_equal} |\n"
         f"| TA regression, 2 processes vs 1 process on the same global batches: largest weight difference | {worst:.1e} |\n"
         f"| ClaySSL MAE pretraining, 2 processes: weights identical on both ranks | {mae_equal} |\n"
         f"| ClaySSL MAE pretraining, rank-0 train loss per epoch | {', '.join(f'{v:.3f}' for v in m0['losses'])} |\n")
write(a.name, res, table, out=a.out)
