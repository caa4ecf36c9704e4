"""Decoder cost of CrossMAE's cross-attention decoder vs MAE's decoder: forward FLOPs and forward+backward time of the
decoder alone (patchssl.crossmae.decoder_cost), for series (ETTh1 shapes) and images, at mask 0.75 / kept 0.25 and at
mask 0.4 (every masked token predicted).

    nice -n 15 python bench/crossmae_decoder_speed.py --threads 1
"""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
import pandas as pd
from common import parser, parse, write, md_table
from patchssl.patching import make_mask
from patchssl.crossmae import SeriesCrossMAE, ImageCrossMAE, decoder_cost, kept_mask, DECODERS

ap = parser(__doc__)
ap.add_argument('--bs', type=int, default=64)
ap.add_argument('--reps', type=int, default=7)
a = parse(ap)
if a.quick: a.bs, a.reps = 4, 1
SIZE = dict(d_model=64, n_heads=4, n_layers=2, decoder_dim=64, decoder_heads=4, decoder_layers=2)
cases = [  # name, builder(decoder, kept, **kw), input, mask grid
    ('series ETTh1 L=512 p=16 (32 x 7 = 224 tokens)', lambda **k: SeriesCrossMAE(7, 512, patch_len=16, **SIZE, **k),
     torch.randn(a.bs, 512, 7), (a.bs, 32, 7), 'patch_var'),
    ('series L=336 p=16 (21 x 7 = 147 tokens)', lambda **k: SeriesCrossMAE(7, 336, patch_len=16, **SIZE, **k),
     torch.randn(a.bs, 336, 7), (a.bs, 21, 7), 'patch_var'),
    ('image 112 px, patch 8, 3 bands (14 x 14 = 196 tokens)', lambda **k: ImageCrossMAE(3, 112, patch_size=8, **SIZE, **k),
     torch.randn(a.bs, 3, 112, 112), (a.bs, 196, 1), 'patch'),
]
rows = []
for name, build, x, grid, strat in cases:
    for ratio, kept in [(0.75, 0.25), (0.4, None)]:
        m = make_mask(grid, ratio, strat, torch.Generator().manual_seed(0))
        m = m if strat == 'patch_var' else m[..., 0]
        pred = kept_mask(m, kept, torch.Generator().manual_seed(1))
        variants = [('mae', {}), ('cross', {}), ('cross + self-attn', dict(decoder_self_attn=True)), ('cross + WFM', dict(weight_fm=True))]
        res = {}
        for label, extra in variants:
            dec = 'mae' if label == 'mae' else 'cross'
            res[label] = decoder_cost(build(decoder=dec, kept_mask_ratio=kept, **extra), x, m, pred, reps=a.reps)
        for label, r in res.items():
            rows.append(dict(case=name, mask=ratio, kept=kept if kept else 'all masked', decoder=label, queries=r['queries'],
                             gflops=round(r['gflops'], 3), ms=round(r['ms'], 1),
                             flops_ratio=round(res['mae']['gflops'] / r['gflops'], 2), speedup=round(res['mae']['ms'] / r['ms'], 2)))
        print(rows[-4:], flush=True)
df = pd.DataFrame(rows)
note = (f"Batch {a.bs}; encoder D=64, 2 layers; decoder width 64, 2 layers, 4 heads for both decoders. `gflops`: decoder + projector "
        f"forward FLOPs (torch FlopCounterMode, attention included); `ms`: best of {a.reps} forward+backward passes of decoder + projector "
        f"on the encoder's output; `flops_ratio`/`speedup`: MAE decoder divided by this row.\n\n")
write(a.name, dict(rows=rows, args=vars(a)), note + md_table(df, 3), out=a.out)
