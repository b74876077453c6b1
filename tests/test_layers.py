"""The import rules of README.md's architecture section, read from the source (AST):
imports point down the layers, and no package reaches into another's private modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "nfd"

# README.md, "Architecture": cli -> compat/cluster/webhook -> trust -> oci/sources -> match
# -> api.
# Top-level modules (nfd/_text.py, nfd/errors.py, ...) and nfd/_go/ are shared by all;
# the front door (``nfd`` itself, lazily) and ``python -m nfd`` stand above everything.
LAYERS = {"cli": 5, "compat": 4, "cluster": 4, "webhook": 4, "trust": 3, "oci": 2,
          "sources": 2, "match": 1, "api": 0}
SHARED = -1
FRONT = {"nfd": 6, "nfd.__main__": 6}


def _package(module: str) -> str | None:
    """The subpackage of layered code that ``nfd.<...>`` belongs to (``None``: shared)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _layer(module: str) -> int:
    if module in FRONT:
        return FRONT[module]
    package = _package(module)
    return SHARED if package is None else LAYERS[package]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module or ``module.name``) of every import of ``nfd`` code in
    ``path``, relative imports resolved."""
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            if module != "nfd":  # ``from nfd import _lazy`` imports nfd._lazy, not nfd
                found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "nfd" or name.startswith("nfd.")]


def _private_reach(importer: str, imported: str) -> bool:
    """Whether ``imported`` is a private module of a package other than ``importer``'s:
    ``nfd.Y._z`` (or below it) with ``Y`` a package that ``importer`` is not part of."""
    parts = imported.split(".")
    if len(parts) < 3 or not parts[2].startswith("_"):
        return False
    package = SRC / parts[1]
    if not package.is_dir() or importer.split(".")[:2] == parts[:2]:
        return False
    return (package / f"{parts[2]}.py").is_file() or (package / parts[2]).is_dir()


def _all_imports() -> list[tuple[str, int, str]]:
    return [(_module_name(path), line, name) for path in sorted(SRC.rglob("*.py"))
            for line, name in _imports(path)]


def test_every_package_has_its_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert packages - {"_go"} == set(LAYERS)


def test_the_scan_sees_the_imports() -> None:
    imports = _all_imports()
    assert len(imports) > 500
    assert ("nfd.cli.compat_validate_node", "nfd.compat") in {(m, n) for m, _, n in imports}


def test_no_package_imports_another_packages_private_modules() -> None:
    reaching = [f"{module}:{line}: {name}" for module, line, name in _all_imports()
                if _private_reach(module, name)]
    assert not reaching, reaching


def test_imports_point_down_the_layers() -> None:
    upward = [f"{module}:{line}: {name}" for module, line, name in _all_imports()
              if _layer(name) > _layer(module)]
    assert not upward, upward


def test_packages_of_one_layer_do_not_import_each_other_both_ways() -> None:
    uses: dict[str, set[str]] = {}
    for module, _, name in _all_imports():
        mine, theirs = _package(module), _package(name)
        if mine and theirs and mine != theirs and LAYERS[mine] == LAYERS[theirs]:
            uses.setdefault(mine, set()).add(theirs)
    cycles = [(a, b) for a, used in uses.items() for b in used if a in uses.get(b, ())]
    assert not cycles, cycles


@pytest.mark.parametrize(("importer", "imported", "reaches"), [
    ("nfd.webhook._rules", "nfd.cluster._kube.iter_pages", True),
    ("nfd.webhook._rules", "nfd.cluster.iter_pages", False),
    ("nfd.cluster._fleet", "nfd.cluster._fork", False),
    ("nfd.cli.compat_job", "nfd._io", False),
    ("nfd.cluster._fastjson", "nfd.api._yaml", True),
])
def test_what_counts_as_reaching_in(importer: str, imported: str, reaches: bool) -> None:
    assert _private_reach(importer, imported) is reaches
