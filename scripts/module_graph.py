#!/usr/bin/env python3
"""Print the `crate::` dependency graph between cachelab's modules and fail on a cycle.

Every `crate::a::b` path in a file under `src/` (in `use` lines and in code) is an edge from
the file's module to the module it names. Modules are taken at the depth given by --depth
(1: `trace`, `policy`, …; 2: `memcached::model`, `memcached::wire`, …), so a cycle between
two top-level modules, or between two layers of one, shows. Test modules (`#[cfg(test)]`
blocks at the end of a file) are left out: a test may reach across layers. `super::` paths
are resolved against the file's own module.

Usage: python3 scripts/module_graph.py [--depth 1|2] [--dot]
Exit status 1 and the cycle printed when the graph has one.
"""
import argparse
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
PATH_RE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP_RE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*?)\}", re.S)


def module_of(path: pathlib.Path) -> list[str]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def strip_tests(text: str) -> str:
    """Drop a trailing `#[cfg(test)] mod tests { … }` block and comments."""
    idx = text.find("#[cfg(test)]\nmod tests")
    if idx >= 0:
        text = text[:idx]
    text = re.sub(r"//[^\n]*", "", text)
    return text


def is_module(parts: list[str]) -> bool:
    p = SRC.joinpath(*parts)
    return p.with_suffix(".rs").exists() or (p / "mod.rs").exists()


def resolve(base: list[str], kind: str, rest: str) -> list[str]:
    names = [n for n in rest.split("::") if n]
    if kind == "crate":
        parts = []
    else:
        parts = base[:-1] if base else []
        while names and names[0] == "super":
            names.pop(0)
            parts = parts[:-1]
    # keep the longest prefix that is a module
    out = list(parts)
    for n in names:
        if is_module(out + [n]):
            out.append(n)
        else:
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--dot", action="store_true")
    args = ap.parse_args()
    edges: dict[str, set[str]] = {}
    for f in sorted(SRC.rglob("*.rs")):
        me = module_of(f)
        if not me:
            continue
        src_mod = "::".join(me[: args.depth])
        text = strip_tests(f.read_text())
        targets = []
        for m in GROUP_RE.finditer(text):
            base = resolve(me, m.group(1), m.group(2))
            for item in re.split(r",", m.group(3)):
                item = item.strip().split(" ")[0].split("::")[0]
                if item and is_module(base + [item]):
                    targets.append(base + [item])
                else:
                    targets.append(base)
        for m in PATH_RE.finditer(text):
            targets.append(resolve(me, m.group(1), m.group(2)))
        for t in targets:
            if not t:
                continue
            dst = "::".join(t[: args.depth])
            # a module using its own children is not a dependency between layers
            if dst == src_mod or dst.startswith(src_mod + "::") or src_mod.startswith(dst + "::"):
                continue
            edges.setdefault(src_mod, set()).add(dst)
    if args.dot:
        print("digraph cachelab {")
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
    else:
        for a in sorted(edges):
            print(f"{a} -> {', '.join(sorted(edges[a]))}")
    # cycle search (DFS)
    color: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def dfs(u: str) -> None:
        color[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if color.get(v) == 1:
                cycles.append(stack[stack.index(v):] + [v])
            elif color.get(v) is None:
                dfs(v)
        stack.pop()
        color[u] = 2

    for n in sorted(edges):
        if n not in color:
            dfs(n)
    if cycles:
        for c in cycles:
            print("cycle: " + " -> ".join(c), file=sys.stderr)
        return 1
    print("no cycle", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
