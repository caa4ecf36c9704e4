"""The import graph of patchssl: every module imports only modules of earlier chapters (no upward arrow, hence no cycle),
and no lettered chapter (00*) imports a numbered method chapter (01-06)."""
import ast, re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'patchssl'

def chapters()->dict:
    "`{module: notebook stem}` from the header nbdev writes into each exported module."
    out = {}
    for f in PKG.glob('*.py'):
        m = re.search(r'nbs/(\w+)\.ipynb', f.read_text())
        if m: out[f.stem] = m.group(1)
    return out

def imports(mod:str)->set:
    "patchssl modules imported by `mod` (relative `from .x`, `from patchssl.x`, `import patchssl.x`)."
    out = set()
    for n in ast.walk(ast.parse((PKG/f'{mod}.py').read_text())):
        if isinstance(n, ast.ImportFrom):
            name = n.module or ''
            if n.level == 1: out.add(name.split('.')[0])
            elif name.startswith('patchssl.'): out.add(name.split('.')[1])
        elif isinstance(n, ast.Import):
            out |= {a.name.split('.')[1] for a in n.names if a.name.startswith('patchssl.')}
    return out - {'', mod}

def upward_arrows(ch:dict)->list:
    "`(module, imported module)` pairs where the imported module's chapter does not come before the importer's."
    bad = []
    for mod, nb in ch.items():
        for dep in imports(mod):
            if dep in ch and not ch[dep] < nb: bad.append((f'{mod} ({nb})', f'{dep} ({ch[dep]})'))
    return bad

def test_no_upward_arrows():
    ch = chapters()
    assert {'geodata', 'tda', 'crossmae', 'clay_ta', 'gwt_kd', 'data'} <= set(ch), sorted(ch)
    assert upward_arrows(ch) == []
    lettered = {m for m, nb in ch.items() if re.match(r'00[a-z]?_', nb)}
    numbered = set(ch) - lettered
    assert not [(m, d) for m in lettered for d in imports(m) if d in numbered]

def test_check_can_fail():
    ch = chapters()
    ch_bad = {**ch, 'data': '99_late'}  # pretend data.py came from a chapter after every user of it
    assert ('gwt_kd (05_gwt_kd)', 'data (99_late)') in upward_arrows(ch_bad)

if __name__ == '__main__':
    ch = chapters()
    for mod in sorted(ch, key=ch.get): print(f"{ch[mod]:18} {mod:12} <- {', '.join(sorted(d for d in imports(mod) if d in ch))}")
    print('upward arrows:', upward_arrows(ch) or 'none')
