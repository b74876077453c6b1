"""Optional packages: one check, one error, one install hint (the README's form)."""

from __future__ import annotations

import importlib

from nfd.errors import MissingExtraError


def install_hint(extra: str) -> str:
    """How to install an extra, as the README says it (from a clone of nfd-client)."""
    return f"pip install -e '.[{extra}]'"


def require_extra(module: str, extra: str, needed_for: str, *, otherwise: str = "",
                  arguments: tuple[str, ...] = ()) -> None:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``extra`` to install."""
    try:
        importlib.import_module(module)
    except ImportError:
        alternative = f", or {otherwise}" if otherwise else ""
        raise MissingExtraError(
            f"{needed_for} needs the {module!r} package of the {extra!r} extra "
            f"({install_hint(extra)}){alternative}", arguments=arguments) from None
