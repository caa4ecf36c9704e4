#!/usr/bin/env python
"""Build the documentation website offline into `_site/` (no Quarto needed), and check it; CI runs it.

The pages come from the docs check (`tools/check_docs.py`: nbdev's own processing of every notebook, as
`nbdev-docs` runs it before Quarto, then nbconvert's HTML and the page checks), in one pass. This script then
does what Quarto's website would:
- one page per notebook, named as nbdev names it for Quarto (`output-file`: `01_patch_mae.ipynb` -> `patch_mae.html`),
  in the order of `nbs/sidebar.yml` (its sections, Foundation / Methods), the index page from `nbs/index.ipynb`;
- a sidebar on every page with the current page marked and its sections listed, previous / next links;
- heading anchors as Pandoc makes them (`### PatchITransformer.from_checkpoint` -> `#patchitransformer.from_checkpoint`),
  so nbdev's doc links (backticked names such as `patchssl.layers.Attention` or `Attention`, which nbdev turns into
  links to `<doc_host>/layers.html#attention`) become relative links to that anchor; links to `other.ipynb` become
  links to its page;
- figures: notebook outputs are embedded, files loaded from `nbs/images` are copied to `_site/images`; TeX
  (`$\\lambda$`, `$$...$$`) becomes MathML, which browsers draw (no MathJax download); exported source folds as in Quarto;
- one shared stylesheet (`_site/assets/`), code wrapped to the page width, no scripts or downloads: the site opens
  from the file system (`_site/index.html`).

Then it checks the built site and fails (exit 1, one line per problem naming the page) on: a docs-check problem
(see tools/check_docs.py), a link to a missing page, file or `#anchor`, a missing image, raw markup in the visible
text (front matter, `{target=`/`{#id}` attributes, `:::` fences, `#|` directives in code, unrendered markdown
links or TeX), a page without a `<title>` or `<h1>`, a notebook missing from the sidebar.

    python tools/build_site.py              # every page, into _site/
    python tools/build_site.py --out /tmp/s # elsewhere
    python tools/build_site.py --check-only # only check an already built _site/

With Quarto installed, `nbdev-docs` builds the same notebooks into `_docs/` instead (nbs/_quarto.yml).
"""
import argparse, html, re, shutil, sys, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import check_docs  # noqa: E402  (the shared processing, rendering and page checks)

SITE_CSS = """
html { scroll-padding-top: 1rem; }
body.jp-Notebook { margin: 0; padding: 0; overflow: visible; background: #fff; }
.site-sidebar { position: fixed; top: 0; bottom: 0; left: 0; width: 17rem; box-sizing: border-box; overflow-y: auto;
  padding: 1.2rem 1rem 2rem 1.2rem; background: #f7f8fa; border-right: 1px solid #e3e5e8;
  font-family: var(--jp-ui-font-family); font-size: 0.92rem; line-height: 1.35; }
.site-sidebar a { color: #2b2f33; text-decoration: none; display: block; padding: 0.18rem 0.5rem; border-radius: 4px; }
.site-sidebar a:hover { background: #e8ebef; }
.site-sidebar .site-title { font-size: 1.35rem; font-weight: 600; padding: 0 0.5rem 0.8rem; color: #1b5e9e; }
.site-sidebar ul { list-style: none; margin: 0; padding: 0; }
.site-sidebar li { margin: 0.05rem 0; }
.site-sidebar .sidebar-section > span { display: block; margin: 0.9rem 0 0.2rem; padding: 0 0.5rem; font-weight: 600;
  font-size: 0.78rem; letter-spacing: 0.06em; text-transform: uppercase; color: #6a7077; }
.site-sidebar a.active { background: #dde8f5; color: #124a80; font-weight: 600; }
.site-sidebar .page-toc { margin: 0.15rem 0 0.4rem 0.7rem; border-left: 2px solid #dde8f5; }
.site-sidebar .page-toc a { font-size: 0.85rem; color: #4a5056; padding: 0.1rem 0.5rem; }
.site-main { margin-left: 17rem; padding: 1.5rem 2.5rem 3rem; max-width: 62rem; box-sizing: border-box; }
.site-main > .jp-Cell:first-child { margin-top: 0; }
.page-nav { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; padding-top: 1rem;
  border-top: 1px solid #e3e5e8; font-family: var(--jp-ui-font-family); }
.page-nav a { display: block; max-width: 48%; padding: 0.6rem 0.9rem; border: 1px solid #e3e5e8; border-radius: 6px;
  text-decoration: none; color: #1b5e9e; }
.page-nav a:hover { background: #f7f8fa; }
.page-nav a small { display: block; color: #6a7077; font-size: 0.78rem; }
.page-nav .next { margin-left: auto; text-align: right; }
/* code wraps to the page width instead of running off it; diagrams in the prose keep their lines (and scroll) */
.jp-InputArea-editor .highlight pre, .jp-RenderedHTMLCommon pre, .jp-OutputArea-output pre {
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; }
.jp-MarkdownCell .jp-RenderedMarkdown pre { white-space: pre; overflow-x: auto; font-size: 0.85em; }
.jp-InputArea-editor { overflow: visible; }
.jp-InputArea-editor .highlight pre { padding: 0.5rem 0.7rem; margin: 0; }
.jp-OutputArea-output { overflow-x: auto; }
.jp-RenderedImage img, .jp-RenderedMarkdown img { max-width: 100%; height: auto; }
.jp-RenderedHTMLCommon a { color: #1b5e9e; }
.jp-RenderedHTMLCommon a code { color: inherit; }
.jp-RenderedHTMLCommon h2 { margin-top: 2rem; }
a.anchor-link { display: none; }
details.code-fold > summary { cursor: pointer; font-family: var(--jp-ui-font-family); font-size: 0.85rem; color: #6a7077;
  margin: 0.2rem 0; }
math[display=block] { margin: 0.8rem 0; }
@media (max-width: 860px) {
  .site-sidebar { position: static; width: auto; border-right: none; border-bottom: 1px solid #e3e5e8; max-height: none; }
  .site-main { margin-left: 0; padding: 1rem; }
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<!-- notebook: {notebook} -->
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
{description}<link rel="stylesheet" href="assets/notebook.css">
<link rel="stylesheet" href="assets/site.css">
</head>
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<nav class="site-sidebar" aria-label="Chapters">
{sidebar}
</nav>
<main class="site-main">
{content}
{pager}
</main>
</body>
</html>
"""

# ---------------------------------------------------------------------------------------------------- structure

def read_sidebar(path:Path):
    "`sidebar.yml` as a list of (section title or None, [notebook file names]), in order."
    import yaml
    contents = (yaml.safe_load(path.read_text()) or {}).get('website', {}).get('sidebar', {}).get('contents', [])
    def item(x): return x if isinstance(x, str) else x.get('href') if isinstance(x, dict) and 'href' in x else None
    out, loose = [], []
    for x in contents:
        if isinstance(x, dict) and 'section' in x:
            if loose: out.append((None, loose)); loose = []
            out.append((str(x['section']), [i for i in map(item, x.get('contents', [])) if i]))
        elif (i := item(x)): loose.append(i)
    if loose: out.append((None, loose))
    return out

def pandoc_id(text:str)->str:
    "The identifier Pandoc (so Quarto) gives a heading: lower case, spaces to `-`, only `[\\w.-]`, from the first letter."
    s = re.sub(r'\s+', '-', text.strip().lower())
    s = re.sub(r'[^\w.-]', '', s)
    s = re.sub(r'^[^a-z]+', '', s)
    return s or 'section'

# ---------------------------------------------------------------------------------------------------- math

_MATH_RE = re.compile(r'\$\$(.+?)\$\$|(?<![\\$\w])\$(?![\s$])([^$\n]*?[^\s\\$])\$(?!\d)', re.S)

def mathml(tex:str, display=False)->str:
    "TeX as MathML, which browsers draw themselves (no MathJax download; latex2mathml is a dev dependency)."
    from latex2mathml.converter import convert
    return convert(tex, display='block' if display else 'inline')

def render_math(soup, problems):
    "Replace `$...$` / `$$...$$` in rendered markdown (not in code) with MathML."
    from bs4 import BeautifulSoup
    for md in soup.select('.jp-RenderedMarkdown'):
        for t in list(md.find_all(string=_MATH_RE)):
            if t.find_parent(['code', 'pre', 'script', 'style']): continue
            parts, last, s = [], 0, str(t)
            for m in _MATH_RE.finditer(s):
                display = m.group(1) is not None
                tex = (m.group(1) if display else m.group(2)).strip()
                try: ml = mathml(tex, display)
                except ImportError:
                    problems.append("TeX on the page but latex2mathml is not installed: pip install -e '.[dev]'"); return
                except Exception as e:
                    problems.append(f"TeX that latex2mathml cannot convert ({type(e).__name__}): {tex[:120]!r}"); continue
                parts += [html.escape(s[last:m.start()]), ml]
                last = m.end()
            if not parts: continue
            parts.append(html.escape(s[last:]))
            t.replace_with(BeautifulSoup(''.join(parts), 'html.parser'))

# ---------------------------------------------------------------------------------------------------- pages

def notebook_css(page_html:str)->str:
    "The stylesheets nbconvert inlines in every page (JupyterLab's, Pygments', the checker's), as one file."
    head = page_html[:page_html.find('<body')]
    return '\n'.join(re.findall(r'<style[^>]*>(.*?)</style>', head, flags=re.S))

def page_soup(page):
    """The page's <main> content parsed, headings given Pandoc's anchors (nbconvert's own ¶ links follow);
    returns (soup, ids on the page, [(id, text) of its h2 sections])."""
    from bs4 import BeautifulSoup
    h = page.html
    i, j = h.find('<main>'), h.rfind('</main>')
    soup = BeautifulSoup(h[i + len('<main>'):j] if i >= 0 else h[h.find('<body'):], 'html.parser')
    seen, old2new, toc = {}, {}, []
    for hd in soup.find_all(re.compile(r'^h[1-6]$')):
        if 'page-title' in (hd.get('class') or []): continue
        text = hd.get_text().replace('¶', '').strip()
        new = pandoc_id(text)
        if new in seen: seen[new] += 1; new = f"{new}-{seen[new]}"
        else: seen[new] = 0
        if hd.get('id'): old2new[hd['id']] = new
        hd['id'] = new
        if hd.name == 'h2' and not hd.find_parent(class_='jp-OutputArea'): toc.append((new, text))
    for a in soup.select('a.anchor-link[href^="#"]'):
        if a['href'][1:] in old2new: a['href'] = '#' + old2new[a['href'][1:]]
    return soup, {t['id'] for t in soup.find_all(id=True)}, toc

def fix_links(soup, names:dict, ids:dict, doc_prefixes, notes):
    """Links as the site needs them: nbdev's doc links (to the published site) relative, `x.ipynb` to x's page.
    A doc link to a method without an entry of its own (`Class.method`) goes to its class's entry, as a note."""
    for a in soup.find_all('a', href=True):
        href, doclink = a['href'], False
        for pre in doc_prefixes:
            if href.startswith(pre): href, doclink = href[len(pre):] or 'index.html', True; break
        u = urlsplit(href)
        if not u.scheme and not u.netloc and u.path.endswith('.ipynb'):
            href = names.get(Path(unquote(u.path)).name, u.path) + (f"#{u.fragment}" if u.fragment else '')
            u = urlsplit(href)
        if doclink and u.fragment and u.path in ids and u.fragment not in ids[u.path] and '.' in u.fragment:
            owner = u.fragment.rsplit('.', 1)[0]
            if owner in ids[u.path]:
                notes.append(f"`{a.get_text()}` has no API entry of its own on {u.path}: linked to #{owner}")
                href = f"{u.path}#{owner}"
        a['href'] = href

def fold_exports(soup):
    "nbdev's exported source (`#| code-fold: show`) in a <details>, open, as Quarto shows it."
    for cell in soup.select('.celltag_code_fold_show, .celltag_code_fold_true'):
        inp = cell.select_one('.jp-Cell-inputWrapper')
        if inp is None: continue
        det = soup.new_tag('details', attrs={'class': 'code-fold'})
        if 'celltag_code_fold_show' in cell['class']: det['open'] = ''
        summ = soup.new_tag('summary'); summ.string = 'Exported source'
        inp.wrap(det); det.insert(0, summ)

def sidebar_html(site_title, structure, pages_by_nb, current, toc, home='index.html'):
    "The sidebar: site title, the chapters by section, the current page marked with its sections below it."
    def entry(nb):
        p = pages_by_nb.get(nb)
        if p is None: return ''
        title = html.escape('Overview' if p.output_file == 'index.html' and p.title == site_title else p.title or Path(nb).stem)
        if nb != current: return f'<li><a href="{p.output_file}">{title}</a></li>'
        sub = ''.join(f'<li><a href="#{i}">{html.escape(t)}</a></li>' for i, t in toc)
        return (f'<li><a class="active" aria-current="page" href="{p.output_file}">{title}</a>'
                + (f'<ul class="page-toc">{sub}</ul>' if sub else '') + '</li>')
    parts = [f'<a class="site-title" href="{home}">{html.escape(site_title)}</a>', '<ul class="sidebar-items">']
    for section, nbs in structure:
        items = ''.join(entry(nb) for nb in nbs)
        parts.append(items if section is None else
                     f'<li class="sidebar-section"><span>{html.escape(section)}</span><ul>{items}</ul></li>')
    return '\n'.join(parts + ['</ul>'])

def pager_html(order, pages_by_nb, current):
    "Previous / next links in sidebar order."
    k = order.index(current)
    prev, nxt = (order[k - 1] if k > 0 else None), (order[k + 1] if k + 1 < len(order) else None)
    def link(nb, cls, label):
        p = pages_by_nb[nb]
        return f'<a class="{cls}" href="{p.output_file}"><small>{label}</small>{html.escape(p.title or nb)}</a>'
    return ('<nav class="page-nav" aria-label="Previous and next">' + (link(prev, 'prev', '&larr; Previous') if prev else '')
            + (link(nxt, 'next', 'Next &rarr;') if nxt else '') + '</nav>')

def write_site(pages, structure, out:Path, nbs:Path, site_title='patchssl', doc_prefixes=(), log=print):
    "Assemble the rendered pages into a site in `out`; returns the problems found while assembling."
    problems = []
    shutil.rmtree(out, ignore_errors=True); (out/'assets').mkdir(parents=True)
    check_docs.copy_images(nbs, out)
    by_nb = {p.src.name: p for p in pages}
    listed = [nb for _, nbs_ in structure for nb in nbs_]
    for nb in listed:
        if nb not in by_nb: problems.append(f"sidebar.yml: lists {nb}, which is not a notebook in {nbs.name}/ (or was not built)")
    for nb in by_nb:
        if nb not in listed: problems.append(f"{nb}: not in sidebar.yml, so no page links to it: add it to its section")
    order = [nb for nb in dict.fromkeys(listed) if nb in by_nb] + [nb for nb in by_nb if nb not in listed]
    names = {nb: p.output_file for nb, p in by_nb.items()}
    (out/'assets'/'notebook.css').write_text(next((notebook_css(p.html) for p in pages if p.html), ''))
    (out/'assets'/'site.css').write_text(SITE_CSS)
    outs = [by_nb[nb].output_file for nb in order]
    home = 'index.html' if 'index.html' in outs else outs[0] if outs else 'index.html'
    soups = {nb: page_soup(by_nb[nb]) for nb in order if by_nb[nb].html}
    ids = {by_nb[nb].output_file: i for nb, (_, i, _) in soups.items()}
    for nb in order:
        p, page_problems, notes = by_nb[nb], [], []
        if nb in soups:
            soup, _, toc = soups[nb]
            fix_links(soup, names, ids, doc_prefixes, notes)
            fold_exports(soup)
            render_math(soup, page_problems)
            content = str(soup)
        else: content, toc = f'<h1 class="page-title">{html.escape(nb)}</h1><p>This page could not be rendered: see the docs check.</p>', []
        title = site_title if p.output_file == 'index.html' or not p.title else f"{p.title} – {site_title}"
        desc = f'<meta name="description" content="{html.escape(p.desc)}">\n' if p.desc else ''
        (out/p.output_file).write_text(PAGE.format(title=html.escape(title), description=desc, notebook=html.escape(nb),
                                                   sidebar=sidebar_html(site_title, structure, by_nb, nb, toc, home),
                                                   content=content, pager=pager_html(order, by_nb, nb)))
        for m in dict.fromkeys(notes): log(f"   note {nb} ({p.output_file}): {m}")
        problems += [f"{nb} ({p.output_file}): {m}" for m in page_problems]
    return problems

# ---------------------------------------------------------------------------------------------------- checks

class _Scan(HTMLParser):
    "What the site check needs from a page: ids, links, images, the <title>, <h1>s, visible text, code text."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.imgs, self.title, self.h1 = set(), [], [], None, 0
        self.text, self.code, self._stack, self._in_title, self._a = [], [], [], False, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('id', 'name'):
            if a.get(k) and (k == 'id' or tag == 'a'): self.ids.add(a[k])
        if tag == 'a' and a.get('href') is not None: self._a = [a['href'], '']; self.links.append(self._a)
        if tag == 'link' and a.get('href'): self.links.append([a['href'], 'stylesheet'])
        if tag in ('img', 'script', 'source') and a.get('src'): self.imgs.append((a['src'], a.get('alt') or ''))
        if tag == 'h1': self.h1 += 1
        if tag == 'title': self._in_title, self.title = True, ''
        if tag not in ('img', 'br', 'hr', 'meta', 'link', 'input', 'source', 'wbr', 'col'): self._stack.append(tag)
    def handle_endtag(self, tag):
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag: pass
        if tag == 'title': self._in_title = False
        if tag == 'a': self._a = None
    def handle_data(self, data):
        if self._in_title: self.title += data
        if self._a is not None: self._a[1] += data
        if any(t in ('script', 'style') for t in self._stack): return
        (self.code if any(t in ('pre', 'code') for t in self._stack) else self.text).append(data)

_RAW = [(re.compile(r'^(title|description|output-file|author|date|categories):\s', re.M), 'raw front matter'),
        (re.compile(r'\{target='), 'a Quarto `{target=...}` attribute'),
        (re.compile(r'\{[#.][A-Za-z][\w-]*(\s[^}\n]*)?\}'), 'a Quarto `{#id .class}` attribute'),
        (re.compile(r'^\s*:::', re.M), 'a Quarto `:::` fence'),
        (re.compile(r'\]\((?:https?://|\.{0,2}/|[\w-]+\.(?:ipynb|html|md|png))[^)\s]*\)'), 'an unrendered markdown link'),
        (re.compile(r'\$[^$\n]*\\[A-Za-z]+[^$\n]*\$'), 'unrendered TeX')]

def _snippet(text, m): return re.sub(r'\s+', ' ', text[max(0, m.start() - 40):m.end() + 40]).strip()

def check_site(out:Path):
    "Problems in a built site: broken links and anchors, missing images, raw markup, pages without a title."
    problems, scans = [], {}
    pages = sorted(out.rglob('*.html'))
    for f in pages:
        s = _Scan(); s.feed(f.read_text()); s.close(); scans[f.resolve()] = s
    for f in pages:
        s, rel = scans[f.resolve()], f.relative_to(out).as_posix()
        if not (s.title or '').strip(): problems.append(f"{rel}: no <title>")
        if s.h1 == 0: problems.append(f"{rel}: no <h1> page title")
        text, code = ''.join(s.text), ''.join(s.code)
        for rx, what in _RAW:
            if m := rx.search(text): problems.append(f"{rel}: {what} in the page text: {_snippet(text, m)!r}")
        if m := re.search(r'^\s*#\|', code, re.M): problems.append(f"{rel}: a `#|` directive shown in code: {_snippet(code, m)!r}")
        for href, label in s.links + [(src, 'image') for src, _ in s.imgs]:
            u = urlsplit(href)
            if u.scheme or u.netloc or href.startswith('data:'): continue  # external, checked by nobody offline
            what = 'image' if label == 'image' else f"link {' '.join(label.split())[:60]!r}"
            target = (f.parent/unquote(u.path)).resolve() if u.path else f.resolve()
            if not target.is_relative_to(out.resolve()):
                problems.append(f"{rel}: {what} -> {href}: points outside the site"); continue
            if not target.exists():
                problems.append(f"{rel}: {what} -> {href}: no such {'file' if label == 'image' else 'page'} in the site"); continue
            if u.fragment and target.suffix == '.html':
                ids = scans[target].ids if target in scans else set()
                if unquote(u.fragment) not in ids:
                    problems.append(f"{rel}: {what} -> {href}: no anchor #{u.fragment} on {target.name}")
    return problems

# ---------------------------------------------------------------------------------------------------- main

def build(nbs:Path, out:Path, sidebar:Path|None=None, cache:Path|None=None, log=print):
    """Render, check and assemble every notebook of `nbs` into a site in `out`; returns (pages, problems).
    nbdev's processed notebooks go to `cache` (default: `_proc/` beside `out`)."""
    from nbdev.config import get_config
    cfg = get_config()
    host = f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/"
    prefixes = (host, host.replace('https://', 'http://', 1))
    title = cfg.get('title', None) or cfg.lib_name
    nbdev_yml = nbs/'nbdev.yml'
    if nbdev_yml.exists():
        import yaml
        title = ((yaml.safe_load(nbdev_yml.read_text()) or {}).get('website', {}) or {}).get('title', title)
    sidebar = sidebar or nbs/'sidebar.yml'
    structure = read_sidebar(sidebar) if sidebar.exists() else [(None, [p.name for p in check_docs.notebooks(nbs)])]
    t0 = time.time()
    pages, problems = check_docs.render_pages(check_docs.notebooks(nbs), cache or out.parent/'_proc', None, log=log)
    t1 = time.time()
    problems += write_site(pages, structure, out, nbs, str(title), prefixes, log=log)
    t2 = time.time()
    problems += check_site(out)
    log(f"docs check (nbdev processing + nbconvert) {t1 - t0:.1f}s, site assembly {t2 - t1:.1f}s, site check {time.time() - t2:.1f}s")
    return pages, problems

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'_site'), help='folder for the site (default _site/)')
    ap.add_argument('--check-only', action='store_true', help='only check the site already built in --out')
    a = ap.parse_args()
    out, t0 = Path(a.out).resolve(), time.time()
    import os; os.chdir(ROOT)
    if a.check_only: pages, problems = None, check_site(out)
    else:  # processed notebooks in a folder of its own: a docs check running beside it empties _proc/
        import tempfile
        with tempfile.TemporaryDirectory(prefix='patchssl_proc_') as cache:
            pages, problems = build(ROOT/'nbs', out, cache=Path(cache), log=lambda m: print(m, flush=True))
    where = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    if problems:
        print('\n'.join(['docs site check FAILED:'] + [f"- {p}" for p in problems])); sys.exit(1)
    n = len(list(out.glob('*.html')))
    print(f"site built and checked: {n} pages in {where}/ in {time.time() - t0:.0f}s; open {where}/index.html")

if __name__ == '__main__': main()
