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


# What Go's encoding/json escapes beyond the json module (see nfd._go.json), each
# searched for on its own (a memchr; a regex class scans many times slower). Line and
# paragraph separators are looked for only where their first byte occurs.
_GO_ESCAPED = (b"<", b">", b"&")
_SEPARATORS_LEAD = "\u2028".encode()[:1]
_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


def write_big_json(doc: dict[str, Any]) -> None:
    """``write_document(doc, "json")``, written by orjson's encoder where the text is the
    same (the report holds only strings, integers, booleans, lists and mappings): none of
    the characters Go's encoder escapes, no lone surrogates. The json module's indenting
    encoder is pure Python and takes a big cluster's report longer than its evaluation;
    the bytes go out as they are (decoding and encoding them again cost as much)."""
    try:
        import orjson

        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except (ImportError, TypeError):
        text = b""
    if not text or any(escaped in text for escaped in _GO_ESCAPED) or (
            _SEPARATORS_LEAD in text and any(sep in text for sep in _SEPARATORS)):
        write_document(doc, "json")
        return
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(text.decode())
        return
    sys.stdout.flush()
    out.write(text)
