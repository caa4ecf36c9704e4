#!/usr/bin/env python
"""Rewrap the code-cell lines of notebooks that are longer than the page width, and only those.

Each code line longer than `--width` (default 120) is rewrapped on its own, top of the cell first, by the first
of these that works:

1. a one-line compound statement (`if x: y`, `with a: y`) is split after its colon; a line of several statements
   (`a; b; c`) is split into lines of as many as fit; a line that is one string literal (a docstring) becomes
   implicit concatenation in parentheses, split after spaces (`("abc " "def")` is the constant `'abc def'`);
2. fastai's compact style: break inside the outermost brackets, after a comma (else before an operator, `and`,
   `or`, `if`, `else`, `for`), as late as fits, continuation lines aligned with the open bracket (not inside `for`
   targets or `lambda` arguments); a bare tuple or expression after `=` or `return` is put in parentheses for it;
3. black (`--line-ranges`, black's own "format only these lines"; if that fails, black on the statement alone):
   black reformats the statement that line belongs to and nothing else.

Short lines are never touched, so the fastai compact style of the rest is kept. A rewrap is kept only if

- the cell's `ast.dump` is unchanged (so behaviour, names, signatures and docstrings are the same), and so are the
  parameter comments that fastcore's `docments` turns into show_doc's parameter table,
- it lowers the number of long lines in the cell (black often splits a call around a long string that stays long:
  then the original line is kept and listed);

and blank lines black adds or removes around the statement (two before a top-level `def`, one between methods)
are put back as they were. Not touched: `#|` directive lines, IPython magics (`%...`, `%%...`, `!...`, masked
before formatting and restored after) and cells that do not parse (listed). Comments are handled before black
(which would wrap the code around them): a trailing comment that makes its line long moves onto its own comment
line(s) above the line, and long full-line comments are rewrapped at the width. What is left (long strings, URLs,
words longer than the width) is listed with its cell and line, to split by hand (strings with implicit concatenation:
`'abc' 'def'` is the same constant as `'abcdef'`).

Notebooks are written back in nbdev's format (fastcore's `write_nb`), then `nbdev-clean` runs on them.

    python tools/wrap_cells.py nbs/00_patching.ipynb nbs/00a_data.ipynb   # rewrap these notebooks
    python tools/wrap_cells.py 00_patching 04_                          # notebooks whose name contains one of these
    python tools/wrap_cells.py --strings 04_    # also split long strings (black's string splitting, AST-verified)
    python tools/wrap_cells.py --check                                   # all notebooks: report only, write nothing
    python tools/wrap_cells.py --check 06_ --width 100 -v                # report, listing every long line left
    python tools/wrap_cells.py --check --diff 00j_                       # show what it would change

Prints per notebook: long lines before -> after, and the lines it could not wrap (`-v`: all of them, else the
first few). `--check` exits 1 if a notebook has lines this tool would rewrap. black is a dev tool only
(`pip install black`); it is not a dependency of the library.
"""
import argparse, ast, dataclasses, difflib, io, re, subprocess, sys, textwrap, tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAGIC_RE = re.compile(r'^(\s*)([%!].*)$')
DIRECTIVE_RE = re.compile(r'^\s*#\|')

def _mode(width, strings=False):
    import black
    if strings:  # black's unstable string splitting: only ever kept when the AST is unchanged
        return black.Mode(line_length=width, string_normalization=False, magic_trailing_comma=False, preview=True,
                          enabled_features={black.Preview.string_processing})
    return black.Mode(line_length=width, string_normalization=False, magic_trailing_comma=False)

def mask(lines):
    "Magic lines replaced by a placeholder name (same indentation); returns the masked lines and the originals."
    out, magics = [], {}
    for i, l in enumerate(lines):
        m = MAGIC_RE.match(l)
        if m: magics[i] = l; out.append(f"{m.group(1)}__wrap_cells_magic_{i}__")
        else: out.append(l)
    return out, magics

def unmask(lines, magics):
    "The placeholders put back as the magic lines they stand for."
    byname = {f"__wrap_cells_magic_{i}__": l for i, l in magics.items()}
    return [byname.get(l.strip(), l) for l in lines]

def is_long(l, width): return len(l) > width and not DIRECTIVE_RE.match(l)

def long_idx(lines, width): return [i for i, l in enumerate(lines) if is_long(l, width)]

def _docments(src, tree):
    """The parameter comments fastcore's `docments` (and so `show_doc`) reads, for every def and class in the cell:
    the comment on a parameter's (or return annotation's, or dataclass field's) line, else the comment lines just
    above it. Comments are not in the AST, so this is checked beside it."""
    try: toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    com = {t.start[0]: t.string.lstrip('#') for t in toks if t.type == tokenize.COMMENT}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = n.args
            p = {x.lineno: x.arg for x in [*a.posonlyargs, *a.args, *([a.vararg] if a.vararg else []), *a.kwonlyargs,
                                           *([a.kwarg] if a.kwarg else [])]}
            if n.returns: p[n.returns.lineno] = 'return'
        elif isinstance(n, ast.ClassDef):
            p = {x.lineno: ast.unparse(x.target) for x in n.body if isinstance(x, ast.AnnAssign)}
        else: continue
        lo = min([n.lineno] + [d.lineno for d in n.decorator_list])   # inspect.getsource starts here
        for row, name in p.items():
            if row in com: doc = com[row].strip()
            else:
                r, res = row - 1, []
                while r >= lo and r in com and r not in p: res.append(com[r]); r -= 1
                doc = textwrap.dedent('\n'.join(reversed(res))) or None
            out.append((n.name, name, row, doc))
    return out

def _dump(src):
    "What a rewrap must keep: the AST, and the parameter comments show_doc renders (None if `src` does not parse)."
    try: tree = ast.parse(src)
    except SyntaxError: return None
    return ast.dump(tree), [(n, p, d) for n, p, _, d in _docments(src + '\n', tree) or []]

def doc_rows(src):
    "Rows (0-based) of the lines whose comments show_doc reads as parameter docs."
    try: tree = ast.parse(src)
    except SyntaxError: return set()
    return {r - 1 for _, _, r, d in _docments(src + '\n', tree) or [] if d}

def _n_blank(ls):
    "Number of blank lines at the start of `ls`."
    return next((k for k, l in enumerate(ls) if l.strip()), len(ls))

def _keep_blank_lines(old, new):
    "`new` with the blank lines black added or removed around the changed statements put back as they were in `old`."
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        o, n = old[i1:i2], new[j1:j2]
        if tag == 'equal': out += n; continue
        body = [l for l in n if l.strip()]
        if not body or _n_blank(o) == len(o): out += o + body; continue   # only blank lines changed: keep the old ones
        out += [''] * _n_blank(o) + body + [''] * _n_blank(o[::-1])
    return out

def _rows_of(lines, i):
    "The rows (0-based, end exclusive) of the statement holding line `i`: a simple statement, or a compound header."
    try: tree = ast.parse('\n'.join(lines))
    except SyntaxError: return None
    best = None
    for n in ast.walk(tree):
        if not isinstance(n, ast.stmt): continue
        end = n.body[0].lineno - 1 if hasattr(n, 'body') and n.body and n.body[0].lineno > n.lineno else n.end_lineno
        if hasattr(n, 'body') and n.body and n.body[0].lineno == n.lineno: end = n.lineno
        if n.lineno <= i + 1 <= end and (best is None or n.lineno >= best[0]): best = (n.lineno, end)
    return None if best is None else (best[0] - 1, best[1])

def _black_one(lines, i, mode):
    """black on the statement holding line `i` (0-based) of the cell; None if black fails or touches other lines
    (its line-ranges mode sometimes does, e.g. `if x: y` elsewhere in the cell)."""
    import black
    src = '\n'.join(lines) + '\n'
    try: res = black.format_str(src, mode=mode, lines=[(i + 1, i + 1)])
    except Exception: return None
    new = _keep_blank_lines(lines, res.rstrip('\n').split('\n'))
    rows = _rows_of(lines, i)
    if rows is None: return None
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, lines, new, autojunk=False).get_opcodes():
        if tag != 'equal' and (i1 < rows[0] or i2 > rows[1]): return None
    return new

def _trailing_comments(lines):
    "{row: column} of the comments that follow code on their line (0-based rows), rows inside strings excluded."
    try: toks = list(tokenize.generate_tokens(io.StringIO('\n'.join(lines) + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return {}
    inside = {r for t in toks if t.end[0] > t.start[0] for r in range(t.start[0] + 1, t.end[0] + 1)}
    return {t.start[0] - 1: t.start[1] for t in toks if t.type == tokenize.COMMENT and t.start[0] not in inside
            and lines[t.start[0] - 1][:t.start[1]].strip()}

def _wrap_comment(indent, text, width):
    "A comment as comment lines of at most `width` characters (words longer than that stay whole)."
    return [f"{indent}# {w}" for w in textwrap.wrap(text, max(width - len(indent) - 2, 20), break_long_words=False,
                                                    break_on_hyphens=False)] or [f"{indent}#"]

def _hoist_comment(lines, i, col, width, above=None):
    """Line `i`'s trailing comment moved onto comment line(s) of its own above it (or above line `above`, the start
    of its statement), with that line's indentation."""
    l, a = lines[i], i if above is None else above
    indent = lines[a][:len(lines[a]) - len(lines[a].lstrip())]
    text = l[col:].lstrip('#').strip()
    rest = lines[:i] + [l[:col].rstrip()] + lines[i + 1:]
    return rest[:a] + _wrap_comment(indent, text, width) + rest[a:]

def _split_comment(lines, i, width):
    "The full-line comment at line `i` rewrapped to `width`."
    l = lines[i]
    indent = l[:len(l) - len(l.lstrip())]
    return lines[:i] + _wrap_comment(indent, l.strip().lstrip('#').strip(), width) + lines[i + 1:]

_BIN_OPS = {'+', '-', '*', '/', '//', '%', '@', '|', '&', '^', '==', '!=', '<', '>', '<=', '>=', '<<', '>>'}
_BREAK_WORDS = {'and', 'or', 'if', 'else', 'for'}
_RANK = {'for': 0, 'if': 0, 'else': 0, 'or': 1, 'and': 2, '==': 3, '!=': 3, '<': 3, '>': 3, '<=': 3, '>=': 3,
         '|': 4, '^': 4, '&': 4, '<<': 5, '>>': 5, '+': 6, '-': 6}       # others (* / // % @): 7
_OPERAND_END = {tokenize.NAME, tokenize.NUMBER, tokenize.STRING}

def _compact(lines, i, width):
    """fastai's own wrapping of line `i`: break inside brackets (the outermost brackets first), after a comma or
    else before a binary operator / `and` / `or` / `if` / `else` / `for`, as late as the width allows, each
    continuation aligned one column right of its open bracket. None if no break gives a line that fits, or the
    continuation would start beyond two thirds of the width."""
    rows = _rows_of(lines, i)                                # the statement's rows (0-based, hi exclusive)
    if rows is None: return None
    lo, hi = rows
    try: toks = list(tokenize.generate_tokens(io.StringIO('\n'.join(lines[lo:hi]) + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    fs = {getattr(tokenize, k) for k in ('FSTRING_START', 'TSTRING_START') if hasattr(tokenize, k)}
    fe = {getattr(tokenize, k) for k in ('FSTRING_END', 'TSTRING_END') if hasattr(tokenize, k)}
    fe_end = fe | {tokenize.STRING}
    keywords = {'return', 'in', 'not', 'and', 'or', 'if', 'else', 'lambda', 'yield', 'await', 'is', 'for', 'assert'}
    stack, fdepth, cands = [], 0, []        # breaks on row i: (col, kind, bracket, depth); kind 0: after a comma,
                                            # 1 + rank: before an operator, the lowest precedence first
    skip, prev = [], None                   # per open bracket: inside a `for ... in` target or `lambda ...:` arguments
    for t in toks:
        r = t.start[0] - 1 + lo
        if t.type in fs: fdepth += 1; continue
        if t.type in fe: fdepth -= 1; prev = t; continue
        if fdepth or t.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT): continue
        operand_before = prev is not None and ((prev.type in _OPERAND_END | fe_end and prev.string not in keywords)
                                               or (prev.type == tokenize.OP and prev.string in ')]}'))
        if t.type == tokenize.OP and t.string in '([{': stack.append((r, t.start[1])); skip.append(None)
        elif t.type == tokenize.OP and t.string in ')]}':
            if stack: stack.pop(); skip.pop()
        elif not stack: pass
        elif t.type == tokenize.NAME and t.string in ('for', 'lambda') and skip[-1] is None:
            if t.string == 'for' and r == i: cands.append((t.start[1], 1, stack[-1], len(stack)))   # `for`: rank 0
            skip[-1] = t.string
        elif (t.type == tokenize.NAME and t.string == 'in' and skip[-1] == 'for') or (
              t.type == tokenize.OP and t.string == ':' and skip[-1] == 'lambda'): skip[-1] = None
        elif r == i and skip[-1] is None:
            if t.type == tokenize.OP and t.string == ',': cands.append((t.end[1], 0, stack[-1], len(stack)))
            elif operand_before and ((t.type == tokenize.OP and t.string in _BIN_OPS) or
                                     (t.type == tokenize.NAME and t.string in _BREAK_WORDS)):
                cands.append((t.start[1], 1 + _RANK.get(t.string, 7), stack[-1], len(stack)))
        prev = t
    opens = sorted({ob for _, _, ob, _ in cands if ob[0] == i})
    line, out, st, prefix = lines[i], [], 0, ''
    newcol = {}
    while len(prefix) + len(line) - st > width:
        fits = [(c, k, ob, d) for c, k, ob, d in cands if c > st and line[st:c].strip() and c < len(line.rstrip())
                and len(prefix) + len(line[st:c].rstrip()) <= width]
        if not fits: return None
        top = min(d for *_, d in fits)                       # the outermost brackets first,
        kind = min(k for _, k, _, d in fits if d == top)     # after a comma, else before the loosest operator,
        c, _, ob, _ = [f for f in fits if f[3] == top and f[1] == kind][-1]   # as late as it fits
        out.append(prefix + line[st:c].rstrip())
        for o in opens:                                       # brackets opened on this output line: their new column
            if st <= o[1] < c: newcol[o] = len(prefix) + o[1] - st
        col = newcol.get(ob, ob[1] if ob[0] < i else None)
        if col is None or col + 1 > width * 2 // 3: return None     # aligned far right: black's layout reads better
        prefix = ' ' * (col + 1)
        st = c + len(line[c:]) - len(line[c:].lstrip())
    out.append(prefix + line[st:])
    nxt = lines[i + 1] if i + 1 < hi else None              # the remainder joins the next continuation line
    if (len(out) > 1 and nxt is not None and out[-1].endswith(',') and not nxt.lstrip().startswith('#')
            and len(nxt) - len(nxt.lstrip()) == len(prefix)
            and (len(out[-1]) + 1 + len(nxt.lstrip()) <= width or is_long(nxt, width))):  # a long one is rewrapped next
        return lines[:i] + out[:-1] + [out[-1] + ' ' + nxt.lstrip()] + lines[i + 2:]
    return lines[:i] + out + lines[i + 1:]

def _paren_value(lines, i):
    """Line `i` with the bare value of its one-line assignment or return (a tuple, an operator expression, `a if c
    else b`) in parentheses: the same AST, and `_compact` can then break it. None if there is none."""
    try: tree = ast.parse('\n'.join(lines))
    except SyntaxError: return None
    n = _stmt_at(tree, i + 1)
    if not isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)) or n.lineno != n.end_lineno: return None
    v, l = n.value, lines[i]
    if not isinstance(v, (ast.Tuple, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp)) or (isinstance(v, ast.Tuple) and not v.elts):
        return None
    if isinstance(v, ast.Tuple) and l[v.col_offset] == '(': return None
    if l[:v.col_offset].rstrip().endswith('(') and l[v.end_col_offset:].lstrip().startswith(')'): return None
    return lines[:i] + [l[:v.col_offset] + '(' + l[v.col_offset:v.end_col_offset] + ')' + l[v.end_col_offset:]] + lines[i + 1:]

def _stmt_at(tree, row):
    "The innermost simple (non-compound) statement whose lines include `row` (1-based), the first of a `a; b`, or None."
    best = None
    for n in ast.walk(tree):
        if isinstance(n, ast.stmt) and n.lineno <= row <= n.end_lineno and not hasattr(n, 'body'):
            if best is None or (n.lineno, -n.col_offset) > (best.lineno, -best.col_offset): best = n
    return best

_STR_RE = re.compile(r'^(\s*)([rRuU]?)(\'|")(.*)\3$')

def _split_string_line(lines, i, width):
    """A line that is one plain string literal (a docstring, typically) as implicit concatenation in parentheses,
    split after spaces: `("first part " "second part")` is the same constant, so the docstring is unchanged."""
    m = _STR_RE.match(lines[i])
    if not m: return None
    indent, pre, q, body = m.groups()
    if q in body.replace('\\' + q, '') or '\\\n' in body: return None
    words = re.split(r'(?<=(?<!\\) )', body)               # keep each space with the word before it
    out, cur = [], ''
    for w in words:
        room = width - len(indent) - 1 - 2 * len(q) - len(pre) - 1  # '(' or ' ' before, ')' after the last
        if cur and len(cur) + len(w) > room: out.append(cur); cur = w
        else: cur += w
    out.append(cur)
    if len(out) < 2: return None
    res = [f"{indent}{'(' if k == 0 else ' '}{pre}{q}{p}{q}{')' if k == len(out) - 1 else ''}" for k, p in enumerate(out)]
    return lines[:i] + res + lines[i + 1:]

def _split_header(lines, i):
    "A one-line compound statement at line `i` (`if x: y`, `else: y`, `with a: y`) split after its colon."
    try: tree = ast.parse('\n'.join(lines))
    except SyntaxError: return None
    n = _stmt_at(tree, i + 1)
    if n is None or n.lineno != i + 1: return None
    l = lines[i]
    indent = l[:len(l) - len(l.lstrip())]
    head = l[:n.col_offset].rstrip()
    if n.col_offset <= len(indent) or not head.endswith(':'): return None
    return lines[:i] + [head, indent + '    ' + l[n.col_offset:]] + lines[i + 1:]

def _split_semicolons(lines, i, width):
    "Line `i` holding several statements (`a; b; c`, alone on the line) as lines of as many as fit the width."
    try: tree = ast.parse('\n'.join(lines))
    except SyntaxError: return None
    l = lines[i]
    indent = l[:len(l) - len(l.lstrip())]
    on = sorted((n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno <= i + 1 <= n.end_lineno),
                key=lambda n: (n.lineno, n.col_offset))
    on = [n for n in on if not hasattr(n, 'body') and n.lineno == n.end_lineno == i + 1]
    if len(on) < 2 or on[0].col_offset != len(indent): return None
    parts = [l[a.col_offset:b.col_offset].rstrip().rstrip(';').rstrip() for a, b in zip(on, on[1:])] + [l[on[-1].col_offset:]]
    out = [indent + parts[0]]
    for p in parts[1:]:
        if len(out[-1]) + 2 + len(p) <= width: out[-1] += '; ' + p
        else: out.append(indent + p)
    return lines[:i] + out + lines[i + 1:]

def _isolated(lines, i, width, mode):
    """black's line-ranges can produce invalid code (e.g. beside `if x: y` one-liners): then the statement holding
    line `i` is formatted on its own, dedented, with the width less its indentation, and put back."""
    import black
    try: tree = ast.parse('\n'.join(lines))
    except SyntaxError: return None
    n = _stmt_at(tree, i + 1)
    if n is None: return None
    first, last = lines[n.lineno - 1], lines[n.end_lineno - 1]
    indent = first[:len(first) - len(first.lstrip())]
    if n.col_offset > len(indent): return None              # after a header or a `;`: see `_split_header`
    rest = last[n.end_col_offset:].strip()
    if rest and not rest.startswith('#'): return None                       # `a; b`: another statement follows
    body = textwrap.dedent('\n'.join(lines[n.lineno - 1:n.end_lineno]))
    try: res = black.format_str(body + '\n', mode=dataclasses.replace(mode, line_length=width - len(indent)))
    except Exception: return None
    return lines[:n.lineno - 1] + [indent + l if l else l for l in res.rstrip('\n').split('\n')] + lines[n.end_lineno:]

def why_left(l, width, docment=False):
    "A short reason a long line was not wrapped."
    if docment: return "parameter comment (show_doc's table)"
    if DIRECTIVE_RE.match(l): return 'directive'
    if MAGIC_RE.match(l): return 'magic'
    if l.lstrip().startswith('#'): return 'comment'
    try: toks = list(tokenize.generate_tokens(io.StringIO(l.strip() + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): toks = []
    if any(t.type == tokenize.COMMENT and t.start[1] + len(l) - len(l.lstrip()) < width for t in toks): return 'trailing comment'
    if re.search(r'https?://', l): return 'URL'
    fstr = getattr(tokenize, 'FSTRING_START', None)
    if any(t.type == tokenize.STRING and len(t.string) > width // 3 for t in toks) or (fstr and any(t.type == fstr for t in toks)): return 'string'
    return 'not wrapped'

def wrap_source(src, width, strings=False):
    """`src` with its long lines rewrapped; returns (new_src, problem) where problem is None or why the cell was left
    alone ('does not parse')."""
    lines = src.split('\n')
    if not long_idx(lines, width): return src, None
    masked, magics = mask(lines)
    ref = _dump('\n'.join(masked))
    if ref is None: return src, 'does not parse'
    ok = lambda new: _dump('\n'.join(new)) == ref
    cur = masked
    # 1. trailing comments that make a line long go onto their own line(s) above it (bottom first: rows stay valid)
    trailing = _trailing_comments(cur)
    for i, col in sorted(trailing.items(), reverse=True):
        if not is_long(cur[i], width): continue
        rows = _rows_of(cur, i)   # the one comment of a statement, on its last line: it speaks of the whole statement
        if (rows and rows[1] - rows[0] > 1 and i == rows[1] - 1 and not any(rows[0] <= r < i for r in trailing)
                and ok(new := _hoist_comment(cur, i, col, width, above=rows[0]))): cur = new
        elif ok(new := _hoist_comment(cur, i, col, width)): cur = new
    # 2. long full-line comments are rewrapped (directives are not comments to touch)
    for i in reversed(long_idx(cur, width)):
        if cur[i].lstrip().startswith('#') and ok(new := _split_comment(cur, i, width)): cur = new
    # 3. each line still long, top first: the first rewrap that lowers the count of long lines (and keeps the AST)
    modes = [_mode(width)] + ([_mode(width, strings=True)] if strings else [])
    failed = set()
    while True:
        todo = [i for i in long_idx(cur, width) if cur[i] not in failed and not cur[i].lstrip().startswith('#')
                and not cur[i].strip().startswith('__wrap_cells_magic_')]
        if not todo: break
        i, n_long = todo[0], len(long_idx(cur, width))
        new = _split_header(cur, i)
        if new is not None and ok(new): cur = new; continue
        new = _split_string_line(cur, i, width)
        if new is not None and ok(new) and len(long_idx(new, width)) < n_long: cur = new; continue
        new = _split_semicolons(cur, i, width)
        if new is not None and ok(new) and new != cur: cur = new; continue
        new = _compact(cur, i, width)
        if new is not None and ok(new) and len(long_idx(new, width)) < n_long: cur = new; continue
        new = _paren_value(cur, i)
        new = new and _compact(new, i, width)
        if new is not None and ok(new) and len(long_idx(new, width)) < n_long: cur = new; continue
        for mode in modes:
            new = _black_one(cur, i, mode)
            if new is not None and ok(new) and len(long_idx(new, width)) < n_long: cur = new; break
            new = _isolated(cur, i, width, mode)
            if new is not None and ok(new) and len(long_idx(new, width)) <= n_long and new != cur: cur = new; break
        else: failed.add(cur[i])
    return '\n'.join(unmask(cur, magics)), None

def notebooks(pats):
    "Paths given, or the notebooks in nbs/ whose name contains one of `pats` (all of them if none)."
    nbs = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if p.name[0] not in '_.')
    if not pats: return nbs
    out = []
    for p in pats:
        if Path(p).is_file(): out.append(Path(p).resolve()); continue
        hits = [n for n in nbs if p in n.name]
        if not hits: sys.exit(f"wrap_cells: no notebook {p!r} (give a path or part of a name in nbs/)")
        out += hits
    return list(dict.fromkeys(out))

def process(path, width, write, strings=False, verbose=False, diff=False, log=print):
    "Rewrap one notebook; returns (before, after, changed)."
    from fastcore.nbio import read_nb, write_nb
    nb = read_nb(path)
    before = after = 0; left = []; changed = False
    for ci, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        src = c.source
        before += len(long_idx(src.split('\n'), width))
        new, problem = wrap_source(src, width, strings=strings)
        nl = new.split('\n')
        drows = doc_rows('\n'.join(mask(nl)[0])) if problem is None else set()
        for i in long_idx(nl, width):
            why = problem or why_left(nl[i], width, i in drows)
            left.append(f"cell {ci} line {i + 1} ({len(nl[i])} chars, {why}): {nl[i].strip()[:90]}")
        after += len(long_idx(nl, width))
        if new != src:
            if diff: log(''.join(difflib.unified_diff(src.splitlines(True), new.splitlines(True), f'cell {ci}', f'cell {ci}', n=1)))
            c.source = new; changed = True
    try: name = path.relative_to(ROOT)
    except ValueError: name = path
    log(f"{name}: {before} -> {after} line(s) over {width}" + (' (rewrapped)' if changed and write else
                                                                 ' (would rewrap)' if changed else ''))
    for l in (left if verbose else left[:5]): log(f"    {l}")
    if len(left) > 5 and not verbose: log(f"    ... {len(left) - 5} more (-v lists them all)")
    if changed and write:
        write_nb(nb, path)
        subprocess.run(['nbdev-clean', '--fname', str(path)], check=True, cwd=ROOT)
    return before, after, changed

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebook paths, or parts of names in nbs/ (with --check: all if none)')
    ap.add_argument('--width', type=int, default=120, help='page width in characters (default 120)')
    ap.add_argument('--check', action='store_true', help='only report; exit 1 if some line would be rewrapped')
    ap.add_argument('--strings', action='store_true', help="also let black's (unstable) string splitting try the "
                    "lines left long; kept only where the AST is unchanged")
    ap.add_argument('--diff', action='store_true', help='print the change to each cell')
    ap.add_argument('-v', '--verbose', action='store_true', help='list every long line left')
    a = ap.parse_args(argv)
    if not a.check and not a.notebooks: ap.error('name the notebooks to rewrite (or use --check to report on all)')
    tot_b = tot_a = n_changed = 0
    for p in notebooks(a.notebooks):
        b, af, ch = process(p, a.width, write=not a.check, strings=a.strings, verbose=a.verbose, diff=a.diff)
        tot_b += b; tot_a += af; n_changed += ch
    print(f"total: {tot_b} -> {tot_a} line(s) over {a.width}; {n_changed} notebook(s) "
          + ('would change' if a.check else 'rewritten'))
    if a.check and n_changed: sys.exit(1)

if __name__ == '__main__': main()
