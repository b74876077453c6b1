"""Reading the big and the multi-document files of cluster commands.

A ``kubectl get nodefeatures -A -o yaml|json`` dump of a large cluster is far
over the 1 MiB bound of :func:`nfd.api.load_file`, so it gets its own bound.
JSON (``-o json``) is parsed with the standard library, which is several times
faster than YAML; YAML goes through PyYAML's C safe loader when present. Both
stay bounded in bytes; YAML alias expansion is bounded too.

Workload manifests are small but often hold several ``---`` documents.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from nfd.errors import SpecError

MAX_DUMP_BYTES = 1 << 30
MAX_MANIFEST_BYTES = 4 << 20
MAX_NODES_PER_BYTE = 1  # a YAML node needs at least one byte unless aliases multiply it

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int | None = None) -> None:
        self.key = key
        self.line = line


class _StrictLoader(_Loader):  # type: ignore[misc]
    """Rejects duplicate keys: re-emitting a manifest must not silently drop one of them."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            if isinstance(key, (str, int, float, bool)):
                seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _StrictLoader.construct_mapping)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The bytes of ``path`` (``-``: standard input), refusing more than ``limit``."""
    name = str(path)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=name) from None
    if len(data) > limit:
        raise SpecError(f"file is over the {limit}-byte limit", source=name)
    return data


def _count_nodes(docs: list[Any], limit: int, source: str) -> None:
    count = 0
    stack: list[Any] = list(docs)
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            raise SpecError(f"document expands to more than {limit} nodes (alias expansion "
                            "bound)", source=source)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _has_aliases(text: str) -> bool:
    return "*" in text and "&" in text


def parse_documents(data: bytes, source: str, strict: bool = False) -> list[Any]:
    """All documents in ``data``: one JSON value, or a stream of YAML documents.

    ``strict`` rejects duplicate mapping keys (slower; for files that are re-emitted).
    """
    try:
        return _parse_documents(data, source, strict)
    except _DuplicateKey as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise SpecError(f"{where}duplicate key {exc.key!r}", source=source) from None


def _parse_documents(data: bytes, source: str, strict: bool) -> list[Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [json.loads(text, object_pairs_hook=_unique_pairs if strict else None)]
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                raise SpecError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}",
                                source=source) from None
            # "{...}" may still be YAML flow style; let the YAML parser decide.
        except RecursionError:
            raise SpecError("document is nested too deeply", source=source) from None
    try:
        loader = _StrictLoader if strict else _Loader
        docs = [d for d in yaml.load_all(text, Loader=loader) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpecError(f"{where}{exc.problem or exc.context or 'invalid YAML'}",
                        source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", source=source) from None
    except RecursionError:
        raise SpecError("document is nested too deeply", source=source) from None
    if _has_aliases(text):
        _count_nodes(docs, max(len(data), 1000) * MAX_NODES_PER_BYTE, source)
    return docs


def load_documents(path: str | Path, limit: int = MAX_MANIFEST_BYTES) -> list[Any]:
    """Read ``path`` and return its documents (empty ones dropped)."""
    return parse_documents(read_bounded(path, limit), str(path), strict=True)


def load_dump(path: str | Path, limit: int = MAX_DUMP_BYTES) -> Any:
    """Read a ``kubectl get -o yaml|json`` dump: exactly one document."""
    name = str(path)
    docs = parse_documents(read_bounded(path, limit), name)
    if len(docs) != 1:
        raise SpecError(f"expected one document (a NodeFeature list), found {len(docs)}",
                        source=name)
    return docs[0]
