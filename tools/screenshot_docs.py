#!/usr/bin/env python
"""Screenshots of the built docs site, to look at its pages the way a reader does (not run in CI).

Builds the site with `tools/build_site.py` (into `_site/`; its problems are printed, not fatal here), then takes a
screenshot of each page with headless Chromium (Debian: `apt-get update && apt-get install -y chromium`) into
`out/screenshots/<page>.png`; `--offset` takes more screenshots further down a page (a long page is cut into
several), `--width` shows how the layout fits a narrow window.

    python tools/screenshot_docs.py                                # index, patch_mae, gwt_kd
    python tools/screenshot_docs.py --pages layers --offset 0 3000 --height 2000
    python tools/screenshot_docs.py --pages patch_mae --no-build   # reuse _site/
    python tools/screenshot_docs.py --pages sd_mae --at results --no-build --height 1400  # from a heading
    python tools/screenshot_docs.py --pages 01_patch_mae.html      # notebook or page names both work
"""
import argparse, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if exe := shutil.which(name): return exe
    sys.exit("no Chromium found: install it (Debian/Ubuntu: apt-get update && apt-get install -y chromium)")

def screenshot(html:Path, png:Path, width=1280, height=2400, offset=0, exe=None, at=None):
    """One PNG of `html`, `height` pixels tall, starting `offset` pixels down the page, or at the element with id
    `at` (a heading's anchor, e.g. `results`); the sidebar stays in view."""
    src = html
    if offset or at:  # Chromium's --screenshot shows the top of the page: shift a copy of the page up instead
        src = html.with_name(f".{html.stem}_{offset}_{at or ''}.html")
        shift = (f'<style>body {{ margin-top: -{offset}px !important; }}</style>' if not at else
                 f'<script>addEventListener("load", () => {{ const e = document.getElementById({at!r}); if (e) '
                 f'document.body.style.marginTop = (-e.getBoundingClientRect().top + 16) + "px"; }});</script>')
        src.write_text(html.read_text().replace('</head>', shift + '</head>', 1))
    cmd = [exe or chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--allow-file-access-from-files',
           f'--screenshot={png}', f'--window-size={width},{height}', '--virtual-time-budget=3000', src.resolve().as_uri()]
    try: r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        if src != html: src.unlink()
    if r.returncode or not png.exists(): sys.exit(f"chromium failed on {html}:\n{r.stderr[-2000:]}")
    return png

def page_file(site:Path, name:str)->Path|None:
    "The page for a page name (`patch_mae`, `patch_mae.html`) or notebook name (`01_patch_mae`)."
    stem = Path(name).stem
    if (site/f"{stem}.html").exists(): return site/f"{stem}.html"
    for f in sorted(site.glob('*.html')):  # a notebook's page is named by nbdev's `output-file`: each page says its notebook
        if f"<!-- notebook: {stem}.ipynb -->" in f.read_text(errors='ignore')[:2000]: return f
    return None

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--pages', nargs='*', default=['index', 'patch_mae', 'gwt_kd'], help='page or notebook names')
    ap.add_argument('--site', default='_site', help='the built site')
    ap.add_argument('--out', default='out/screenshots', help='folder for the PNGs')
    ap.add_argument('--width', type=int, default=1280)
    ap.add_argument('--height', type=int, default=2400)
    ap.add_argument('--offset', type=int, nargs='*', default=[0], help='pixels down the page, one screenshot each')
    ap.add_argument('--at', nargs='*', default=[], help='anchors (heading ids) to start screenshots at, one each')
    ap.add_argument('--no-build', action='store_true', help='use the site already in --site')
    a = ap.parse_args()
    exe, site = chromium(), ROOT/a.site
    if not a.no_build:
        subprocess.run([sys.executable, str(ROOT/'tools'/'build_site.py'), '--out', str(site)], cwd=ROOT)
    out = ROOT/a.out; out.mkdir(parents=True, exist_ok=True)
    for page in a.pages:
        html = page_file(site, page)
        if html is None: print(f"no page {page!r} in {a.site}/: was the site built?"); continue
        for off in ([] if a.at else a.offset):
            png = out/(f"{html.stem}.png" if not off else f"{html.stem}_{off}.png")
            print(f"wrote {screenshot(html, png, a.width, a.height, off, exe).relative_to(ROOT)}")
        for at in a.at:
            png = out/f"{html.stem}_{at}.png"
            print(f"wrote {screenshot(html, png, a.width, a.height, 0, exe, at).relative_to(ROOT)}")

if __name__ == '__main__': main()
