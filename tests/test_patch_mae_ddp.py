"""Data-parallel PatchMAE pretraining: 2 CPU processes (torch DDP, gloo) must end with identical weights, equal to a
single process trained on the same global batch. Plain torch DDP: fastai's `distributed` module needs `accelerate`."""
import os, tempfile
from pathlib import Path
import torch, torch.distributed as dist, torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP

STEPS, B, L, N, P_LEN = 3, 8, 64, 3, 16

def _data():
    from patchssl.patching import make_mask
    x = torch.randn(B, L, N, generator=torch.Generator().manual_seed(0))
    mask = make_mask((B, L // P_LEN, N), 0.5, 'patch_var', torch.Generator().manual_seed(1))  # exact count per sample
    return x, mask

def _model():
    from patchssl.patch_mae import patch_mae_tiny
    torch.manual_seed(0)
    return patch_mae_tiny(N, L, patch_len=P_LEN)

def _train(model, core, x, mask):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(STEPS):
        loss = core.forward_loss(x, model(x, mask), mask)
        opt.zero_grad(); loss.backward(); opt.step()

def _worker(rank, world, init_file, out):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=world)
    try:
        x, mask = _data()
        sl = slice(rank * B // world, (rank + 1) * B // world)
        core = _model()
        _train(DDP(core), core, x[sl], mask[sl])  # DDP averages the gradients of the two halves
        torch.save(core.state_dict(), Path(out) / f'rank{rank}.pt')
    finally: dist.destroy_process_group()

def test_ddp_gloo_matches_single_process():
    d = Path(tempfile.mkdtemp())
    mp.spawn(_worker, args=(2, str(d / 'init'), str(d)), nprocs=2, join=True)
    r0, r1 = (torch.load(d / f'rank{r}.pt', weights_only=True) for r in (0, 1))
    single = _model(); x, mask = _data(); _train(single, single, x, mask)
    start = _model().state_dict()
    moved = False
    for k, v in single.state_dict().items():
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        assert torch.allclose(r0[k], v, atol=1e-5), f"{k}: DDP and single process differ by {(r0[k] - v).abs().max():.2e}"
        moved |= not torch.equal(v, start[k])
    assert moved, "training did not change the weights; the comparison would be empty"
