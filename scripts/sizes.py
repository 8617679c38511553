#!/usr/bin/env python3
"""Report Rust files and functions over size limits, for the renovation's before/after.

Usage: scripts/sizes.py [ROOT] [--file-limit N] [--fn-limit N] [--list]

Counts lines of non-test source: files under `host/*/src` and `cards/` and `sdk/` (test
modules `#[cfg(test)] mod … { … }` inside a file are counted apart), and functions
by brace matching on a token stream that skips strings, chars and comments. Tests
(`tests/`, `benches/`, `#[cfg(test)]` modules) are reported separately: long test
functions are tables of cases more often than tangled logic.
"""
import argparse, os, re, subprocess, sys

def strip(src):
    """Blank out comments, strings and char literals, keeping newlines and braces elsewhere."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith('/*', j): depth += 1; j += 2
                elif src.startswith('*/', j): depth -= 1; j += 2
                else: j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif c == 'r' and re.match(r'r#*"', src[i:i+10]) and (i == 0 or not (src[i-1].isalnum() or src[i-1] == '_')):
            m = re.match(r'r(#*)"', src[i:]); hashes = m.group(1)
            end = src.find('"' + hashes, i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r'[^\n]', ' ', src[i:end])); i = end
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j+1])); i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:i+12])
            if m:
                out.append(' ' * len(m.group(0))); i += len(m.group(0))
            else:
                out.append(c); i += 1
        else:
            out.append(c); i += 1
    return ''.join(out)

FN = re.compile(r'\bfn\s+([A-Za-z_][A-Za-z0-9_]*)')

def functions(text):
    """(name, first line, line count) of each fn with a body."""
    res = []
    for m in FN.finditer(text):
        j = m.end()
        depth_paren = 0
        while j < len(text):
            ch = text[j]
            if ch in '(<[': depth_paren += 1
            elif ch in ')>]': depth_paren -= 1
            elif ch == ';' and depth_paren <= 0: j = -1; break
            elif ch == '{' and depth_paren <= 0: break
            j += 1
        if j < 0 or j >= len(text): continue
        depth, k = 0, j
        while k < len(text):
            if text[k] == '{': depth += 1
            elif text[k] == '}':
                depth -= 1
                if depth == 0: break
            k += 1
        start = text.count('\n', 0, m.start()) + 1
        end = text.count('\n', 0, k) + 1
        res.append((m.group(1), start, end - start + 1))
    return res

def test_ranges(text):
    """Line ranges of `#[cfg(test)] mod x { … }` blocks."""
    out = []
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{', text):
        depth, k = 0, m.end() - 1
        while k < len(text):
            if text[k] == '{': depth += 1
            elif text[k] == '}':
                depth -= 1
                if depth == 0: break
            k += 1
        out.append((text.count('\n', 0, m.start()) + 1, text.count('\n', 0, k) + 1))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('root', nargs='?', default='.')
    ap.add_argument('--file-limit', type=int, default=800)
    ap.add_argument('--fn-limit', type=int, default=80)
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args()
    files = subprocess.run(['git', '-C', a.root, 'ls-files', '*.rs'], capture_output=True, text=True, check=True).stdout.split()
    big_files, big_fns, big_test_fns = [], [], []
    total = 0
    for f in files:
        text = strip(open(os.path.join(a.root, f), encoding='utf-8', errors='replace').read())
        tr = test_ranges(text)
        is_test_file = '/tests/' in '/' + f or f.startswith('tests/') or '/benches/' in f
        lines = text.count('\n')
        test_lines = sum(e - s + 1 for s, e in tr)
        src_lines = 0 if is_test_file else lines - test_lines
        total += 1
        if src_lines > a.file_limit: big_files.append((src_lines, f))
        for name, start, n in functions(text):
            in_test = is_test_file or any(s <= start <= e for s, e in tr)
            if n > a.fn_limit:
                (big_test_fns if in_test else big_fns).append((n, f'{f}:{start} {name}'))
    print(f'{total} Rust files; limits: file {a.file_limit} lines (non-test), function {a.fn_limit} lines')
    print(f'files over the limit: {len(big_files)}')
    print(f'non-test functions over the limit: {len(big_fns)}')
    print(f'test functions over the limit: {len(big_test_fns)}')
    if a.list:
        for n, f in sorted(big_files, reverse=True): print(f'  file {n:5} {f}')
        for n, f in sorted(big_fns, reverse=True): print(f'  fn   {n:5} {f}')

if __name__ == '__main__':
    main()
