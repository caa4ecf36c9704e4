"""Shared harness for the benchmark scripts: standard arguments, seeding, the machine and CPU record, and writing results
(JSON + markdown) to `bench/results/`.

A script holds only what is particular to its study:

    from common import parser, parse, write, md_table
    p = parser(__doc__, seeds=3)           # --threads, --seeds, --name, --quick, --out (+ the script's own below)
    p.add_argument('--epochs', type=int, default=30)
    a = parse(p)                            # sets the torch threads, seeds everything with the first seed
    for seed in a.seeds: ...                # a list: `--seeds 3` is 0,1,2; `--seeds 2,5` and `--seeds 2-5` also work
    # a script that runs one seed: parser(__doc__, seed=0) gives `--seed S` instead, and `a.seed`
    write(a.name, dict(args=vars(a), rows=rows), md_table(df))

`write`, `machine`, `md_table` and `RESULTS` keep their signatures for the scripts that use only them.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent/'results'
_LOAD_AT_IMPORT = os.getloadavg()[0]  # a bench imports this module at its start; `write` runs at its end
# CPU features that change which kernels torch/oneDNN can use (vector width, bf16/int8 dot products, matrix units)
SPEED_FLAGS = ('sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16',
               'avx_vnni', 'amx_tile', 'amx_bf16', 'amx_int8')

def _cpuinfo()->tuple:
    "`(model name, flags)` of the first CPU in /proc/cpuinfo (`('', set())` where there is none)."
    name, flags, seen = platform.processor() or '', set(), False
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name') and not seen: name, seen = line.split(':', 1)[1].strip(), True
            elif line.startswith(('flags', 'Features')): flags = set(line.split(':', 1)[1].split()); break
    except OSError: pass
    return name, flags

def cpu_flags()->list:
    "The speed-relevant ISA flags (`SPEED_FLAGS`) this CPU reports, in `SPEED_FLAGS` order."
    flags = _cpuinfo()[1]
    return [f for f in SPEED_FLAGS if f in flags]

def machine()->dict:
    "CPU (model and speed-relevant ISA flags), cores, torch threads, versions, GPU and the load average."
    import torch
    cpu, _ = _cpuinfo()
    return {'cpu': cpu, 'isa': cpu_flags(), 'cores': os.cpu_count(), 'torch_threads': torch.get_num_threads(),
            'python': platform.python_version(), 'torch': torch.__version__,
            'cuda': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            'load_avg_1min_at_import': _LOAD_AT_IMPORT, 'load_avg_1min_at_write': os.getloadavg()[0]}

def command()->str: return ' '.join(['python'] + [str(a) for a in sys.argv])

OUT = None  # the folder `parse` chose (`--out`, or a temporary one for `--quick`): `write` uses it when not given `out`

def write(name:str, payload:dict, table_md:str, out=None):
    "Write `{out}/{name}.json` and `{name}.md` (default `bench/results/`) with machine, command and the table."
    out = Path(out or OUT or RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    payload = {'command': command(), 'date': time.strftime('%Y-%m-%d %H:%M:%S'), 'machine': machine(), **payload}
    (out/f'{name}.json').write_text(json.dumps(payload, indent=2, default=str))
    m = payload['machine']
    isa = f" ({', '.join(m['isa'])})" if m.get('isa') else ''
    md = (f"# {name}\n\nCommand: `{payload['command']}`  \nDate: {payload['date']}  \n"
          f"Machine: {m['cpu']}{isa}, {m['cores']} cores, torch {m['torch']} ({m['torch_threads']} threads)"
          f"{', GPU ' + m['cuda'] if m['cuda'] else ''}, load average (1 min) {m['load_avg_1min_at_import']:.2f} when the bench started (imported bench/common.py), {m['load_avg_1min_at_write']:.2f} when it wrote its results\n\n{table_md}\n")
    (out/f'{name}.md').write_text(md)
    print(md)

def md_table(df, digits:int=3)->str:
    "A DataFrame as a markdown table (without the optional `tabulate` dependency of `DataFrame.to_markdown`)."
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    rows = [' | '.join(map(str, df.columns)), ' | '.join('---' for _ in df.columns)]
    rows += [' | '.join(fmt(v) for v in r) for r in df.itertuples(index=False)]
    return '\n'.join(f'| {r} |' for r in rows)

def seed_list(s)->list:
    "Seeds from `--seeds`: a count (`3` -> 0,1,2), a list (`2,5,7`) or a range (`2-5` -> 2,3,4,5)."
    s = str(s).strip()
    try:
        if ',' in s: return [int(v) for v in s.split(',') if v.strip()]
        if '-' in s[1:]:
            lo, hi = s.split('-', 1); return list(range(int(lo), int(hi) + 1))
        n = int(s)
    except ValueError: raise argparse.ArgumentTypeError(f"--seeds {s!r}: give a count (3), a list (2,5,7) or a range (2-5)")
    if n < 1: raise argparse.ArgumentTypeError(f"--seeds {s!r}: the count must be at least 1")
    return list(range(n))

from patchssl.transfer import seed_everything  # the library's one seeding function (Python, numpy, torch)

def parser(doc:str|None=None, *, name:str|None=None, seeds='1', threads:int=1,
           seed:int|None=None)->argparse.ArgumentParser:
    ("An `ArgumentParser` with the standard options `--threads`, `--seeds`, `--name`, `--quick` and `--out`. "
     "A script that runs one seed passes `seed` (its default): it gets `--seed S` (one integer) in place of `--seeds`.")
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--threads', type=int, default=threads, help='torch threads (default %(default)s)')
    if seed is None: p.add_argument('--seeds', type=seed_list, default=seed_list(seeds),
                                    help='a count (3 = seeds 0,1,2), a list (2,5,7) or a range (2-5)')
    else: p.add_argument('--seed', type=int, default=seed, help='the seed of this one run (default %(default)s)')
    p.add_argument('--name', default=name or Path(sys.argv[0]).stem, help='results file name (default %(default)s)')
    p.add_argument('--quick', action='store_true', help='a tiny run to check the script works (results not comparable)')
    p.add_argument('--out', default=None, help='results folder (default bench/results/; a temporary folder with --quick)')
    return p

def parse(p:argparse.ArgumentParser, argv=None)->argparse.Namespace:
    "Parse the arguments, set the torch threads and seed everything with the first seed (or `--seed`, see `parser`)."
    import torch
    a = p.parse_args(argv)
    if a.threads < 1: p.error(f'--threads {a.threads}: give at least 1')
    torch.set_num_threads(a.threads)
    seed_everything(a.seeds[0] if hasattr(a, 'seeds') else a.seed)
    global OUT
    if getattr(a, 'quick', False) and getattr(a, 'out', None) is None:  # a quick run never writes over the real results in bench/results/
        import tempfile; a.out = tempfile.mkdtemp(prefix='patchssl_quick_'); print(f'--quick: results go to {a.out}')
    OUT = getattr(a, 'out', None)
    return a
