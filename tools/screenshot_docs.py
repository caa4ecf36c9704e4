#!/usr/bin/env python
"""Screenshots of rendered docs pages, to look at them the way a reader does (not run in CI).

Renders the pages with `tools/check_docs.py` (into `_docs_html/`; its problems are printed, not fatal here), then
takes a full-width screenshot of each page with headless Chromium (Debian: `apt-get install -y chromium`) into
`out/screenshots/<page>.png`; `--offset` pages further down (a long page is cut into several screenshots).

    python tools/screenshot_docs.py                         # 00_patching and 01_patch_mae
    python tools/screenshot_docs.py 00a_data --height 4000
    python tools/screenshot_docs.py 00_patching --no-render # reuse _docs_html/
"""
import argparse, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if exe := shutil.which(name): return exe
    sys.exit("no Chromium found: install it (Debian/Ubuntu: apt-get install -y chromium)")

def screenshot(html:Path, png:Path, width=1280, height=2400, offset=0, exe=None):
    "One PNG of `html`, `height` pixels tall, starting `offset` pixels down the page."
    src = html
    if offset:  # Chromium's --screenshot shows the top of the page: shift a copy of the page up instead
        src = html.with_name(f".{html.stem}_{offset}.html")
        src.write_text(html.read_text().replace('</head>', f'<style>body {{ margin-top: -{offset}px !important; }}</style></head>', 1))
    cmd = [exe or chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
           f'--screenshot={png}', f'--window-size={width},{height}', '--virtual-time-budget=3000', src.resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if src != html: src.unlink()
    if r.returncode or not png.exists(): sys.exit(f"chromium failed on {html}:\n{r.stderr[-2000:]}")
    return png

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pages', nargs='*', default=['00_patching', '01_patch_mae'], help='page names (notebook stems)')
    ap.add_argument('--out', default='out/screenshots', help='folder for the PNGs')
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--height', type=int, default=2400)
    ap.add_argument('--offset', type=int, nargs='*', default=[0], help='pixels down the page, one screenshot each')
    ap.add_argument('--no-render', action='store_true', help='use the HTML already in _docs_html/')
    a = ap.parse_args()
    exe = chromium()
    if not a.no_render:
        subprocess.run([sys.executable, str(ROOT/'tools'/'check_docs.py'), *a.pages], cwd=ROOT)
    out = ROOT/a.out; out.mkdir(parents=True, exist_ok=True)
    for page in a.pages:
        html = ROOT/'_docs_html'/f"{page}.html"
        if not html.exists(): print(f"no {html.relative_to(ROOT)}: did check_docs render it?"); continue
        for off in a.offset:
            png = out/(f"{page}.png" if not off else f"{page}_{off}.png")
            print(f"wrote {screenshot(html, png, a.width, a.height, off, exe).relative_to(ROOT)}")

if __name__ == '__main__': main()
