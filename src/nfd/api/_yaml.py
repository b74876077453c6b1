"""Safe, bounded YAML/JSON loading, fast enough for cluster-sized dumps.

Documents are capped in bytes, in nesting depth, and in the nodes that alias
expansion adds (a bound of its own, not one that grows with the byte limit, so
"billion laughs" fail within a few aliases whatever the file size). Only YAML's
standard tags are accepted (no arbitrary objects), duplicate keys are errors at
every size (a silent overwrite hides typos, and flips verdicts), and
scalars resolve as PyYAML's safe loader resolves them (YAML 1.1, like the
go-yaml v2 NFD reads through). JSON goes through the json module.

The tree is built straight from libyaml's event stream: PyYAML's own
constructor spends most of its time in Python per node, which made a
5,000-object ``kubectl get nodefeatures -o yaml`` dump take over ten seconds.
"""

from __future__ import annotations

import json

from nfd._io import read_document
from nfd._jsondoc import MAX_NESTING_DEPTH, JsonTooDeep, json_shape, no_key_dropped
from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.api._yaml_subset import read_subset
from nfd.errors import SpecError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    import yaml

MAX_DOCUMENT_BYTES = 1 << 20
MAX_EXPANDED_NODES = 1_000_000
# Up to this size a JSON text is read with a duplicate-key hook on every object; above,
# a count decides whether the (slower) checked parse is needed at all.
STRICT_JSON_BYTES = 4 << 20
# Memory, not only bytes: an empty mapping costs a Python dict (64 bytes and more) for two
# bytes of text, so the mappings and lists of a document are bounded too: at most one per
# BYTES_PER_CONTAINER bytes of its text (real NodeFeature lists, specs and pods have one
# per 10 to 40), and always MIN_CONTAINERS.
BYTES_PER_CONTAINER = 16
MIN_CONTAINERS = 100_000

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp",
                                       "binary", "value")
)


class LoadLimits(FrozenRecord):
    """Bounds applied to every document read.

    ``max_nodes`` bounds the nodes that aliases add (each ``*alias`` counts the
    nodes of what it names), ``max_depth`` how deeply mappings and sequences nest
    (consumers walk documents recursively).
    """

    __slots__ = ("max_bytes", "max_containers", "max_depth", "max_nodes")
    max_bytes: int
    max_nodes: int
    max_depth: int
    max_containers: int | None

    def __init__(self, max_bytes: int = MAX_DOCUMENT_BYTES, max_nodes: int = MAX_EXPANDED_NODES,
                 max_depth: int = MAX_NESTING_DEPTH, max_containers: int | None = None) -> None:
        set_field(self, "max_bytes", max_bytes)
        set_field(self, "max_nodes", max_nodes)
        set_field(self, "max_depth", max_depth)
        set_field(self, "max_containers", max_containers)

    def containers(self, size: int) -> int:
        """The mappings and lists a text of ``size`` bytes may hold (``max_containers``,
        else one per :data:`BYTES_PER_CONTAINER` bytes, at least :data:`MIN_CONTAINERS`)."""
        if self.max_containers is not None:
            return self.max_containers
        return max(MIN_CONTAINERS, size // BYTES_PER_CONTAINER)


DEFAULT_LIMITS = LoadLimits()


def check_json_containers(text: str | bytes, allowed: int) -> None:
    """Refuse, before decoding, a JSON text that may hold more than ``allowed`` objects
    and arrays. Counted as ``{`` and ``[`` characters (strings included: an upper bound,
    at memchr speed), so nothing is built for a text of empty objects."""
    if isinstance(text, bytes):
        count = text.count(b"{") + text.count(b"[")
    else:
        count = text.count("{") + text.count("[")
    if count > allowed:
        raise SpecError(f"more than {allowed} objects and arrays ({count} '{{' and '[') for "
                        f"{len(text)} bytes: a memory bound (SECURITY.md)")


class _Fail(Exception):
    def __init__(self, message: str, mark: Any = None) -> None:
        self.message = message
        self.mark = mark


class _Scalars:
    """Implicit resolution and construction of scalars, exactly as PyYAML's safe loader."""

    def __init__(self) -> None:
        import yaml

        self._constructor = yaml.constructor.SafeConstructor()
        self._resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers

    def tag(self, event: yaml.ScalarEvent) -> str:
        """``Resolver.resolve``: plain scalars by the implicit resolvers, others as written."""
        tag = event.tag
        if tag is None or tag == "!":
            return self._plain(event.value) if event.implicit[0] else _STR
        return str(tag)

    def _plain(self, value: str) -> str:
        candidates = self._resolvers.get(value[0] if value else "", [])
        for tag, regexp in [*candidates, *self._resolvers.get(None, [])]:
            if regexp.match(value):
                return str(tag)
        return _STR

    def value(self, event: yaml.ScalarEvent) -> tuple[str, Any]:
        tag = self.tag(event)
        if tag == _STR:
            return tag, event.value
        if tag not in _SCALAR_TAGS and tag != _MERGE:
            raise _Fail(f"unsupported tag {tag}", event.start_mark)
        if tag == _MERGE:
            return tag, event.value
        import yaml

        node = yaml.ScalarNode(tag, event.value, None, None, event.style)
        try:
            return tag, self._constructor.construct_object(node, deep=True)
        except (ValueError, TypeError, yaml.YAMLError):
            raise _Fail(f"cannot read {event.value!r} as {tag.rsplit(':', 1)[-1]}",
                        event.start_mark) from None


def _merge_into(target: dict[Any, Any], value: Any, mark: Any) -> None:
    sources = value if isinstance(value, list) else [value]
    for source in sources:
        if not isinstance(source, dict):
            raise _Fail("a merge key (<<) takes a mapping or a list of mappings", mark)
        for key, item in source.items():
            target.setdefault(key, item)


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("container", "key", "key_mark", "merges")

    def __init__(self, container: Any) -> None:
        self.container = container
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.merges: list[tuple[Any, Any]] = []


def _check_tag(event: Any, standard: str) -> None:
    if event.tag not in (None, "!", standard):
        raise _Fail(f"unsupported tag {event.tag}", event.start_mark)


class _Aliases:
    """What aliases add to a document: nodes (bounded in total) and nesting depth.

    Each ``*alias`` stands for a whole copy of what it names; sizes are memoised per
    node, so measuring shared structure costs what its text costs.
    """

    def __init__(self, limits: LoadLimits) -> None:
        self.limits = limits
        self.added = 0
        self._memo: dict[int, tuple[int, int, Any]] = {}

    def _measure(self, value: Any) -> tuple[int, int]:
        """(nodes, height) of ``value`` as expanded; height 0 for a scalar."""
        if type(value) is not dict and type(value) is not list:
            return 1, 0
        known = self._memo.get(id(value))
        if known is not None:
            return known[0], known[1]
        nodes, height = 1, 0
        for item in value.values() if type(value) is dict else value:
            n, h = self._measure(item)
            nodes, height = nodes + n, max(height, h)
        self._memo[id(value)] = (nodes, height + 1, value)  # value kept: ids stay unique
        return nodes, height + 1

    def expand(self, name: str, value: Any, stack: list[_Frame], mark: Any) -> None:
        """Account for one ``*name`` at the current depth, or fail."""
        if any(frame.container is value for frame in stack):
            raise _Fail(f"alias *{name} refers to a node that contains it "
                        "(alias expansion bound)", mark)
        nodes, height = self._measure(value)
        self.added += nodes
        if self.added > self.limits.max_nodes:
            raise _Fail(f"document expands to more than {self.limits.max_nodes} nodes "
                        "(alias expansion bound)", mark)
        if len(stack) + height > self.limits.max_depth:
            raise _Fail(f"nesting deeper than {self.limits.max_depth} levels", mark)


def _build(text: str, limits: LoadLimits) -> list[Any]:
    """Documents from libyaml's events, one tight loop (this is the hot path of big dumps)."""
    scalars = _Scalars()
    anchors: dict[str, Any] = {}
    plain: dict[str, Any] = {}  # resolved plain scalars: keys and values repeat a lot
    aliases = _Aliases(limits)
    max_depth = limits.max_depth
    containers_left = limits.containers(len(text))
    docs: list[Any] = []
    stack: list[_Frame] = []
    import yaml  # only when a YAML text is read: JSON documents never load it

    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    get_event = parser.get_event
    scalar_event, map_start, seq_start = yaml.ScalarEvent, yaml.MappingStartEvent, \
        yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        while True:
            event = get_event()
            kind = type(event)
            is_merge = False
            if kind is scalar_event:
                if event.tag is None:
                    text_value = event.value
                    if event.style in _QUOTED:
                        value: Any = text_value  # quoted: always a string
                    elif text_value in plain:
                        value = plain[text_value]
                    else:
                        tag, value = scalars.value(event)
                        is_merge = tag == _MERGE
                        if not is_merge:
                            plain[text_value] = value  # scalars are immutable
                else:
                    tag, value = scalars.value(event)
                    is_merge = tag == _MERGE
            elif kind is map_start or kind is seq_start:
                _check_tag(event, _MAP if kind is map_start else _SEQ)
                if len(stack) >= max_depth:
                    raise _Fail(f"nesting deeper than {max_depth} levels", event.start_mark)
                containers_left -= 1
                if containers_left < 0:
                    raise _Fail(f"more than {limits.containers(len(text))} mappings and lists "
                                f"for {len(text)} characters: a memory bound (SECURITY.md)",
                                event.start_mark)
                value = {} if kind is map_start else []
            elif kind in ends:
                frame = stack.pop()
                for merged, mark in frame.merges:
                    _merge_into(frame.container, merged, mark)
                continue
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    raise _Fail(f"found undefined alias {event.anchor!r}", event.start_mark)
                value = anchors[event.anchor]
                aliases.expand(event.anchor, value, stack, event.start_mark)
            elif kind is yaml.DocumentEndEvent:
                anchors.clear()
                continue
            elif kind is yaml.StreamEndEvent or event is None:
                return docs
            else:
                continue
            if kind is not yaml.AliasEvent and event.anchor is not None:
                anchors[event.anchor] = value
            if not stack:
                docs.append(value)
            else:
                frame = stack[-1]
                container = frame.container
                if type(container) is list:
                    container.append(value)
                elif frame.key is _NO_KEY:
                    if type(value) is dict or type(value) is list:
                        raise _Fail("a mapping key must be a scalar", event.start_mark)
                    frame.key = _MERGE_KEY if is_merge else value
                    frame.key_mark = event.start_mark
                else:
                    key = frame.key
                    frame.key = _NO_KEY
                    if key is _MERGE_KEY:
                        frame.merges.append((value, frame.key_mark))
                    elif key in container:
                        raise _Fail(f"duplicate key {key!r}", frame.key_mark)
                    else:
                        container[key] = value
            if kind is map_start or kind is seq_start:
                stack.append(_Frame(value))
    finally:
        parser.dispose()


_NO_KEY = object()
_QUOTED = frozenset(("'", '"', "|", ">"))
_MERGE_KEY = object()


def _not_json(word: str) -> Any:
    """NaN and Infinity are not JSON: let the YAML parser read such a text."""
    raise ValueError(f"{word} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return out


def _loads_json(text: str, limits: LoadLimits) -> list[Any]:
    """A JSON text, duplicate keys refused at every size; ValueError if it is not JSON."""
    check_json_containers(text, limits.containers(len(text)))
    if len(text) <= STRICT_JSON_BYTES:
        docs = [json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_json)]
        json_shape(docs, limits.max_depth)
        return docs
    # Big machine dumps: a Python call per object would cost half the parse again. Their
    # faults are reported here, not located by re-reading them as YAML (minutes, gigabytes).
    try:
        docs = [json.loads(text, parse_constant=_not_json)]
    except RecursionError:
        raise SpecError(f"nesting deeper than {limits.max_depth} levels") from None
    try:
        keys = json_shape(docs, limits.max_depth)
    except JsonTooDeep:
        raise SpecError(f"nesting deeper than {limits.max_depth} levels",
                        path=_deep_path(docs, limits.max_depth)) from None
    if not no_key_dropped(text, keys):
        try:
            docs = [json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_json)]
        except ValueError as exc:
            if str(exc).startswith("duplicate key"):
                raise SpecError(str(exc)) from None
            raise
    return docs


_ELIDED = object()  # where a long path is shortened


def _deep_path(docs: list[Any], max_depth: int) -> str:
    """The JSON path of the first node nested past ``max_depth`` (shortened in the middle)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(doc, ()) for doc in reversed(docs)]
    while stack:
        item, path = stack.pop()
        if len(path) >= max_depth:
            parts: tuple[object, ...] = path if len(path) <= 8 else (*path[:4], _ELIDED,
                                                                     *path[-3:])
            return "".join("[...]" if p is _ELIDED else f"[{p}]" if isinstance(p, int)
                           else f".{p}" for p in parts).lstrip(".")
        if type(item) is dict:
            stack.extend((v, (*path, str(k))) for k, v in reversed(item.items()))
        elif type(item) is list:
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
    return ""


def _decode(data: str | bytes, source: str | None, limits: LoadLimits) -> str:
    size = len(data.encode() if isinstance(data, str) else data)
    if size > limits.max_bytes:
        raise SpecError(f"document is {size} bytes, over the {limits.max_bytes}-byte limit",
                        source=source)
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", source=source) from None


def _parse_yaml(text: str, limits: LoadLimits) -> list[Any]:
    import yaml

    try:
        return _build(text, limits)
    except _Fail as exc:
        where = f"line {exc.mark.line + 1}, column {exc.mark.column + 1}: " if exc.mark else ""
        raise SpecError(f"{where}{exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpecError(f"{where}{exc.problem or exc.context or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}") from None
    except RecursionError:  # only with a max_depth set beyond Python's own stack
        raise SpecError("document nested too deeply") from None


def loads_all(data: str | bytes, *, source: str | None = None,
              limits: LoadLimits | None = None) -> list[Any]:
    """Every document in ``data`` (empty ones dropped), safely and within ``limits``."""
    limits = limits or DEFAULT_LIMITS
    text = _decode(data, source, limits)
    try:
        if text.lstrip()[:1] in ("{", "["):
            # JSON is (nearly) a YAML subset and the usual form of big dumps; the json
            # module is many times faster. What it rejects (or nests too deeply, to be
            # located) goes to the YAML parser.
            try:
                docs = _loads_json(text, limits)
            except (ValueError, RecursionError, JsonTooDeep):
                docs = _parse_yaml(text, limits)
        else:
            # Most specs lie in a subset read without importing PyYAML (start-up time);
            # anything else, errors included, is read and worded by the full parser.
            subset = read_subset(text, limits.max_depth)
            docs = _parse_yaml(text, limits) if subset is None else subset
        docs = [d for d in docs if d is not None]
    except SpecError as exc:
        raise exc.located(source) if source else exc from None
    return docs


def loads(data: str | bytes, *, source: str | None = None,
          limits: LoadLimits | None = None) -> Any:
    """Exactly one document (``None`` for an empty text)."""
    docs = loads_all(data, source=source, limits=limits)
    if len(docs) > 1:
        raise SpecError(f"expected one document, found {len(docs)}", source=source)
    return docs[0] if docs else None


def load_file(path: str | Path, *, limits: LoadLimits | None = None) -> Any:
    """Read and parse the one document in ``path`` (``-`` is standard input)."""
    limits = limits or DEFAULT_LIMITS
    return loads(read_document(path, limits.max_bytes), source=str(path), limits=limits)


def load_file_all(path: str | Path, *, limits: LoadLimits | None = None) -> list[Any]:
    """Read and parse every document in ``path``."""
    limits = limits or DEFAULT_LIMITS
    return loads_all(read_document(path, limits.max_bytes), source=str(path), limits=limits)
