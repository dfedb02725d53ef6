"""The package layering, checked on the source with ``ast`` (docs/architecture.md).

Every import in ``animsup/`` counts: top-level and lazy (inside a function), relative ones
resolved, ``importlib.import_module("animsup....")`` and the ``"module:Class"`` strings of the
registries. From them the test builds the module graph and fails on

- a cycle between modules, or between packages (the cycle is printed);
- an import against the layer order of :data:`LAYERS`;
- torch or matplotlib where a layer must not have them (followed through every animsup module
  the layer imports), and ``import animsup`` loading either;
- size: more than 8 modules flat in ``animsup/``, a function over 120 lines, more than 2 over
  100, a module over 800 lines.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "animsup"

# The layer table: (layer, rank, module prefixes, layers it must never import).
# A module may import modules of its own layer and of layers of lower or equal rank, except
# those listed as "never"; a module in no layer fails the test. One line per layer, its rule above it.
LAYERS: list[tuple[str, int, tuple[str, ...], frozenset[str]]] = [
    # the leaves: error types, atomic writes, the models table, option metadata, the escaping of untrusted text per sink; they import only each other
    ("leaves", 0, ("animsup.errors", "animsup.atomic", "animsup.models", "animsup.options", "animsup.escape"), frozenset()),
    # the log format (schema, writer, reader, recorder) sits on the leaves only
    ("log", 1, ("animsup.log",), frozenset()),
    # training writes logs; it may use the (numpy) measurements of analysis
    ("train", 2, ("animsup.train",), frozenset()),
    # analysis reads logs and never imports train (no torch on the way to a measurement)
    ("analysis", 2, ("animsup.analysis",), frozenset({"train"})),
    # rendering reads logs and measurements; never train (torch), importers, the viewer or the CLI
    ("rendering", 3, ("animsup.rendering",), frozenset({"train", "importers", "viewer", "cli"})),
    # importers stand beside the pipeline: they write logs from the leaves and the log layer only
    ("importers", 4, ("animsup.importers",), frozenset({"train", "analysis", "rendering"})),
    # exporters stand beside the importers: they read logs, measure (analysis) and render the video;
    # never train (torch) or the importers
    ("exporters", 4, ("animsup.exporters",), frozenset({"train", "importers"})),
    # the viewer builds on rendering's plan; it trains nothing (no torch)
    ("viewer", 5, ("animsup.viewer",), frozenset({"train"})),
    # the library API (render / summary / describe) over everything below
    ("api", 6, ("animsup.api",), frozenset()),
    # the command line, top of the stack: nothing but the CLI and __main__ imports it
    ("cli", 7, ("animsup.cli", "animsup.__main__"), frozenset()),
]

# ``animsup/__init__.py`` is the lazy public facade: it may import anything (it is exempt as an
# importer), and what modules may take from it is ``__version__`` alone.
FACADE = "animsup"
FACADE_NAMES_ALLOWED = {"__version__"}

# third-party packages a layer must not reach, directly, lazily or through animsup modules it imports
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "log": {"torch", "matplotlib", "ray"},        # reading a log is numpy + stdlib
    "analysis": {"torch", "matplotlib", "ray"},   # measurements are numpy only
    "rendering": {"torch", "ray"},                # `animsup render --help` and rendering stay torch-free
    "viewer": {"torch", "ray"},
    "exporters": {"torch", "ray"},                # (tensorboardX, a third-party tracker, may load torch itself)
}
# Ray (the [ray] extra) is imported by the Ray engine of sweeps alone, and only lazily
RAY_MODULES = {"animsup.train.sweep_ray"}

MAX_FLAT_MODULES = 8        # modules directly in animsup/ (__init__ and __main__ included)
MAX_FUNCTION_LINES = 120    # no function longer
LONG_FUNCTION_LINES = 100   # ... and at most MAX_LONG_FUNCTIONS functions longer than this
MAX_LONG_FUNCTIONS = 2
MAX_MODULE_LINES = 800

REGISTRY_STRING = re.compile(r"^animsup(\.\w+)+:\w+$")


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    line: int
    lazy: bool
    names: tuple[str, ...] = ()
    typing_only: bool = False  # under `if TYPE_CHECKING:`

    def where(self) -> str:
        kind = "type-only import" if self.typing_only else "lazy import" if self.lazy else "import"
        return f"{self.src} -> {self.dst} ({kind}, {_path(self.src)}:{self.line})"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _path(module: str) -> str:
    return str(MODULES[module].relative_to(ROOT)) if module in MODULES else module


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(module: str, name: str | None, level: int) -> str:
    """The absolute module of ``from <level dots><name> import ...`` inside ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not _is_package(module):
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _known(name: str) -> str | None:
    """``name`` or its closest enclosing module that exists in animsup, or None outside animsup."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def _module_dicts(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level ``NAME = {...}`` dicts and their string values (for registry look-ups)."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            out[target.id] = [v.value for v in value.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return out


def _fstring_targets(node: ast.JoinedStr, dicts: dict[str, list[str]]) -> list[str]:
    """Modules an f-string like ``f"animsup.importers.{FORMATS[name]}"`` can name."""
    if not node.values or not isinstance(node.values[0], ast.Constant):
        return []
    prefix = str(node.values[0].value)
    if not prefix.startswith("animsup.") or len(node.values) != 2:
        return []
    value = node.values[1]
    if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Subscript):
        table = value.value.value
        if isinstance(table, ast.Name) and table.id in dicts:
            return [prefix + v.partition(":")[0] for v in dicts[table.id]]
    return [prefix.rstrip(".")]


class _Imports(ast.NodeVisitor):
    """Every import of one module: statements (top-level and inside functions) and module strings."""

    def __init__(self, module: str, tree: ast.Module):
        self.module = module
        self.dicts = _module_dicts(tree)
        self.depth = 0  # > 0 inside a function: a lazy import
        self.typing_only = 0  # > 0 under `if TYPE_CHECKING:` (a dependency, though it never runs)
        self.animsup: list[Edge] = []
        self.third_party: list[tuple[str, int, bool]] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            self.typing_only += 1
            for child in node.body:
                self.visit(child)
            self.typing_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str, line: int, names: tuple[str, ...] = ()) -> None:
        top = target.split(".")[0]
        if top != "animsup":
            if top and not self.typing_only:  # type-only imports of torch load nothing
                self.third_party.append((top, line, self.depth > 0))
            return
        dst = _known(target)
        if dst is not None and dst != self.module:
            self.animsup.append(Edge(self.module, dst, line, self.depth > 0, names, self.typing_only > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.module, node.module, node.level)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in MODULES:  # `from animsup.analysis import geometry`: the submodule
                self._add(sub, node.lineno)
            else:
                self._add(base, node.lineno, (alias.name,))

    def visit_Constant(self, node: ast.Constant) -> None:
        # a registry entry: "animsup.rendering.panels.dynamics:DimTimePanel"
        if isinstance(node.value, str) and REGISTRY_STRING.match(node.value):
            self._module_string(node.value.partition(":")[0], node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("animsup.x"), import_module(f"animsup.importers.{FORMATS[name]}"),
        # import_module(TABLE[name]) with a module-level TABLE of module names
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__") and node.args:
            arg = node.args[0]
            targets: list[str] = []
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                targets = [arg.value]
            elif isinstance(arg, ast.JoinedStr):
                targets = _fstring_targets(arg, self.dicts)
            elif isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                targets = self.dicts.get(arg.value.id, [])
            for target in targets:
                if target.startswith("animsup"):
                    self._module_string(target.partition(":")[0], node.lineno)
        self.generic_visit(node)

    def _module_string(self, target: str, line: int) -> None:
        if target in MODULES and target != self.module:
            self.animsup.append(Edge(self.module, target, line, True))


def _scan() -> tuple[list[Edge], dict[str, list[tuple[str, int, bool]]]]:
    edges: list[Edge] = []
    third: dict[str, list[tuple[str, int, bool]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        visitor = _Imports(module, tree)
        visitor.visit(tree)
        edges += visitor.animsup
        third[module] = visitor.third_party
    return edges, third


EDGES, THIRD_PARTY = _scan()


def _facade_exempt(e: Edge) -> bool:
    """The facade's own imports, and ``from animsup import __version__``: no dependency."""
    return e.src == FACADE or (e.dst == FACADE and bool(e.names) and set(e.names) <= FACADE_NAMES_ALLOWED)


# the dependency graph's edges: everything but what the facade rule exempts
DEPENDENCIES = [e for e in EDGES if not _facade_exempt(e)]
# what runs: an import under `if TYPE_CHECKING:` never executes, so it cannot close an import cycle
# (annotations name the types of the modules that call them); it still obeys the layer order
RUNTIME = [e for e in DEPENDENCIES if not e.typing_only]


def _layer(module: str) -> tuple[str, int, frozenset[str]] | None:
    best = None
    for name, rank, prefixes, never in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), (name, rank, never))
    return best[1] if best else None


# --- helpers on the graph --------------------------------------------------------------------

def _graph(edges: list[Edge], key=lambda m: m) -> dict[str, dict[str, Edge]]:
    graph: dict[str, dict[str, Edge]] = {}
    for e in edges:
        a, b = key(e.src), key(e.dst)
        if a != b:
            graph.setdefault(a, {}).setdefault(b, e)
    return graph


def _components(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """The strongly connected components of more than one node: the nodes tied in cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(set(graph) | {w for targets in graph.values() for w in targets}):
        if v not in index:
            strongconnect(v)
    return [sorted(comp) for comp in components]


def _path_in(graph: dict[str, dict[str, Edge]], comp: list[str]) -> list[str]:
    """A cycle through ``comp[0]`` inside the component (breadth first: the shortest)."""
    members, start = set(comp), comp[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, {})):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


def _report(graph: dict[str, dict[str, Edge]], components: list[list[str]]) -> str:
    """Per component: its members and, edge by edge, the shortest cycle through its first member."""
    out = []
    for comp in components:
        cycle = _path_in(graph, comp)
        edges = "\n    ".join(graph[a][b].where() for a, b in zip(cycle, cycle[1:]))
        out.append(f"{len(comp)} tied in cycles: {', '.join(comp)}; one cycle:\n    {edges}")
    return "\n  ".join(out)


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


# --- the tests -------------------------------------------------------------------------------

def test_the_scan_sees_the_tree():
    """The scan must see lazy imports and registry strings, or the other tests prove nothing."""
    assert "animsup.cli" in MODULES and "animsup.log.reader" in MODULES
    assert any(e.lazy for e in EDGES), "no lazy import found: the scan is broken"
    assert any(e.src == "animsup.rendering.panels" and e.dst.startswith("animsup.rendering.panels.") for e in EDGES), \
        "the panel registry's 'module:Class' strings were not seen"
    unplaced = sorted(m for m in MODULES if m != FACADE and _layer(m) is None)
    assert not unplaced, f"modules in no layer of LAYERS (add their package to the table): {unplaced}"


def test_no_import_cycles_between_modules():
    graph = _graph(RUNTIME)
    components = _components(graph)
    assert not components, "import cycles between modules:\n  " + _report(graph, components)


def test_no_import_cycles_between_packages():
    graph = _graph(RUNTIME, key=_package)
    components = _components(graph)
    assert not components, "import cycles between packages:\n  " + _report(graph, components)


def test_imports_follow_the_layer_order():
    bad = []
    for e in DEPENDENCIES:
        src = _layer(e.src)
        assert src is not None, e.src
        if e.dst == FACADE:
            bad.append(f"{e.where()}: modules take only __version__ from the facade, not {list(e.names) or 'it all'}")
            continue
        dst = _layer(e.dst)
        assert dst is not None, e.dst
        if dst[0] in src[2]:
            bad.append(f"{e.where()}: {src[0]} never imports {dst[0]}")
        elif dst[1] > src[1]:
            bad.append(f"{e.where()}: {src[0]} (layer {src[1]}) imports {dst[0]} (layer {dst[1]}), above it")
    assert not bad, "imports against the layer order:\n  " + "\n  ".join(sorted(bad))


def _reach(module: str) -> dict[str, list[str]]:
    """Every animsup module ``module`` loads (imports, lazy ones too, and the packages around them)
    -> the chain of imports that gets there."""
    graph = _graph(DEPENDENCIES)
    chains = {module: [module]}
    todo = [module]
    while todo:
        v = todo.pop()
        nexts = list(graph.get(v, {}))
        parts = v.split(".")
        nexts += [".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in MODULES]
        for w in nexts:
            if w not in chains and w != FACADE:
                chains[w] = chains[v] + [w]
                todo.append(w)
    return chains


def test_layers_keep_torch_and_matplotlib_out():
    bad = []
    for module in MODULES:
        layer = _layer(module)
        forbidden = FORBIDDEN_THIRD_PARTY.get(layer[0], set()) if layer else set()
        if not forbidden:
            continue
        for reached, chain in _reach(module).items():
            for name, line, lazy in THIRD_PARTY[reached]:
                if name in forbidden:
                    how = "lazily " if lazy else ""
                    via = f" via {' -> '.join(chain)}" if len(chain) > 1 else ""
                    bad.append(f"{module} ({layer[0]}) {how}reaches {name}: {_path(reached)}:{line}{via}")
    assert not bad, "forbidden third-party imports:\n  " + "\n  ".join(sorted(set(bad)))


def test_ray_is_imported_by_the_ray_engine_alone_and_lazily():
    bad = [f"{module}: {_path(module)}:{line}" + ("" if lazy else " (at the top)")
           for module in MODULES for name, line, lazy in THIRD_PARTY[module]
           if name == "ray" and (module not in RAY_MODULES or not lazy)]
    assert not bad, "ray imported outside animsup.train.sweep_ray's functions:\n  " + "\n  ".join(bad)


def test_import_animsup_loads_neither_torch_nor_matplotlib():
    code = ("import sys, animsup\n"
            "print(sorted(m for m in ('torch', 'matplotlib', 'ray') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"`import animsup` loaded {r.stdout.strip()}"


def test_few_modules_flat_in_the_package():
    flat = sorted(p.name for p in PKG.glob("*.py"))
    assert len(flat) <= MAX_FLAT_MODULES, f"{len(flat)} modules flat in animsup/ (at most {MAX_FLAT_MODULES}): {flat}"


def _function_lengths() -> list[tuple[int, str]]:
    out = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                out.append((n, f"{_path(module)}:{node.lineno} {node.name}"))
    return sorted(out, reverse=True)


def test_function_lengths():
    lengths = _function_lengths()
    too_long = [f"{where} ({n} lines)" for n, where in lengths if n > MAX_FUNCTION_LINES]
    long_ = [f"{where} ({n} lines)" for n, where in lengths if n > LONG_FUNCTION_LINES]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines:\n  " + "\n  ".join(too_long)
    assert len(long_) <= MAX_LONG_FUNCTIONS, (
        f"{len(long_)} functions over {LONG_FUNCTION_LINES} lines (at most {MAX_LONG_FUNCTIONS}):\n  " + "\n  ".join(long_))


def test_module_lengths():
    long_ = [f"{_path(m)} ({n} lines)" for m, p in MODULES.items()
             if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long_, f"modules over {MAX_MODULE_LINES} lines:\n  " + "\n  ".join(long_)
