"""JSON text exactly as Go's ``encoding/json`` writes it.

Go escapes ``<``, ``>`` and ``&`` (HTML safety) and U+2028/U+2029, writes other
non-ASCII raw, and keeps map keys sorted (callers sort; struct order is kept).
"""

from __future__ import annotations

import functools
import json
import re

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _go_escape(text: str) -> str:
    # str.replace and `in` scan in C: a per-character pass over export's 80 KB took a
    # millisecond. No replacement brings in a character another one replaces.
    for char, escaped in _GO_ESCAPES.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


def _valid_unicode(text: str) -> str:
    """Lone surrogates (reachable only through escapes in the input) become U+FFFD,
    as Go writes invalid UTF-8."""
    return text if text.isascii() else _surrogates().sub("\ufffd", text)


@functools.cache
def _surrogates() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")  # compiled on first need: a cold start counts


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Serialise like ``json.Marshal`` (compact) or ``json.MarshalIndent`` (indent).

    The escapes are applied to the whole text: the characters concerned can
    only occur inside strings, so this is the same as escaping each string.
    """
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=(",", ": "))
    return _go_escape(_valid_unicode(text))
