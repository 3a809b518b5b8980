#!/usr/bin/env python3
"""check-includes.py [ROOT]: the layering, checked (in the spirit of Chromium's DEPS files).

1. Each top folder may include only the folders below it:
       base <- syscalls <- policy <- report <- tracer <- cli
   (tests/, bench/ and samples/ may include anything of the project).
2. No include cycle between modules (a module is a .h with its .cc): a cycle means two files
   that cannot be understood, tested or moved apart.
Prints every violation with the line that makes it; exits 1 if there is one.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
# What each folder may include besides itself.
ALLOWED = {
    "base": set(),
    "syscalls": {"base"},
    "policy": {"base", "syscalls"},
    "report": {"base", "syscalls", "policy"},
    "tracer": {"base", "syscalls", "policy", "report"},
    "cli": {"base", "syscalls", "policy", "report", "tracer"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources():
    for folder in ALLOWED:
        top = os.path.join(ROOT, folder)
        for dirpath, _, files in os.walk(top):
            for f in sorted(files):
                if f.endswith((".h", ".cc")):
                    yield os.path.relpath(os.path.join(dirpath, f), ROOT)


def main():
    problems = []
    edges = {}  # module -> {module: (file, line)}
    for path in sources():
        folder = path.split(os.sep)[0]
        module = os.path.splitext(path)[0]
        with open(os.path.join(ROOT, path), encoding="utf-8") as src:
            for number, text in enumerate(src, 1):
                m = INCLUDE.match(text)
                if not m:
                    continue
                target = m.group(1)
                target_folder = target.split("/")[0]
                if target_folder not in ALLOWED:
                    continue  # a system or third-party header
                if target_folder != folder and target_folder not in ALLOWED[folder]:
                    problems.append(f"{path}:{number}: {folder}/ may not include {target} "
                                    f"({folder}/ may include: {', '.join(sorted(ALLOWED[folder])) or 'nothing'})")
                target_module = os.path.splitext(target)[0]
                if target_module != module:
                    edges.setdefault(module, {}).setdefault(target_module, (path, number))
    # Cycles: Tarjan's strongly connected components over the module graph.
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                sccs.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for component in sccs:
        members = set(component)
        where = [f"{f}:{n} includes {t}" for m in component
                 for t, (f, n) in sorted(edges.get(m, {}).items()) if t in members]
        problems.append("include cycle between " + ", ".join(component) + ": " + "; ".join(where))
    for p in problems:
        print(p)
    if problems:
        print(f"check-includes: {len(problems)} problem(s)")
        return 1
    print("check-includes: layering ok (base <- syscalls <- policy <- report <- tracer <- cli), no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
