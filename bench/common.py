"Shared helpers for the benchmark scripts: machine description and writing results (JSON + markdown)."
import json, os, platform, subprocess, sys, time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent/'results'
_LOAD_AT_IMPORT = os.getloadavg()[0]  # a bench imports this module at its start; `write` runs at its end

def machine()->dict:
    import torch
    cpu = platform.processor() or ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    return {'cpu': cpu, 'cores': os.cpu_count(), 'torch_threads': torch.get_num_threads(), 'python': platform.python_version(),
            'torch': torch.__version__, 'cuda': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            'load_avg_1min_at_import': _LOAD_AT_IMPORT, 'load_avg_1min_at_write': os.getloadavg()[0]}

def command()->str: return ' '.join(['python'] + [str(a) for a in sys.argv])

def write(name:str, payload:dict, table_md:str):
    "Write `bench/results/{name}.json` and `{name}.md` with machine, command and the table."
    RESULTS.mkdir(exist_ok=True)
    payload = {'command': command(), 'date': time.strftime('%Y-%m-%d %H:%M:%S'), 'machine': machine(), **payload}
    (RESULTS/f'{name}.json').write_text(json.dumps(payload, indent=2))
    m = payload['machine']
    md = (f"# {name}\n\nCommand: `{payload['command']}`  \nDate: {payload['date']}  \n"
          f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['torch_threads']} threads)"
          f"{', GPU ' + m['cuda'] if m['cuda'] else ''}, load average (1 min) {m['load_avg_1min_at_import']:.2f} when the bench started (imported bench/common.py), {m['load_avg_1min_at_write']:.2f} when it wrote its results\n\n{table_md}\n")
    (RESULTS/f'{name}.md').write_text(md)
    print(md)

def md_table(df, digits:int=3)->str:
    "A DataFrame as a markdown table (without the optional `tabulate` dependency of `DataFrame.to_markdown`)."
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    rows = [' | '.join(map(str, df.columns)), ' | '.join('---' for _ in df.columns)]
    rows += [' | '.join(fmt(v) for v in r) for r in df.itertuples(index=False)]
    return '\n'.join(f'| {r} |' for r in rows)
