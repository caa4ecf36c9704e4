#!/usr/bin/env python
"""Run every test of patchssl and print one closing line `N passed, N failed`.

Tests are the notebooks in `nbs/` (executed by nbdev's own `test_nb`, the engine behind `nbdev-test`, skipping
cells flagged `slow`/`notest`) and, when `tests/` holds any, pytest tests. nbdev-test prints no count of its own,
so this script counts one notebook as one test, and each pytest test as one.

    python tools/run_tests.py                 # everything, 2 notebooks at a time
    python tools/run_tests.py --flags slow    # also run the cells flagged `slow` (long training)
    python tools/run_tests.py nbs/00_patching.ipynb
"""
import argparse, multiprocessing, os, re, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _init_worker(threads):
    # one torch thread per worker: two notebooks on two cores instead of four threads fighting over them
    import torch; torch.set_num_threads(threads)

def _run_nb(fn, flags):
    from nbdev.test import test_nb
    from nbdev.config import get_config
    skip = [f for f in get_config().tst_flags.split() if f not in flags]
    t = time.time()
    ok, _ = test_nb(fn, skip_flags=skip, force_flags=flags, showerr=True)
    return fn, ok, time.time() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('paths', nargs='*', help='notebooks to run (default: every nbs/*.ipynb not starting with _ or .)')
    ap.add_argument('--flags', default='', help='space-separated test flags to run too, e.g. "slow"')
    ap.add_argument('--workers', type=int, default=2, help='notebooks run in parallel (default 2)')
    ap.add_argument('--no-pytest', action='store_true', help='skip tests/ even if it holds tests')
    a = ap.parse_args()
    os.chdir(ROOT)
    nbs = [Path(p).resolve() for p in a.paths] or sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if p.name[0] not in '_.')
    flags = a.flags.split()
    passed = failed = 0
    t0 = time.time()
    threads = max(1, (os.cpu_count() or 2) // max(1, a.workers))
    # a fresh process per notebook (spawn, one task each): notebooks cannot leak state into each other, and
    # IPython's takeover of `__main__` in a worker cannot break the next task
    with ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1,
                             initializer=_init_worker, initargs=(threads,)) as ex:
        for fn, ok, secs in ex.map(_run_nb, nbs, [flags] * len(nbs)):
            print(f"{'PASS' if ok else 'FAIL'} {fn.relative_to(ROOT)} ({secs:.0f} s)", flush=True)
            passed, failed = passed + ok, failed + (not ok)
    tests = ROOT/'tests'
    if not a.no_pytest and not a.paths and any(tests.glob('test_*.py')):
        r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(tests)],
                           capture_output=True, text=True)
        print(r.stdout[-4000:], r.stderr[-2000:], sep='')
        counts = {k: int(v) for v, k in re.findall(r'(\d+) (passed|failed|error|errors)', r.stdout.splitlines()[-1] if r.stdout else '')}
        passed += counts.get('passed', 0)
        failed += counts.get('failed', 0) + counts.get('error', 0) + counts.get('errors', 0)
        if r.returncode not in (0, 5) and not (counts.get('failed') or counts.get('error') or counts.get('errors')): failed += 1
    print(f"total time {time.time() - t0:.0f} s")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
