#!/usr/bin/env python
"""Docs check for machines without Quarto (CI runs it).

Does what `nbdev-docs` does before handing over to Quarto: builds the doc-link index and processes every notebook
with nbdev's own doc processors (`nbdev.serve.proc_nbs`: show_doc cells added for exported names and executed,
exports hidden, directives applied) into `_proc/`. Then it renders each processed page to HTML with nbconvert into
`_docs_html/` and fails on any error:
- a processed notebook that cannot be rendered, or holds an error output;
- an exported public name of a module with no rendered API doc on its page;
- a page whose source notebook has figures but whose HTML shows none.

    python tools/check_docs.py
"""
import importlib, json, os, re, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def main():
    os.chdir(ROOT)
    from nbdev.config import get_config
    from nbdev.doclinks import _build_modidx
    from nbdev.serve import proc_nbs
    from nbconvert import HTMLExporter
    import nbformat
    cfg = get_config()
    _build_modidx()
    shutil.rmtree(ROOT/'_proc', ignore_errors=True)
    cache = proc_nbs(n_workers=0)
    out = ROOT/'_docs_html'; shutil.rmtree(out, ignore_errors=True); out.mkdir()
    from traitlets.config import Config
    hcfg = Config(); hcfg.TagRemovePreprocessor.remove_input_tags = {'remove_input'}; hcfg.TagRemovePreprocessor.enabled = True
    exporter, problems, pages = HTMLExporter(config=hcfg), [], 0
    for src in sorted((ROOT/'nbs').glob('*.ipynb')):
        proc = cache/src.name
        if not proc.exists(): problems.append(f"{src.name}: nbdev did not process it"); continue
        nb = nbformat.read(proc, as_version=4)
        for c in nb.cells:  # nbdev leaves its own bookkeeping keys (e.g. `has_sd`) on cells; Quarto ignores them, nbformat does not
            for k in [k for k in c if k not in ('id', 'cell_type', 'source', 'metadata', 'outputs', 'execution_count', 'attachments')]: del c[k]
            c.metadata.pop('execution', None)  # execnb's timings are floats where nbformat wants strings
            if c.cell_type == 'code':  # apply the Quarto cell options as Quarto would: `echo: false` hides the code
                if re.search(r'^#\|\s*echo:\s*false', c.source, re.M): c.metadata.setdefault('tags', []).append('remove_input')
                c.source = re.sub(r'^#\|.*\n?', '', c.source, flags=re.M)
        errs = [o for c in nb.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']
        if errs: problems.append(f"{src.name}: {len(errs)} error output(s), first: {errs[0].get('ename')}: {errs[0].get('evalue')}")
        try: html, _ = exporter.from_notebook_node(nb)
        except Exception as e: problems.append(f"{src.name}: nbconvert failed: {e!r}"); continue
        (out/f"{src.stem}.html").write_text(html); pages += 1
        # every exported public name documented on its page
        srcnb = json.loads(src.read_text())
        default_exp = next((re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source'])) for c in srcnb['cells']
                            if c['cell_type'] == 'code' and 'default_exp' in ''.join(c['source'])), None)
        if default_exp:
            mod = importlib.import_module(f"{cfg.lib_path.name}.{default_exp.group(1)}")
            names = [n for n in getattr(mod, '__all__', []) if not n.isupper()]   # constants get no show_doc
            missing = [n for n in names if not re.search(rf'<h[2-4][^>]*>\s*{re.escape(n)}\b', html)]
            if missing: problems.append(f"{src.name}: no rendered API doc for {missing}")
        n_src_imgs = sum('image/png' in o.get('data', {}) for c in srcnb['cells'] for o in c.get('outputs', []))
        if n_src_imgs and html.count('<img') < n_src_imgs:
            problems.append(f"{src.name}: {n_src_imgs} figure(s) in the notebook, {html.count('<img')} in the HTML")
        print(f"ok {src.name}: {len(html) // 1024} KB HTML, {html.count('<img')} figure(s)", flush=True)
    if problems:
        print('\n'.join(['docs check FAILED:'] + problems)); sys.exit(1)
    print(f"docs check passed: {pages} page(s) in {out.relative_to(ROOT)}/")

if __name__ == '__main__': main()
