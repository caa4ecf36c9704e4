"The docs site: a two-page site from tiny notebooks builds clean, and its check fails on what a reader would trip over."
import base64, importlib.util, os, re
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parents[1]
PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')
SIDEBAR = "website:\n  sidebar:\n    contents:\n      - section: Chapters\n        contents:\n          - a.ipynb\n          - b.ipynb\n"

@pytest.fixture(scope='module')
def bs():
    spec = importlib.util.spec_from_file_location('build_site', ROOT/'tools'/'build_site.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    old = os.getcwd(); os.chdir(ROOT)   # nbdev reads the project's configuration from here
    yield mod
    os.chdir(old)

def md(s): return nbformat.v4.new_markdown_cell(s)

def site(bs, tmp_path, a_extra=(), b_cells=None):
    "Build a site of two notebooks, a and b (a links to b, its section and an image); returns (out, problems)."
    nbs, out = tmp_path/'nbs', tmp_path/'_site'
    (nbs/'images').mkdir(parents=True)
    (nbs/'images'/'dot.png').write_bytes(PNG)
    (nbs/'sidebar.yml').write_text(SIDEBAR)
    a = [md('# Page A\n\n> The first page.'),
         md('See [page B](b.ipynb), its [section](b.ipynb#a-section), this [part](#on-a) and $x^2 + \\lambda$.'),
         md('## On A\n\n![a dot](images/dot.png)'), nbformat.v4.new_code_cell('x = "a" * 200  # ' + 'long line ' * 20)]
    b = b_cells or [md('# Page B\n\n> The second page.'), md('## A section\n\nBack to [page A](a.ipynb).')]
    nbformat.write(nbformat.v4.new_notebook(cells=a + [md(s) for s in a_extra]), nbs/'a.ipynb')
    nbformat.write(nbformat.v4.new_notebook(cells=b), nbs/'b.ipynb')
    _, problems = bs.build(nbs, out, cache=tmp_path/'proc', log=lambda m: None)
    return out, problems

def test_clean_site(bs, tmp_path):
    out, problems = site(bs, tmp_path)
    assert problems == [], problems
    a, b = (out/'a.html').read_text(), (out/'b.html').read_text()
    assert '<title>Page A' in a and '<title>Page B' in b
    assert 'class="active" aria-current="page" href="a.html"' in a          # the sidebar marks the current page
    assert 'class="next" href="b.html"' in a and 'class="prev" href="a.html"' in b
    assert 'href="b.html#a-section"' in a and 'id="a-section"' in b        # .ipynb links become page links
    assert (out/'images'/'dot.png').exists() and 'src="images/dot.png"' in a
    assert '<math' in a and '$x^2' not in a                                 # TeX drawn, not left raw
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', a)  # nothing to download: opens offline

@pytest.mark.parametrize('extra, expect', [
    ('A [broken link](b.ipynb#no-such-section).', 'no anchor #no-such-section on b.html'),
    ('A [missing page](c.ipynb).', 'no such page in the site'),
    ('![missing figure](images/none.png)', 'image -> images/none.png: no such file'),
    ('A [same-page link](#nowhere).', 'no anchor #nowhere on a.html'),
    ('Stray Quarto {#weird-id .unnumbered} attribute.', 'Quarto `{#id .class}` attribute'),
])
def test_site_check_fails(bs, tmp_path, extra, expect):
    _, problems = site(bs, tmp_path, a_extra=[extra])
    assert any(expect in p for p in problems), problems

def test_page_without_title_fails(bs, tmp_path):
    _, problems = site(bs, tmp_path, b_cells=[md('Just prose, no `# Title`.')])
    assert any('b.ipynb: no page title' in p for p in problems), problems
    assert any('no <h1> page title' in p for p in problems), problems

def test_pandoc_ids(bs):
    assert bs.pandoc_id('PatchITransformer.from_checkpoint') == 'patchitransformer.from_checkpoint'
    assert bs.pandoc_id('The method, and where this is our reading') == 'the-method-and-where-this-is-our-reading'
    assert bs.pandoc_id('1. Results (3 seeds)') == 'results-3-seeds'
