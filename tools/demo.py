#!/usr/bin/env python
"""The README's main job: run the 00_patching tutorial end to end on the bundled ETTh1 and write it out.

Executes `nbs/00_patching.ipynb` in a fresh Jupyter kernel, then writes to `out/`:
`00_patching.ipynb` (executed), `00_patching.html` (the page as a reader sees it) and every figure as
`figures/00_patching_<n>.png`. Fails if any cell fails.

    python tools/demo.py [--out out] [--nb nbs/00_patching.ipynb]
"""
import argparse, base64, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'out'), help='output folder (default: out/)')
    ap.add_argument('--nb', default=str(ROOT/'nbs'/'00_patching.ipynb'), help='notebook to run')
    a = ap.parse_args()
    nb_path, out = Path(a.nb), Path(a.out)
    (out/'figures').mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(nb_path, as_version=4)
    t = time.time()
    print(f"running {nb_path.name} ...", flush=True)
    NotebookClient(nb, timeout=1200, kernel_name='python3', resources={'metadata': {'path': str(nb_path.parent)}}).execute()
    print(f"  done in {time.time() - t:.0f} s")
    nbformat.write(nb, out/nb_path.name)
    n = 0
    for c in nb.cells:
        for o in c.get('outputs', []):
            if 'image/png' in o.get('data', {}):
                n += 1
                (out/'figures'/f"{nb_path.stem}_{n}.png").write_bytes(base64.b64decode(o['data']['image/png']))
    html, _ = HTMLExporter().from_notebook_node(nb)
    (out/f"{nb_path.stem}.html").write_text(html)
    print(f"wrote {out/nb_path.name}, {out/(nb_path.stem + '.html')} and {n} figure(s) in {out/'figures'}")
    if n == 0: raise SystemExit("the tutorial drew no figure: something is wrong")

if __name__ == '__main__': main()
