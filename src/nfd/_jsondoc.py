"""Decoded JSON/YAML documents: JSON paths, located type checks, nesting and key counts.

Shared by every layer that reads a document (the model, cluster dumps, admission
reviews, lint): a path is written the way ``kubectl explain`` and NFD's errors
write one (``spec.rules[0].matchFeatures``), and a value of the wrong type is an
error located at its path.
"""

from __future__ import annotations

import re

from nfd._lazy import TYPE_CHECKING
from nfd.errors import SpecError

if TYPE_CHECKING:
    from typing import Any

# How deep a document may nest (mappings and lists): Go's encoding/json stops at 10,000;
# no NFD document needs more than a dozen, and a deep one is an attack on the reader.
MAX_NESTING_DEPTH = 100


def join_path(base: str, key: str | int) -> str:
    """Extend a JSON path: ``a.b`` + ``c`` -> ``a.b.c``, ``a`` + ``0`` -> ``a[0]``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def type_name(value: Any) -> str:
    """The YAML/JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def mapping(value: Any, path: str) -> dict[Any, Any]:
    """A mapping, or a located error."""
    if not isinstance(value, dict):
        raise SpecError(f"expected a mapping, got {type_name(value)}", path=path)
    return value


def sequence(value: Any, path: str) -> list[Any]:
    """A list, or a located error."""
    if not isinstance(value, list):
        raise SpecError(f"expected a list, got {type_name(value)}", path=path)
    return value


class JsonTooDeep(Exception):
    """A JSON text nests deeper than allowed (the YAML parser then says where)."""


def json_shape(docs: list[Any], max_depth: int, depth: int = 1) -> int:
    """The number of keys in all mappings of decoded JSON ``docs`` (each at nesting ``depth``);
    raises :class:`JsonTooDeep` past ``max_depth``.

    Iterative: deep documents are what this guards against.
    """
    keys = 0
    stack = [(doc, depth) for doc in docs]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if type(item) is dict:
            keys += len(item)
            children: Any = item.values()
        elif type(item) is list:
            children = item
        else:
            continue
        if depth > max_depth:
            raise JsonTooDeep
        for child in children:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))
    return keys


# A colon, the end of a key, and a key's colon after blanks; in text and in bytes.
_TEXT_MARKS = (":", '":', r'"\s+:')
_BYTES_MARKS = (b":", b'":', rb'"\s+:')


def no_key_dropped(text: str | bytes, keys: int, colons: int | None = None) -> bool:
    """Whether the ``keys`` that the decoded mappings of the JSON ``text`` hold are every
    key written there (none dropped as a duplicate: Go's encoding/json and Python's json
    both keep the last). ``colons``: the ``:`` of ``text``, when counted already (in
    parts, on both cores).

    Each key written is followed by one colon outside any string, so a text holds at
    least as many colons as keys written, and those at least as many as the decoded
    mappings hold: equal counts leave no room for a dropped key (a memchr-fast count).
    Where strings hold colons too (timestamps), ``":`` stands in: every key ends in it
    unless blanks come before its colon (``"a" : 1``), which a search rules out."""
    marks: Any = _BYTES_MARKS if isinstance(text, bytes) else _TEXT_MARKS
    colon, key_end, spaced_colon = marks
    if (text.count(colon) if colons is None else colons) == keys:
        return True
    # re.search caches the compiled pattern: none is compiled unless a text needs it.
    return text.count(key_end) == keys and re.search(spaced_colon, text) is None
