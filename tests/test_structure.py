"""The package's shape, read from its source (the AST): no import cycle, no private name used
outside its own package, no module over 600 lines, no function over 80 lines.

Type-only imports (under ``if TYPE_CHECKING:``) do not count as edges: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tuneful"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. tuneful.storage.sql
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package the module belongs to (a package's __init__ belongs to itself)."""
        if self.path.name == "__init__.py":
            return self.name
        return self.name.rpartition(".")[0]


def _modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(Module(".".join(parts), path, ast.parse(path.read_text(), str(path))))
    return found


MODULES = _modules()
NAMES = {m.name for m in MODULES}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs (anywhere, functions included), except type-only."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (n for c in child.orelse for n in _runtime_imports_of(c))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _runtime_imports(child)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _runtime_imports(node)


def _resolve(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: Module) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for each runtime import of tuneful."""
    for node in _runtime_imports(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tuneful"):
                    yield alias.name, None, node.lineno
            continue
        source = _resolve(module, node)
        if not source.startswith("tuneful"):
            continue
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in NAMES:
                yield submodule, None, node.lineno
            else:
                yield source, alias.name, node.lineno


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m.name: set() for m in MODULES}
    for module in MODULES:
        for target, _name, _line in _targets(module):
            while target and target not in NAMES:  # `import tuneful.x.y` names a module
                target = target.rpartition(".")[0]
            if target and target != module.name:
                graph[module.name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package(dotted: str) -> bool:
    return any(m.name == dotted and m.path.name == "__init__.py" for m in MODULES)


def _owner(dotted: str) -> str:
    """The package a private module or name belongs to: where it may be used from."""
    return dotted.rpartition(".")[0]


def _inside(module: Module, package: str) -> bool:
    """Whether the module is one of the package's own (its folder, not a subfolder)."""
    return module.package == package


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_private_name_used_outside_its_package() -> None:
    """A private module is used only inside its package (subpackages included); a private
    name of a module only by the modules of the same package (folder)."""
    offences = []
    for module in MODULES:
        for target, name, line in _targets(module):
            parts = target.split(".")
            for depth, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    # a private module is internal to the package holding it, subpackages
                    # included (tuneful._pareto serves all of tuneful, not its users)
                    owner = ".".join(parts[:depth])
                    if not (module.name == owner or module.name.startswith(owner + ".")):
                        offences.append(f"{module.name}:{line} imports {target}")
                    break
            else:
                if name is not None and name.startswith("_") and not name.startswith("__"):
                    # a private name of module `target`: for its package's own modules
                    package = target if _is_package(target) else _owner(target)
                    if not _inside(module, package):
                        offences.append(f"{module.name}:{line} imports {target}.{name}")
    assert offences == []


def _private_attributes(module: Module) -> set[str]:
    """Private names a module gives its objects: methods, classes, attributes it assigns."""
    names = {
        node.name
        for node in ast.walk(module.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)  # self._x = ...
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)  # _x = ... in a class body
        elif isinstance(node, ast.arg):
            names.add(node.arg)  # dataclass fields become keyword arguments
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.rpartition(".")[2])
    return {name for name in names if name.startswith("_")}


# Private by convention only: the standard library's os._exit and namedtuple's API.
_STANDARD = {"_exit", "_asdict", "_replace", "_fields", "_make"}


def test_no_private_attribute_of_another_package_is_used() -> None:
    """``obj._name`` only for names that the module's own package defines: code that needs
    another package's internals needs a public interface there instead."""
    by_package: dict[str, set[str]] = {}
    for module in MODULES:
        by_package.setdefault(module.package, set()).update(_private_attributes(module))
    offences = []
    for module in MODULES:
        own = by_package[module.package]
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Attribute):
                continue
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__") or attr in _STANDARD:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue  # an object's own private names
            if attr not in own:
                offences.append(f"{module.name}:{node.lineno} uses {ast.unparse(node)}")
    assert offences == []


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_module_length(module: Module) -> None:
    lines = len(module.path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.name}: {lines} lines"


def test_function_length() -> None:
    long = []
    for module in MODULES:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module.name}.{node.name}: {length} lines")
    assert long == []
