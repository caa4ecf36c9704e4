"Small helper for the sd_mae benches: a markdown table without the optional `tabulate` dependency."
def md_table(df, digits:int=3)->str:
    fmt = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    rows = [' | '.join(map(str, df.columns)), ' | '.join('---' for _ in df.columns)]
    rows += [' | '.join(fmt(v) for v in r) for r in df.itertuples(index=False)]
    return '\n'.join(f'| {r} |' for r in rows)
