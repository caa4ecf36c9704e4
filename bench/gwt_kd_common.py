"""Shared by `bench/gwt_kd_fix.py` and `bench/gwt_kd_weight.py`: the comparison run they pair with (its settings, its
Daphnet task and its per-seed test accuracies), the data it used, and its teachers retrained with a reproducibility check."""
import json
from pathlib import Path
import pandas as pd
from common import RESULTS
from patchssl.gwt_kd import gwt_data, load_daphnet_windows, standardize_data, data_pis, train_teachers
from patchssl.evaluate import test_accuracy

def compare_reference(name:str='gwt_kd_compare_2s')->tuple:
    "`(args, daphnet task, test accuracy indexed by (set, seed, row))` of the comparison run `bench/results/{name}.json`."
    ref = json.loads((RESULTS/f'{name}.json').read_text())
    return ref['args'], ref.get('daphnet'), pd.DataFrame(ref['rows']).set_index(['set', 'seed', 'row']).acc

def reference_data(name:str, daphnet:dict|None, cache)->tuple:
    "`(data, persistence images)` of set `name` as the reference run had it (its Daphnet windows, if it recorded them)."
    data = standardize_data(load_daphnet_windows(**daphnet)) if name == 'Daphnet' and daphnet else gwt_data(name)
    return data, data_pis(data, cache_dir=Path(cache))

def reference_teachers(name:str, seed:int, data, pis:dict, ref_args:dict, prev:pd.Series)->tuple:
    "`(teacher_pi, teacher_sig, record)`: the teachers of `seed` retrained with the reference's settings; `record` holds their test accuracy next to the reference's."
    tp, ts = train_teachers(data, pis, epochs=ref_args['teacher_epochs'], lr=ref_args['lr'], seed=seed)
    r = dict(set=name, seed=seed, teacher_pi=test_accuracy(tp, pis['test'], data.y_test), teacher_pi_compare=prev[(name, seed, 'teacher_pi')],
             teacher_sig=test_accuracy(ts, data.X_test, data.y_test), teacher_sig_compare=prev[(name, seed, 'teacher_sig')])
    return tp, ts, r
