"""The package's shape: no import cycle among its modules (imports inside functions included), no module over 600
lines except the Triton kernel files, no test module importing another."""

from __future__ import annotations

import ast
import pathlib

import nnaudio_fast
import nnaudio_fast.kernels

PACKAGE = pathlib.Path(nnaudio_fast.__file__).parent
KERNELS = pathlib.Path(nnaudio_fast.kernels.__file__).parent
TESTS = pathlib.Path(__file__).parents[1]
#: Triton kernel files, the one exception to the size limit (a kernel reads top-down in one file).
KERNEL_FILES = {"fourier.py", "cqt.py"}
MAX_LINES = 600


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for base, prefix in ((PACKAGE, "nnaudio_fast"), (KERNELS, "nnaudio_fast.kernels")):
        for path in base.rglob("*.py"):
            parts = path.relative_to(base).with_suffix("").parts
            name = ".".join((prefix,) + parts)
            out[name[: -len(".__init__")] if name.endswith(".__init__") else name] = path
    return out


def _imports(name: str, path: pathlib.Path, modules) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    deps = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in modules:
                    deps.add(full)
                elif base in modules and not (modules[base].parent / alias.name).with_suffix(".so").exists() and not \
                        list(modules[base].parent.glob(alias.name + ".*.so")):
                    deps.add(base)
    deps.discard(name)
    return deps


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    modules = _modules()
    assert "nnaudio_fast.reference.constant_q" in modules and "nnaudio_fast.kernels.cqt" in modules
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "nnaudio_fast.geometry" in graph["nnaudio_fast.cpp"]  # the parser sees imports
    assert _cycles(graph) == []


def test_cycle_detection_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_600_lines_except_kernel_files():
    too_long = {str(p): n for p in _modules().values()
                if (n := len(p.read_text().splitlines())) > MAX_LINES
                and not (p.parent == KERNELS and p.name in KERNEL_FILES)}
    assert too_long == {}


def test_no_test_module_imports_another():
    tests = {p.stem for p in TESTS.rglob("test_*.py")} | {"conftest"}
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            bad = [n for n in names if n.split(".")[-1] in tests]
            assert not bad, f"{path.relative_to(TESTS)} imports {bad}"


def test_setup_installs_every_package():
    """setup.py lists packages by hand: a new sub-package missing there would be absent from a wheel."""
    tree = ast.parse((PACKAGE.parent / "setup.py").read_text())
    listed = next(ast.literal_eval(k.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
                  for k in node.keywords if k.arg == "packages")
    found = {".".join(("nnaudio_fast",) + p.parent.relative_to(PACKAGE).parts) for p in PACKAGE.rglob("__init__.py")}
    found |= {"nnaudio_fast.kernels", "nnaudio_fast.benchmarks"}
    assert set(listed) == {f.rstrip(".") for f in found}
