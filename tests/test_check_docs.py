"The docs check fails on what a reader must not see: raw front matter, Quarto-only `{target=` markup, nbdev warnings, duplicate API entries."
import importlib.util, json, os
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def cd():
    spec = importlib.util.spec_from_file_location('check_docs', ROOT/'tools'/'check_docs.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    from nbdev.config import get_config
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    old = os.getcwd(); os.chdir(ROOT)
    c = Config(); c.HTMLExporter.exclude_input_prompt = c.HTMLExporter.exclude_output_prompt = True
    yield mod, get_config(), HTMLExporter(config=c)
    os.chdir(old)

def problems(cd, tmp_path, cells):
    mod, cfg, exporter = cd
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# A page\n\n> What it is about.')] + cells)
    src, proc, out = tmp_path/'page.ipynb', tmp_path/'proc', tmp_path/'html'
    proc.mkdir(); out.mkdir()
    nbformat.write(nb, src)
    warns = mod._process(src, proc/src.name)
    return mod.check_page(src, proc/src.name, out, exporter, cfg, warns)[0]

def test_clean_page_passes(cd, tmp_path):
    assert problems(cd, tmp_path, [nbformat.v4.new_markdown_cell('Some prose.'), nbformat.v4.new_code_cell('x = 1 + 1')]) == []

def test_raw_front_matter_fails(cd, tmp_path):
    p = problems(cd, tmp_path, [nbformat.v4.new_markdown_cell('title: Stray\noutput-file: stray.html')])
    assert any('raw front matter' in m for m in p), p

def test_quarto_target_fails(cd, tmp_path):
    p = problems(cd, tmp_path, [nbformat.v4.new_markdown_cell('Read this {target="_blank"} now.')])
    assert any('{target=' in m for m in p), p

def test_nbdev_warning_fails(cd, tmp_path):
    p = problems(cd, tmp_path, [nbformat.v4.new_code_cell('import math\ny = math.pi'), nbformat.v4.new_code_cell('show_doc(len)')])
    assert any('mixes imports and other code' in m for m in p), p

def test_duplicate_api_entry_fails(cd, tmp_path):
    "An exported `@patch` method is documented by nbdev by itself; an explicit show_doc of it makes a second entry."
    code = nbformat.v4.new_code_cell
    cells = [code('from fastcore.basics import patch'), code('#| export\nclass Foo:\n    "A foo."'),
             code('#| export\n@patch\ndef bar(self:Foo):\n    "Bar of a foo."\n    return 1'), code('show_doc(Foo.bar)')]
    (tmp_path/'twice').mkdir(); (tmp_path/'once').mkdir()
    p = problems(cd, tmp_path/'twice', cells)
    assert any('`Foo.bar` documented 2 times' in m for m in p), p
    p = problems(cd, tmp_path/'once', cells[:3])
    assert not any('documented' in m for m in p), p
