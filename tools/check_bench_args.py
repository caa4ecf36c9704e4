"""Check that the commands recorded in bench/results/*.md (and the JSON `command`) parse to the same arguments with a
script's committed version (git REV, default HEAD) and its working-tree version. Nothing runs past the parse: the
parser's parse_args is intercepted.

    python tools/check_bench_args.py bench/speed_patchtst.py bench/clay_*.py [--rev HEAD~1]
"""
import argparse, glob, json, re, shlex, subprocess, sys, os
from pathlib import Path
ROOT = Path(subprocess.check_output(['git', 'rev-parse', '--show-toplevel'], text=True).strip())
sys.path.insert(0, str(ROOT/'bench'))
import common  # noqa: F401  (torch, patchssl once)

class Parsed(Exception): pass
_orig = argparse.ArgumentParser.parse_args
def _intercept(self, args=None, namespace=None):
    if self.prog == 'check_bench_args.py': return _orig(self, args, namespace)
    ns = _orig(self, args, namespace)
    raise Parsed(vars(ns))

def commands(script):
    "Recorded commands of `script` (bench/X.py) from the markdown `Command:` lines and the JSON `command` fields."
    out = set()
    for md in glob.glob(str(ROOT/'bench/results/*.md')):
        m = re.search(r'^Command: `([^`]*)`', open(md).read(), re.M)
        if m: out.add(m.group(1))
    for js in glob.glob(str(ROOT/'bench/results/*.json')):
        try: c = json.load(open(js)).get('command')
        except Exception: continue
        if isinstance(c, str): out.add(c)
    res = []
    for c in sorted(out):
        w = c.split()
        if 'python' in w and len(w) > w.index('python') + 1 and w[w.index('python') + 1] == script: res.append(w[w.index('python') + 2:])
    return res

def merged(argv):
    "The recorded command lost its quotes (' '.join(sys.argv)): join the words between two options into one value."
    out = []
    for w in argv:
        if out and not w.startswith('--') and not out[-1].startswith('--') and len(out) >= 2: out[-1] += ' ' + w
        else: out.append(w)
    return out

def parse_with(src, path, argv):
    r = _parse_with(src, path, argv)
    if isinstance(r, str) and r.startswith('SystemExit') and merged(argv) != argv:
        r = _parse_with(src, path, merged(argv))
    return r

def _parse_with(src, path, argv):
    import io, contextlib
    sys.argv = [str(path)] + argv
    g = {'__name__': '__main__', '__file__': str(path)}
    argparse.ArgumentParser.parse_args = _intercept
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()): exec(compile(src, str(path), 'exec'), g)
    except Parsed as e: return e.args[0]
    except SystemExit as e: return f'SystemExit({e.code})'
    except Exception as e: return f'{type(e).__name__}: {e}'
    finally: argparse.ArgumentParser.parse_args = _orig
    return 'no parse reached'

def main():
    ap = argparse.ArgumentParser(prog='check_bench_args.py'); ap.add_argument('scripts', nargs='+'); ap.add_argument('--rev', default='HEAD')
    a = ap.parse_args()
    n_ok = n_bad = 0
    for s in a.scripts:
        rel = str(Path(s)); path = ROOT/rel
        old = subprocess.run(['git', 'show', f'{a.rev}:{rel}'], capture_output=True, text=True, cwd=ROOT).stdout
        new = path.read_text()
        cmds = commands(rel) + [[]]  # the recorded commands and the defaults
        for argv in cmds:
            o, n = parse_with(old, path, argv), parse_with(new, path, argv)
            if isinstance(n, str) and not argv and o == n: ok = True; why = f'both refuse the defaults: {n}'
            elif isinstance(n, str): ok = False; why = f'new: {n}'
            elif isinstance(o, str): ok = True; why = f'(old did not parse: {o}) new parses'
            else:
                diff = {k: (o.get(k, '<absent>'), n.get(k, '<absent>')) for k in set(o) | set(n) if repr(o.get(k, '<absent>')) != repr(n.get(k, '<absent>'))}
                added = {k: v[1] for k, v in diff.items() if v[0] == '<absent>'}
                changed = {k: v for k, v in diff.items() if v[0] != '<absent>'}
                ok, why = not changed, (f'changed {changed}' if changed else '') + (f' added {added}' if added else '')
            n_ok += ok; n_bad += not ok
            print(f"{'OK ' if ok else 'BAD'} {rel} {' '.join(argv) or '(defaults)'} {why}", flush=True)
    print(f'{n_ok} identical, {n_bad} differ or fail')
    sys.exit(1 if n_bad else 0)

if __name__ == '__main__': main()
