"""Writing documents and reports: JSON (Go-exact where NFD's shape is promised), YAML, tables."""

from __future__ import annotations

import os
import sys

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, TextIO

OUTPUT_FORMATS = ("table", "json", "yaml")


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_width(stream: TextIO) -> int | None:
    """The width a table must fit on a terminal (``$COLUMNS`` overrides the terminal's own);
    ``None`` when piped, so scripts get whole lines."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return terminal_columns()


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil (with the bz2, lzma
    and fnmatch it imports, a sixth of a cold start): ``$COLUMNS``, else the width of the
    terminal on standard output, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    stdout = sys.__stdout__
    try:
        return (stdout and os.get_terminal_size(stdout.fileno()).columns) or 80
    except (ValueError, OSError):
        return 80


def write_json(obj: Any, stream: TextIO | None = None) -> None:
    """Indented JSON and a newline."""
    from nfd._go.json import dumps

    (stream or sys.stdout).write(dumps(obj, indent=2) + "\n")


def write_yaml(obj: Any, stream: TextIO | None = None) -> None:
    """Block-style YAML, keys in document order, ambiguous strings quoted
    (``nfd.cli._yaml_emit``: what Go, YAML 1.1 and 1.2 readers read back as strings)."""
    from nfd.cli._yaml_emit import dump_yaml

    (stream or sys.stdout).write(dump_yaml(obj))


def write_document(obj: Any, fmt: str, stream: TextIO | None = None) -> None:
    """``json`` or ``yaml``."""
    if fmt == "yaml":
        write_yaml(obj, stream)
    else:
        write_json(obj, stream)
