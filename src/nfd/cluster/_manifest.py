"""Workload manifests read as kubectl reads them, and written back as the user wrote them.

kubectl turns YAML into JSON with ``sigs.k8s.io/yaml`` (``YAMLToJSON``), which decodes
with go-yaml v2 (``go.yaml.in/yaml/v2``, ``resolve.go``) into ``interface{}``. A plain
scalar there is:

- a bool: ``y Y yes Yes YES on On ON true True TRUE`` and ``n N no No NO off Off OFF
  false False FALSE``;
- null: the empty scalar, ``~ null Null NULL``;
- a float: ``.nan .NaN .NAN``, ``[+-].inf`` (three spellings), ``strconv.ParseFloat`` of
  a text starting with ``.``, or a text matching ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)
  ([eE][-+]?[0-9]+)?`` (underscores removed) that is not an integer;
- an int: ``strconv.ParseInt(text, 0, 64)`` (then ``ParseUint``) of a text starting with a
  digit or sign, underscores removed: ``0x``/``0o``/``0b`` prefixes and a leading ``0``
  for octal;
- else a string. There are no base-60 numbers, and a timestamp decoded into
  ``interface{}`` stays the string it was written as.

``YAMLToJSON`` then makes int, float and bool keys strings (floats as
``FormatFloat(k, 'g', -1, 32)``), refuses null keys, and ``json.Marshal`` refuses NaN
and infinities. ``!!binary`` is base64-decoded into a string.

The text is kept with ruamel.yaml's round-trip mode, its resolver replaced by one that
resolves nothing (every plain scalar stays the text it was), so comments, key order,
flow style, quoting, block scalars, explicit tags, merge keys and used anchors come back
as written. :func:`kube_value` gives the value kubectl sees, on which the patch is worked
out; only what the patch changed is written into the text tree.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import re
import struct
from typing import Any

from nfd._io import read_document
from nfd._jsondoc import join_path
from nfd.errors import SpecError

MAX_MANIFEST_BYTES = 4 << 20
# Nodes (scalars, mappings, sequences) in one manifest file, counted before the text
# tree (about 1.6 KiB per node in ruamel.yaml) is built; and in the value kubectl sees,
# aliases expanded.
MAX_MANIFEST_NODES = 50_000
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
_TRUE = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
_FALSE = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]
_NULL = ["", "~", "null", "Null", "NULL"]
_SPECIAL: dict[str, Any] = {
    **dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False),
    **dict.fromkeys(_NULL, None),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], math.nan),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], math.inf),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], -math.inf),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_INT_BODIES = (
    (re.compile(r"0[xX]([0-9a-fA-F]+)"), 16),
    (re.compile(r"0[oO]([0-7]+)"), 8),
    (re.compile(r"0[bB]([01]+)"), 2),
    (re.compile(r"0([0-7]+)"), 8),
    (re.compile(r"([1-9][0-9]*|0)"), 10),
)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64_MAX = (1 << 64) - 1
_UNSET = object()


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, then ``ParseUint``: None where both fail."""
    sign, body = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    for pattern, base in _INT_BODIES:
        match = pattern.fullmatch(body)
        if match:
            value = int(match.group(1), base)
            if sign == "-":
                value = -value
            if _INT64[0] <= value <= _INT64[1] or (not sign and value <= _UINT64_MAX):
                return value
            return None
    return None


def _go_parse_float(text: str) -> float | None:
    """``strconv.ParseFloat`` of a decimal text; out of range is an error there."""
    value = float(text)
    return None if math.isinf(value) else value


def resolve_plain(text: str) -> Any:
    """The value go-yaml v2 gives a plain scalar decoded into ``interface{}``."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    first = text[0]
    if first == ".":
        if _DOT_FLOAT.fullmatch(text):
            value = _go_parse_float(text)
            if value is not None:
                return value
        return text
    if first in "+-0123456789":
        plain = text.replace("_", "")
        number = _go_parse_int(plain) if plain else None
        if number is not None:
            return number
        if _YAML_FLOAT.fullmatch(plain):
            value = _go_parse_float(plain)
            if value is not None:
                return value
    return text


def _float32_text(value: float) -> str:
    """Go's ``strconv.FormatFloat(value, 'g', -1, 32)`` (how sigs.k8s.io/yaml writes a
    float key), with go-yaml's ``.inf``/``.nan`` spellings."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    single = struct.unpack("f", struct.pack("f", value))[0]
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for digits in range(9):  # the shortest text that reads back as this float32
        text = f"{single:.{digits}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exp_text = text.split("e")
    exponent = int(exp_text)
    sign = "-" if mantissa.startswith("-") else ""
    figures = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    if exponent < -4 or exponent >= 6:  # shortest 'g' switches to %e at 1e6 and 1e-5
        head = figures[0] + ("." + figures[1:] if len(figures) > 1 else "")
        return f"{sign}{head}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{figures}"
    whole = figures.ljust(exponent + 1, "0")
    rest = figures[exponent + 1:]
    return f"{sign}{whole[:exponent + 1]}{'.' + rest if rest else ''}"


def json_key(key: Any, path: str) -> str:
    """A mapping key as ``sigs.k8s.io/yaml`` makes it a JSON key."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _float32_text(key)
    if isinstance(key, str):
        return key
    raise SpecError(f"a {'null' if key is None else type(key).__name__} mapping key: "
                    "kubectl cannot read it (JSON keys are strings)", path=path)


class _Converter:
    """The value kubectl sees for a round-trip tree; aliases shared, their expansion
    counted."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.nodes = 0
        self._memo: dict[int, tuple[Any, int, Any]] = {}

    def value(self, node: Any, path: str) -> Any:
        from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
        from ruamel.yaml.scalarstring import ScalarString

        if isinstance(node, (CommentedMap, CommentedSeq)):
            known = self._memo.get(id(node))
            if known is not None:  # an alias: its nodes count again, the value is shared
                self._count(known[1], path)
                return known[0]
            start = self.nodes
            self._count(1, path)
            out: Any
            if isinstance(node, CommentedMap):
                _check_collection_tag(node, _CORE + "map", path)
                out = {}
                for key, item in node.items():
                    if isinstance(key, (CommentedMap, CommentedSeq, tuple, frozenset)):
                        raise SpecError("a mapping or list as a mapping key: kubectl cannot "
                                        "read it (JSON keys are strings)", path=path)
                    name = json_key(self.value(key, path), path)
                    where = join_path(path, name)
                    if name in out:
                        raise SpecError(f"duplicate key {name!r} (as kubectl reads it)",
                                        path=where)
                    out[name] = self.value(item, where)
            else:
                _check_collection_tag(node, _CORE + "seq", path)
                out = [self.value(item, join_path(path, i)) for i, item in enumerate(node)]
            self._memo[id(node)] = (out, self.nodes - start, node)
            return out
        self._count(1, path)
        if type(node) is str:
            return resolve_plain(node)
        if isinstance(node, ScalarString):
            return str(node)
        if isinstance(node, TaggedScalar):
            return _tagged(str(node.tag.value), str(node.value), path)
        if node is None:  # an empty value: no scalar text at all
            return None
        tag = getattr(getattr(node, "tag", None), "value", None) or type(node).__name__
        raise SpecError(f"unsupported tag {tag}", path=path)

    def _count(self, nodes: int, path: str) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise SpecError(f"more than {self.max_nodes} nodes with aliases expanded "
                            "(alias expansion bound)", path=path)


def _check_collection_tag(node: Any, standard: str, path: str) -> None:
    tag = getattr(getattr(node, "tag", None), "value", None)
    if tag is not None and tag != standard and tag.startswith(_CORE):
        raise SpecError(f"unsupported tag {tag}", path=path)


def _tagged(tag: str, text: str, path: str) -> Any:
    """An explicitly tagged scalar, as go-yaml v2's ``resolve`` takes the tag."""
    if not tag.startswith(_CORE):
        return text  # a local tag (!foo): go-yaml decodes the scalar as a string
    short = tag[len(_CORE):]
    if short in ("str", "timestamp"):
        return text
    if short == "binary":
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise SpecError("!!binary value contains invalid base64 data", path=path) from None
        return data.decode("utf-8", errors="replace")  # json.Marshal: U+FFFD for bad UTF-8
    value = resolve_plain(text) if text else None
    wanted = {"int": (int,), "float": (int, float), "bool": (bool,), "null": (type(None),)}
    types = wanted.get(short)
    if types is None:
        raise SpecError(f"unsupported tag !!{short}", path=path)
    if not isinstance(value, types) or (short != "bool" and isinstance(value, bool)):
        raise SpecError(f"cannot decode {text!r} as a !!{short}", path=path)
    return float(value) if short == "float" and isinstance(value, int) else value


def check_json(value: Any, path: str = "") -> None:
    """``json.Marshal`` refuses NaN and infinities (kubectl does too): say where."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if type(item) is float and not math.isfinite(item):
            raise SpecError(f"{_float32_text(item)} is not a JSON number (kubectl refuses "
                            "it too); quote it to mean a string", path=where)
        if type(item) is dict:
            stack.extend((v, join_path(where, k)) for k, v in item.items())
        elif type(item) is list:
            stack.extend((v, join_path(where, i)) for i, v in enumerate(item))


def _count_nodes(text: str, source: str, max_nodes: int) -> None:
    """Nodes and nesting of ``text`` from libyaml's events (C speed, nothing built), so
    that the much heavier round-trip tree is never built for a hostile file."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    nodes = 0
    open_anchors: list[str | None] = []  # one per open mapping or sequence
    defined: set[str] = set()
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, starts):
                open_anchors.append(event.anchor)
                if len(open_anchors) > MAX_DEPTH:
                    raise SpecError(f"nesting deeper than {MAX_DEPTH} levels", source=source)
            elif isinstance(event, ends):
                anchor = open_anchors.pop()
                if anchor is not None:
                    defined.add(anchor)
                continue
            elif isinstance(event, yaml.DocumentStartEvent):
                defined.clear()  # anchors do not cross documents (go-yaml, YAML 1.2)
                continue
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in defined:  # go-yaml: "unknown anchor"
                    raise SpecError(f"alias *{event.anchor} names no anchor defined before it "
                                    "(or a node that contains it)", source=source)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    defined.add(event.anchor)
            else:
                continue
            nodes += 1
            if nodes > max_nodes:
                raise SpecError(f"more than {max_nodes} nodes (scalars, mappings and lists)",
                                source=source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpecError(f"{where}{exc.problem or exc.context or 'invalid YAML'}",
                        source=source) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {' '.join(str(exc).split())}", source=source) from None
    finally:
        loader.dispose()


def _round_trip() -> Any:
    """A ruamel.yaml round-trip instance whose resolver leaves every plain scalar a
    string (only ``<<`` merge keys resolve), and which keeps explicitly tagged scalars
    with their tag and text."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.resolver import VersionedResolver

    merge = [(_CORE + "merge", re.compile("^(?:<<)$"))]

    class TextResolver(VersionedResolver):
        @property
        def versioned_resolver(self) -> Any:
            return {"<": list(merge)}

    class TextConstructor(RoundTripConstructor):
        def construct_yaml_str(self, node: Any) -> Any:
            if getattr(node.ctag, "handle", None) is not None:  # an explicit !!str
                steps = self.construct_unknown(node)
                tagged = next(steps)
                for _ in steps:  # run it to its end (it sets the anchor)
                    pass
                return tagged
            return super().construct_yaml_str(node)

    # Every core tag but str, map and seq keeps its tag and text; those kubectl cannot
    # read (set, omap, pairs...) are refused by name when the value is worked out.
    for short in ("int", "float", "bool", "null", "timestamp", "binary", "set", "omap", "pairs",
                  "value", "yaml"):
        TextConstructor.add_constructor(_CORE + short, RoundTripConstructor.construct_unknown)
    TextConstructor.add_constructor(_CORE + "str", TextConstructor.construct_yaml_str)
    rt = YAML(typ="rt")
    rt.Resolver = TextResolver
    rt.Constructor = TextConstructor
    rt.preserve_quotes = True
    rt.width = 1 << 20  # never fold a long line the user did not fold
    return rt


_KEY_OPENS_BLOCK = re.compile(r"( *)[^\s#-][^#]*:[ \t]*(#.*)?$")
_INDENTED = re.compile(r"( *)(- )?\S")


def guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, offset of a list's dash under its key) as the text is written:
    from the first key that opens a nested mapping and the first that opens a list."""
    mapping = offset = None
    lines = text.splitlines()
    for line, following in itertools.pairwise(lines):
        opener, nested = _KEY_OPENS_BLOCK.fullmatch(line), _INDENTED.match(following)
        if opener is None or nested is None:
            continue
        step = len(nested.group(1)) - len(opener.group(1))
        if nested.group(2) and offset is None and step >= 0:
            offset = step
        elif not nested.group(2) and mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    return mapping or 2, offset if offset is not None else 0


class Manifest:
    """The documents of a manifest file: their text trees and the values kubectl sees."""

    def __init__(self, trees: list[Any], values: list[Any], source: str,
                 indent: tuple[int, int] = (2, 0)) -> None:
        self.trees = trees
        self.values = values
        self.source = source
        self.indent = indent

    def dump(self, documents: list[Any]) -> str:
        """``documents`` (trees of this manifest, or plain values) as one YAML stream,
        indented as the manifest was."""
        import io

        out = io.StringIO()
        writer = _round_trip()
        mapping, offset = self.indent
        writer.indent(mapping=mapping, sequence=offset + 2, offset=offset)
        writer.dump_all([d if _is_tree(d) else to_tree(d) for d in documents], out)
        return out.getvalue()


def _is_tree(doc: Any) -> bool:
    from ruamel.yaml.comments import CommentedBase

    return isinstance(doc, CommentedBase)


def parse_manifest(data: bytes, source: str, max_nodes: int = MAX_MANIFEST_NODES,
                   max_expanded: int = MAX_EXPANDED_NODES) -> Manifest:
    """Every non-empty document of ``data``, bounded in nodes, depth and alias expansion."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    _count_nodes(text, source, max_nodes)
    from ruamel.yaml.error import YAMLError

    try:
        trees = [d for d in _round_trip().load_all(text) if d is not None]
    except (AttributeError, TypeError, AssertionError, IndexError, KeyError,
            RecursionError) as exc:  # ruamel.yaml's own faults on odd input
        raise SpecError(f"cannot read this YAML ({type(exc).__name__} in ruamel.yaml)",
                        source=source) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or getattr(exc, "context", None)
                               or exc).split())
        duplicate = re.match(r'found duplicate key "(.*)" with value', problem)
        if duplicate:
            problem = f"duplicate key {duplicate.group(1)!r}"
        raise SpecError(f"{where}{problem}", source=source) from None
    converter = _Converter(max_expanded)
    values = []
    for i, tree in enumerate(trees):
        try:
            values.append(converter.value(tree, f"documents[{i}]" if len(trees) > 1 else ""))
        except SpecError as exc:
            raise exc.located(source) from None
    return Manifest(trees, values, source, guess_indent(text))


def read_manifest(path: str, max_bytes: int = MAX_MANIFEST_BYTES) -> Manifest:
    """:func:`parse_manifest` of the file ``path`` (``-`` is standard input)."""
    data = read_document(path, max_bytes)
    if len(data) > max_bytes:
        raise SpecError(f"document is over the {max_bytes}-byte limit", source=path)
    return parse_manifest(data, path)


def to_tree(value: Any) -> Any:
    """A value we made, as text-tree nodes that kubectl reads back as ``value``: strings
    that a plain scalar would turn into something else are double-quoted; numbers, bools
    and null are written plain."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[to_tree(str(key))] = to_tree(item)
        return out
    if isinstance(value, list):
        return CommentedSeq(to_tree(item) for item in value)
    if isinstance(value, str):
        plain = value != "" and type(resolve_plain(value)) is str
        return value if plain and value.strip() == value else DoubleQuotedScalarString(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise SpecError(f"cannot write {value!r} as YAML kubectl reads back")


def write_changes(tree: Any, before: Any, after: Any) -> None:
    """Make the text tree ``tree`` (whose value was ``before``) hold ``after``, rewriting
    only the mapping entries and list items whose value changed: everything else keeps
    its text, comments and style."""
    keys = {json_key(_Converter(MAX_EXPANDED_NODES).value(k, ""), ""): k for k in tree}
    for name, value in after.items():
        key = keys.get(name, _UNSET)
        old = before.get(name, _UNSET) if isinstance(before, dict) else _UNSET
        if key is _UNSET:
            tree[to_tree(name)] = to_tree(value)
        else:
            _sync(tree, key, old, value)


def _sync(container: Any, slot: Any, old: Any, new: Any) -> None:
    if old is new or (old == new and type(old) is type(new)):
        return
    node = container[slot]
    # A node an alias also names is shared: changing it in place would change both.
    shared = getattr(getattr(node, "anchor", None), "value", None) is not None
    if not shared and isinstance(old, dict) and isinstance(new, dict) and hasattr(node, "items"):
        write_changes(node, old, new)
    elif (not shared and isinstance(old, list) and isinstance(new, list)
          and len(old) == len(new) and isinstance(node, list)):
        for index, (was, now) in enumerate(zip(old, new, strict=True)):
            _sync(node, index, was, now)
    else:
        container[slot] = to_tree(new)
