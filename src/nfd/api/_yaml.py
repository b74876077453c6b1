"""Safe, bounded YAML/JSON loading.

Only the safe loader (no arbitrary tags); documents are capped in bytes, and
alias expansion is capped in nodes so that "billion laughs" documents fail
fast instead of exhausting memory when walked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nfd.errors import SpecError

MAX_DOCUMENT_BYTES = 1 << 20
MAX_EXPANDED_NODES = 1_000_000

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LoadLimits:
    """Bounds applied to every document read."""

    max_bytes: int = MAX_DOCUMENT_BYTES
    max_nodes: int = MAX_EXPANDED_NODES


DEFAULT_LIMITS = LoadLimits()


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that rejects duplicate mapping keys (a silent overwrite hides typos)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key: let the base class complain
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return dict(super().construct_mapping(node, deep=deep))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping
)


_NOT_JSON = object()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _loads_json(text: str) -> Any:
    import json

    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _count_nodes(obj: Any, limit: int) -> None:
    """Walk ``obj`` as it would be expanded; raise once more than ``limit`` nodes are seen."""
    count = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            raise SpecError(f"document expands to more than {limit} nodes (alias expansion bound)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(text: str | bytes, *, source: str | None = None, limits: LoadLimits | None = None
          ) -> Any:
    """Parse one YAML (or JSON) document safely and within ``limits``."""
    limits = limits or DEFAULT_LIMITS
    size = len(text.encode() if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise SpecError(
            f"document is {size} bytes, over the {limits.max_bytes}-byte limit", source=source
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    if text.lstrip()[:1] in ("{", "["):
        # JSON is (nearly) a YAML subset and the common case for features files:
        # the json module is many times faster; anything it rejects goes to YAML.
        parsed = _loads_json(text)
        if parsed is not _NOT_JSON:
            _count_nodes(parsed, limits.max_nodes)
            return parsed
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"{where}{problem}", source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", source=source) from None
    except RecursionError:
        raise SpecError("document is nested too deeply", source=source) from None
    docs = [d for d in docs if d is not None]
    if len(docs) > 1:
        raise SpecError(f"expected one document, found {len(docs)}", source=source)
    doc = docs[0] if docs else None
    _count_nodes(doc, limits.max_nodes)
    return doc


def load_file(path: str | Path, *, limits: LoadLimits | None = None) -> Any:
    """Read and parse ``path`` (``-`` is standard input), never more than the byte limit."""
    import sys

    limits = limits or DEFAULT_LIMITS
    name = str(path)
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limits.max_bytes + 1)
        else:
            with open(path, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=name) from None
    try:
        return loads(data, source=name, limits=limits)
    except SpecError as exc:
        raise exc.located(name) from None
