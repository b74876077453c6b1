"""Loading only what is used: names a package exports but imports on first use (PEP 562),
and :data:`TYPE_CHECKING` without ``import typing``.

The cold-start goal (README, "Architecture"): ``nfd compat validate-node --spec --features``
starts within 3x ``python3 -c pass``. ``typing`` alone is a tenth of that budget, and
modules need it only for annotations (which ``from __future__ import annotations`` never
evaluates), so they write ``from nfd._lazy import TYPE_CHECKING`` (packages: ``if
_lazy.TYPE_CHECKING:``) and import typing's names under it. Type checkers treat any name
``TYPE_CHECKING`` as true.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_getattr(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``homes[name]`` (a module path) on first use and
    keeps the value in the package's namespace, so later lookups are plain attribute reads."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
