#!/usr/bin/env python
"""Docs check for machines without Quarto (CI runs it); the pages it writes are a faithful preview of the site.

Does what `nbdev-docs` does before handing over to Quarto: builds the doc-link index and processes every notebook
with nbdev's own doc processors (`FilterDefaults`: show_doc cells added for exported names and executed, exports
hidden, directives applied) into `_proc/`, one notebook at a time so every warning is pinned to its page. Then it
renders each processed page to HTML with nbconvert into `_docs_html/`, doing the few things Quarto would do:
the front matter becomes the page's title and lead paragraph, `#| echo/output/include: false` hide what they say,
Quarto-only markup that nbconvert cannot render (`{target="_blank" ...}` attributes, `{#id .class}` heading
attributes, `:::` fenced divs) is removed (show_doc's source link stays as a plain link), prompts are hidden.

It fails (exit 1, one line per problem naming the page and what to fix) on:
- a warning from nbdev while processing (e.g. a cell mixing imports and other code);
- a page without a title (`# Title` + `> description` first markdown cell) or with raw front matter in its HTML;
- Quarto-only markup left in the HTML (`{target=`);
- an error output, a notebook that cannot be rendered;
- an exported public name with no rendered API heading on its page, or an exported cell whose several public
  definitions nbdev documents one after the other in reverse order (split it: one definition per cell);
- a duplicate API entry: the same name documented twice on a page (e.g. an exported `@patch` method, which nbdev
  documents by itself, plus an explicit `show_doc` of it);
- a page whose source notebook has figures but whose HTML shows fewer;
- training noise in an output: a progress bar (`<progress>`, tqdm bars), fastai's plain-text training log
  (`epoch  train_loss ...` printed by `no_bar()` without `no_logging()`) or raw recorder lines
  (`[0, 1.23, 0.98, '00:01']`). fastai's HTML results table (a deliberate `learn.fit(...)` display without
  progress bars) is allowed;
- a warning printed in an output, or a local filesystem path (`/root/`, `/home/...`, `site-packages`, `/tmp/tmp...`)
  in any output.

    python tools/check_docs.py              # all pages
    python tools/check_docs.py 00_patching  # only pages whose name contains one of the arguments

The pages it writes to `_docs_html/` are standalone previews (figures from `nbs/images` copied beside them).
`tools/build_site.py` runs this same check on every page (one processing pass) and assembles the pages into a
browsable site with a sidebar, previous/next links and working links between pages (`_site/`).
"""
import importlib, json, logging, os, re, shutil, sys, time, warnings
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]

CSS = """<style>
main { max-width: 980px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1.page-title { font-size: 2.2rem; margin: 0.5rem 0 0.4rem; }
p.page-lead { font-size: 1.2rem; font-style: italic; opacity: 0.75; margin-bottom: 1.5rem; }
a.source-link { float: right; font-size: smaller; }
.jp-OutputArea-output hr { margin: 1.8rem 0 0.6rem; }
.jp-RenderedMarkdown h3 { margin-top: 0.3rem; }
.jp-Cell { padding: 2px 0; margin-bottom: 0.5rem; }
.jp-OutputArea-output .highlight pre { background: #f6f8fa; padding: 0.6rem 0.8rem; border-radius: 4px; }
.jp-OutputArea-output pre { padding-left: 0.8rem; border-left: 2px solid lightsalmon; }
.jp-OutputArea-output .highlight pre { border-left: none; }
.jp-OutputArea-output img { max-width: 100%; }
.jp-InputArea-editor { border-radius: 4px; }
</style>
"""

_PATH_RE = re.compile(r"(/root/|/home/\w|/Users/\w|site-packages|dist-packages|/tmp/tmp|[A-Za-z]:\\Users\\)")
_RECORDER_RE = re.compile(r"^\s*\[\d+(, [^,\]]+)+, '\d\d:\d\d'\]\s*$", re.M)   # fastai's logger line without the bar
_TEXT_LOG_RE = re.compile(r"^\s*epoch\s+train_loss\b", re.M)                     # its header in plain text
_TQDM_RE = re.compile(r"\d+%\|[^|\n]*\|")
_WARN_RE = re.compile(r"\b\w*Warning\b:")

def _text(x): return ''.join(x) if isinstance(x, list) else (x or '')

def _quarto_md(md:str)->str:
    "Markdown as nbconvert can render it: Quarto attributes and fenced divs removed, show_doc's source link kept."
    md = re.sub(r'\[source\]\(([^)\s]+)\)\{[^}\n]*\}', r'<a class="source-link" href="\1" target="_blank">source</a>', md)
    md = re.sub(r'(\]\([^)\s]*\))\{[^}\n]*\}', r'\1', md)                      # [text](url){attrs}
    md = re.sub(r'^(#{1,6} .*?)\s*\{[#.][^}\n]*\}\s*$', r'\1', md, flags=re.M)  # ## Heading {#id .class}
    md = re.sub(r'^:::+\s*(\{[^}\n]*\}|[\w-]+)?\s*$\n?', '', md, flags=re.M)    # ::: {.callout-note} ... :::
    return md

def _front_matter(nb):
    "Pop the YAML front matter nbdev's `FrontmatterProc` put in a raw cell; returns a dict (empty if none)."
    import yaml
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            body = c.source.strip().strip('-').strip()
            try: fm = yaml.safe_load(body) or {}
            except yaml.YAMLError: return {}
            del nb.cells[i]
            return fm
    return {}

def _process(src:Path, dst:Path):
    "nbdev's doc processing of one notebook; returns its warnings (nbdev's own first) as text."
    import nbdev.serve_drv
    from nbdev.processors import FilterDefaults
    records = []
    class _H(logging.Handler):
        def emit(self, r): records.append(('log', r.name, r.getMessage()))
    h = _H(logging.WARNING); logging.getLogger().addHandler(h)
    try:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter('always')
            for cat in (DeprecationWarning, PendingDeprecationWarning): warnings.simplefilter('ignore', cat)
            nbdev.serve_drv.main((src, dst, FilterDefaults))
    finally: logging.getLogger().removeHandler(h)
    for w in ws:
        origin = 'nbdev' if re.search(r'[/\\](nbdev|execnb)[/\\]', w.filename) else 'other'
        records.append((origin, w.category.__name__, str(w.message)))
    return records

def _nbdev_warning(msg:str)->str:
    "A short, actionable version of an nbdev warning."
    m = re.search(r'Found cells containing imports and other code.*?---\n(.*?)\n---', msg, re.S)
    if m:
        code = [l for l in m.group(1).splitlines() if l.strip() and not l.startswith('#|')]
        return (f"nbdev warning: a cell mixes imports and other code (nbdev runs it while building docs); "
                f"put the imports in a cell of their own. The cell starts: {' | '.join(code[:3])[:160]!r}")
    return f"nbdev warning: {msg.strip()[:300]}"

def _multi_def_problems(srcnb)->list:
    "Exported cells with several public definitions: nbdev inserts their show_docs in reverse order, one after another."
    import ast
    cells = [''.join(c['source']) for c in srcnb['cells'] if c['cell_type'] == 'code']
    shown = set(re.findall(r'^show_doc\(([\w.]+)', '\n'.join(cells), re.M))
    out = []
    for src in cells:
        if not re.search(r'^#\|\s*exports?\s*$', src, re.M): continue
        try: tree = ast.parse(re.sub(r'^\s*[%!].*$', '', src, flags=re.M))
        except SyntaxError: continue
        names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and not n.name.startswith('_') and n.name not in shown]
        if len(names) > 1: out.append(f"an exported cell defines {len(names)} public names {names}: nbdev renders their docs "
                                      f"in reverse order, one signature after another; put one definition per cell, each "
                                      f"with its example")
    return out

def _apply_directives(c):
    "Quarto's cell options as Quarto applies them, then the `#|` lines removed."
    opts = dict(re.findall(r'^#\|\s*([\w-]+):\s*(\S+)', c.source, re.M))
    tags = c.metadata.setdefault('tags', [])
    if opts.get('include') == 'false': tags.append('remove_cell')
    if opts.get('echo') == 'false': tags.append('remove_input')
    if opts.get('output') == 'false': tags.append('remove_output')
    if opts.get('code-fold') in ('show', 'true'): tags.append(f"code_fold_{opts['code-fold']}")  # nbdev's "Exported source"
    c.source = re.sub(r'^#\|.*\n?', '', c.source, flags=re.M)

def _output_problems(c, name):
    "Problems in the outputs of one processed code cell."
    out, first = [], c.source.strip().splitlines()[:1]
    where = f"cell starting {first[0][:70]!r}" if first else "a cell"
    for o in c.get('outputs', []):
        if o.get('output_type') == 'error':
            out.append(f"error output in {where}: {o.get('ename')}: {_text(o.get('evalue'))[:200]}"); continue
        d = o.get('data', {})
        txt = _text(o.get('text')) + ''.join(_text(d.get(k)) for k in ('text/plain', 'text/html', 'text/markdown'))
        if m := _PATH_RE.search(txt):
            line = next(l for l in txt.splitlines() if m.group(0) in l)
            out.append(f"local path in the output of {where}: {line.strip()[:160]!r}; fix or silence what prints it")
        if '<progress' in txt or _TQDM_RE.search(txt):
            out.append(f"progress bar in the output of {where}: wrap the training in `with learn.no_bar(): ...`")
        if _TEXT_LOG_RE.search(_text(o.get('text'))) or _TEXT_LOG_RE.search(_text(d.get('text/plain'))):
            out.append(f"fastai's plain-text training log in the output of {where}: use `with learn.no_bar(), "
                       f"learn.no_logging(): ...` and print only the numbers the text discusses")
        if m := _RECORDER_RE.search(txt):
            out.append(f"raw recorder line {m.group(0).strip()[:80]!r} in the output of {where}: silence the "
                       f"training (`learn.no_logging()`) and print what matters")
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr' and _WARN_RE.search(txt):
            w = next(l for l in txt.splitlines() if _WARN_RE.search(l))
            out.append(f"warning in the output of {where}: {w.strip()[:160]!r}; fix its cause or silence it in a hidden cell")
    return out

def _show_doc_name(c):
    "The name a show_doc cell documents, as its rendered heading gives it (None for other cells)."
    if not re.match(r'\s*show_doc\(', c.source): return None
    for o in c.get('outputs', []):
        if m := re.search(r'^#{2,4}\s+(\S+)', _text(o.get('data', {}).get('text/markdown')), re.M): return m.group(1)
    return None

def _duplicate_api_problems(names)->list:
    "Names documented more than once on one page."
    return [f"API entry `{n}` documented {k} times on the page (e.g. an exported `@patch` method, which nbdev documents "
            f"by itself, plus an explicit `show_doc` of it): keep one" for n, k in Counter(names).items() if k > 1]

def _md_inline(md:str)->str:
    "A one-line markdown string (e.g. the description) as inline HTML, the way Quarto renders the title block."
    from nbconvert.filters.markdown import markdown2html
    html = markdown2html(md).strip()
    return re.sub(r'^<p>(.*)</p>$', r'\1', html, flags=re.S)

def check_page(src:Path, proc:Path, out:Path|None, exporter, cfg, warns):
    """Render one processed page to HTML; returns (problems, summary, page). `page` holds the title, description,
    output file (nbdev's `output-file`, as Quarto names the page) and the whole nbconvert HTML; written to
    `out/<notebook>.html` unless `out` is None."""
    import nbformat
    from html import escape
    name, problems = src.name, []
    for origin, cat, msg in warns:
        if origin == 'nbdev': problems.append(_nbdev_warning(msg))
        elif origin == 'log': problems.append(f"log message from {cat} while processing: {msg[:200]}")
    nb = nbformat.read(proc, as_version=4)
    fm = _front_matter(nb)
    title, desc = fm.get('title'), fm.get('description')
    if not title: problems.append("no page title: make the first markdown cell `# Title` then `> one-line description`")
    problems += _multi_def_problems(json.loads(src.read_text()))
    documented = []
    for c in nb.cells:  # nbdev's bookkeeping keys (e.g. `has_sd`) and execnb's float timings upset nbformat
        for k in [k for k in c if k not in ('id', 'cell_type', 'source', 'metadata', 'outputs', 'execution_count', 'attachments')]: del c[k]
        c.metadata.pop('execution', None)
        if c.cell_type == 'markdown': c.source = _quarto_md(c.source)
        if c.cell_type != 'code': continue
        _apply_directives(c)
        if 'remove_cell' in c.metadata.tags: continue
        if 'remove_output' not in c.metadata.tags:
            problems += _output_problems(c, name)
            if n := _show_doc_name(c): documented.append(n)
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): o['data']['text/markdown'] = _quarto_md(_text(o['data']['text/markdown']))
    problems += _duplicate_api_problems(documented)
    if title:
        head = f'<h1 class="page-title">{escape(str(title))}</h1>\n' + (f'<p class="page-lead">{_md_inline(str(desc))}</p>\n' if desc else '')
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(head))
        nb.metadata['title'] = str(title)
    page = SimpleNamespace(src=src, title=str(title) if title else None, desc=str(desc) if desc else None,
                           output_file=str(fm.get('output-file') or f"{src.stem}.html"), html=None)
    try: html, _ = exporter.from_notebook_node(nb)
    except Exception as e: return problems + [f"nbconvert failed: {e!r}"], 'not rendered', page
    html = html.replace('</head>', CSS + '</head>', 1)
    page.html = html
    if out is not None: (out/f"{src.stem}.html").write_text(html)
    body = html[html.find('<body'):]
    prose = re.sub(r'<(pre|code|script|style)\b.*?</\1>', '', body, flags=re.S)  # code may show markup on purpose
    if '{target=' in prose: problems.append("Quarto attribute `{target=...}` left in the HTML (markdown the checker cannot clean)")
    if re.search(r'^(output-file|title|description):\s', re.sub(r'<[^>]+>', '', prose), re.M):
        problems.append("raw front matter (`title:` / `output-file:` lines) visible in the HTML")
    # every exported public name documented on its page
    srcnb = json.loads(src.read_text())
    default_exp = next((re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source'])) for c in srcnb['cells']
                        if c['cell_type'] == 'code' and 'default_exp' in ''.join(c['source'])), None)
    n_api = 0
    if default_exp:
        mod = importlib.import_module(f"{cfg.lib_path.name}.{default_exp.group(1)}")
        names = [n for n in getattr(mod, '__all__', []) if not n.isupper()]   # constants get no show_doc
        missing = [n for n in names if not re.search(rf'<h[2-4][^>]*>\s*{re.escape(n)}\b', html)]
        n_api = len(names) - len(missing)
        if missing: problems.append(f"exported name(s) without a rendered API heading: {missing} (give each a show_doc "
                                    f"or an exported cell of its own)")
    n_src_imgs = sum('image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {})
                     for c in srcnb['cells'] for o in c.get('outputs', []))
    n_imgs = html.count('<img') + body.count('<svg')
    if n_src_imgs and n_imgs < n_src_imgs: problems.append(f"{n_src_imgs} figure(s) in the notebook, {n_imgs} in the HTML")
    return problems, f"{title!r}, {n_api} API entries, {n_imgs} figure(s), {len(html) // 1024} KB", page

def exporter():
    "nbconvert's HTML exporter, configured as the site renders pages (Quarto's cell options as tags, no prompts)."
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    hcfg = Config()
    hcfg.TagRemovePreprocessor.enabled = True
    hcfg.TagRemovePreprocessor.remove_cell_tags = {'remove_cell'}
    hcfg.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    hcfg.TagRemovePreprocessor.remove_all_outputs_tags = {'remove_output'}
    hcfg.HTMLExporter.exclude_input_prompt = hcfg.HTMLExporter.exclude_output_prompt = True
    return HTMLExporter(config=hcfg)

def notebooks(nbs:Path, pats=()):
    "The notebooks in `nbs` that make pages (not `_`/`.` files), those whose name contains one of `pats` if given."
    return [p for p in sorted(nbs.glob('*.ipynb')) if p.name[0] not in '_.' and (not pats or any(s in p.name for s in pats))]

def render_pages(srcs, cache:Path, out:Path|None=None, log=print):
    """nbdev's processing of each notebook into `cache`, then the checks and the HTML of each page.
    Returns (pages, problems): one page object per notebook (`page.html` None if it could not be rendered) and
    the problems as `notebook: what to fix` lines. Writes the standalone previews to `out` unless it is None."""
    from nbdev.config import get_config
    from nbdev.doclinks import _build_modidx
    cfg = get_config()
    _build_modidx()
    cache.mkdir(parents=True, exist_ok=True)
    exp = exporter()
    pages, all_problems = [], []
    for src in srcs:
        t = time.time()
        try:
            warns = _process(src, cache/src.name)
            problems, summary, page = check_page(src, cache/src.name, out, exp, cfg, warns)
        except Exception as e:  # nbdev runs import cells, exported cells and show_docs: one can fail
            warns, summary = [], 'not rendered'
            page = SimpleNamespace(src=src, title=None, desc=None, output_file=f"{src.stem}.html", html=None)
            msg = str(e).strip().splitlines()
            problems = [f"nbdev could not process it: {msg[0][:200] if msg else type(e).__name__} ... {msg[-1][:200] if msg else ''}"
                        + (" (nbdev runs every cell that contains an import: keep imports in cells of their own)"
                           if 'NameError' in (msg[-1] if msg else '') else '')]
        pages.append(page)
        for cat, msg in dict.fromkeys((c, m.splitlines()[0] if m else '') for o, c, m in warns if o == 'other'):
            log(f"   note {src.name}: {cat} while processing (not on the page): {msg[:150]}")
        log(f"{'FAIL' if problems else 'ok  '} {src.name}: {summary}, {time.time() - t:.1f}s"
            + (f", {len(problems)} problem(s)" if problems else ''))
        all_problems += [f"{src.name}: {p}" for p in problems]
    return pages, all_problems

def copy_images(nbs:Path, out:Path):
    "Figures that markdown cells load from files (`![...](images/x.png)`) go beside the pages."
    if (nbs/'images').is_dir(): shutil.copytree(nbs/'images', out/'images', dirs_exist_ok=True)

def main():
    os.chdir(ROOT)
    t0 = time.time()
    cache = ROOT/'_proc'; shutil.rmtree(cache, ignore_errors=True)
    out = ROOT/'_docs_html'; shutil.rmtree(out, ignore_errors=True); out.mkdir()
    copy_images(ROOT/'nbs', out)
    pages, all_problems = render_pages(notebooks(ROOT/'nbs', sys.argv[1:]), cache, out, log=lambda m: print(m, flush=True))
    if all_problems:
        print('\n'.join(['docs check FAILED:'] + [f"- {p}" for p in all_problems])); sys.exit(1)
    print(f"docs check passed: {sum(p.html is not None for p in pages)} page(s) in {out.relative_to(ROOT)}/ in {time.time() - t0:.0f}s")

if __name__ == '__main__': main()
