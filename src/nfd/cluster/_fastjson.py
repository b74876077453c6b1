"""Reading a big JSON NodeFeature List quickly and in little memory.

``kubectl get nodefeatures -A -o json`` of a large cluster is tens of megabytes.
Built as Python dicts it takes about eight times its size and most of the run.
Here the List is split into its items without building them, each item is
decoded on its own straight into typed structs (which also validates its
shape, as strictly as :func:`nfd.api.node_feature_from_obj`), only the features
a spec reads are kept (``only``), and the item is dropped. Peak memory stays
near the file's size.

This is a fast path, not a second parser: whatever it does not accept exactly
as the general reader would (a YAML text, a number where a string goes, a
field spelled in another case, NaN, a lone surrogate escape, nesting past the
depth bound, a duplicate key...) makes it return ``None``, and the caller reads
the document the general way, with its located error messages. Duplicate keys
are found as the general reader finds them in big texts: every key ends in
``":``, so when the text holds exactly as many ``":`` as the decoded mappings
hold keys, no key was dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from nfd._jsondoc import MAX_NESTING_DEPTH, JsonTooDeep, json_shape, no_key_dropped
from nfd.api import (
    DEFAULT_NFD_NAMESPACE,
    NODE_NAME_LABEL,
    Features,
    InstanceElements,
    NodeFeature,
    merge_order,
)
from nfd.cluster._fork import Forked, can_fork
from nfd.cluster._nodefeatures import ClusterFeatures

_LIST_KINDS = ("NodeFeatureList", "List")
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType
Only = Mapping[str, "frozenset[str] | None"] | None
# Fewer items than this are not worth a second process.
PARALLEL_ITEMS = 2000
# Depth of an item in the List (the List is 1, its items list 2), as the general
# reader counts nesting.
_ITEM_DEPTH = 3


class _General(Exception):
    """The document must be read by the general reader."""


class _Empty(msgspec.Struct, forbid_unknown_fields=True):
    """A flag element's value: ``{}``."""


class _Instance(msgspec.Struct, forbid_unknown_fields=True):
    attributes: dict[str, str] | Unset | None = UNSET


class _FlagSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: dict[str, _Empty | None] | Unset | None = UNSET


class _AttributeSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: dict[str, str] | Unset | None = UNSET


class _InstanceSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: list[_Instance | None] | Unset | None = UNSET


class _Features(msgspec.Struct, forbid_unknown_fields=True):
    # Each set stays text until the Reader decodes it: sets repeat across nodes (a
    # pool shares its kernel config, CPU and devices), and each distinct text is
    # decoded once.
    flags: dict[str, msgspec.Raw] | Unset | None = UNSET
    attributes: dict[str, msgspec.Raw] | Unset | None = UNSET
    instances: dict[str, msgspec.Raw] | Unset | None = UNSET


class _Spec(msgspec.Struct, forbid_unknown_fields=True):
    features: _Features | Unset | None = UNSET
    labels: dict[str, str] | Unset | None = UNSET


class _Item(msgspec.Struct, forbid_unknown_fields=True, rename={"api_version": "apiVersion"}):
    api_version: Any = UNSET
    kind: str | Unset = UNSET
    metadata: dict[str, Any] | Unset | None = UNSET
    spec: _Spec | Unset | None = UNSET


class _List(msgspec.Struct, forbid_unknown_fields=True, rename={"api_version": "apiVersion"}):
    api_version: Any = UNSET
    kind: Any = UNSET
    items: list[msgspec.Raw] | Unset | None = UNSET
    metadata: Any = UNSET


def _keys(value: Any, depth: int) -> int:
    """The keys of the mappings in a generic value; past the depth bound, the general
    reader must say where."""
    try:
        return json_shape([value], MAX_NESTING_DEPTH, depth)
    except JsonTooDeep:
        raise _General from None


def _present(*values: Any) -> int:
    return sum(v is not UNSET for v in values)


_FLAGS, _ATTRIBUTES, _INSTANCES = 0, 1, 2
# The set texts a Reader remembers, in bytes (beyond, sets are decoded every time).
MAX_REMEMBERED_SET_BYTES = 64 << 20


def _copy_set(kind: int, value: Any) -> Any:
    if value is None:
        return None
    if kind == _FLAGS:
        return set(value)
    if kind == _ATTRIBUTES:
        return dict(value)
    return [dict(instance) for instance in value]


class Reader:
    """Converts decoded items to NodeFeature objects, counting the keys they held.

    A set's value is decoded and projected once per distinct text. With ``shared``,
    nodes whose set texts are equal get one value: only for callers that change no
    value (merging and evaluation copy what they write to); otherwise each node gets
    its own copy."""

    def __init__(self, only: Only, shared: bool = False) -> None:
        self.only = only
        self._shared = shared
        self.keys = 0
        self._sets: dict[tuple[int, str, bytes], tuple[Any, int, bool]] = {}
        self._room = MAX_REMEMBERED_SET_BYTES
        self._flag_sets = msgspec.json.Decoder(_FlagSet | None)
        self._attribute_sets = msgspec.json.Decoder(_AttributeSet | None)
        self._instance_sets = msgspec.json.Decoder(_InstanceSet | None)

    def _names(self, name: str) -> tuple[bool, frozenset[str] | None]:
        if self.only is None:
            return True, None
        if name not in self.only:
            return False, None
        return True, self.only[name]

    def _sets_of(self, kind: int, sets: dict[str, msgspec.Raw]) -> dict[str, Any]:
        """The kept sets of one kind, from their texts (remembered by text)."""
        out: dict[str, Any] = {}
        self.keys += len(sets)
        remembered = self._sets
        for name, raw in sets.items():
            text = bytes(raw)
            known = remembered.get((kind, name, text))
            if known is None:
                known = self._decode_set(kind, name, text)
                if self._room >= len(text):
                    self._room -= len(text)
                    remembered[(kind, name, text)] = known
            value, keys, keep = known
            self.keys += keys
            if keep:
                out[name] = value if self._shared else _copy_set(kind, value)
        return out

    def _decode_set(self, kind: int, name: str, text: bytes) -> tuple[Any, int, bool]:
        """A set's kept value (projected), its keys, and whether it is kept."""
        if kind == _FLAGS:
            return self._flag_set(name, self._flag_sets.decode(text))
        if kind == _ATTRIBUTES:
            return self._attribute_set(name, self._attribute_sets.decode(text))
        return self._instance_set(name, self._instance_sets.decode(text))

    def _flag_set(self, name: str, fs: _FlagSet | None) -> tuple[set[str] | None, int, bool]:
        elements = None if fs is None or fs.elements is UNSET else fs.elements
        keys = (fs is not None and fs.elements is not UNSET) + len(elements or ())
        keep, names = self._names(name)
        if not keep or elements is None:
            return None, keys, keep
        return set(elements) if names is None else {n for n in names if n in elements}, keys, keep

    def _attribute_set(self, name: str, fs: _AttributeSet | None
                       ) -> tuple[dict[str, str] | None, int, bool]:
        elements = None if fs is None or fs.elements is UNSET else fs.elements
        keys = (fs is not None and fs.elements is not UNSET) + len(elements or ())
        keep, names = self._names(name)
        if not keep or elements is None or names is None:
            return elements, keys, keep
        return {n: elements[n] for n in names if n in elements}, keys, keep

    @staticmethod
    def _instance(instance: _Instance | None, names: frozenset[str] | None
                  ) -> tuple[dict[str, str], int]:
        if instance is None or instance.attributes is UNSET:
            return {}, 0
        attributes = instance.attributes
        keys = 1 + len(attributes or ())
        if attributes is None:
            return {}, keys
        if names is None:
            return attributes, keys
        # Key order matters only where every element is read (names is None).
        return {n: attributes[n] for n in names if n in attributes}, keys

    def _instance_set(self, name: str, fs: _InstanceSet | None
                      ) -> tuple[InstanceElements | None, int, bool]:
        elements = None if fs is None or fs.elements is UNSET else fs.elements
        keys = int(fs is not None and fs.elements is not UNSET)
        keep, names = self._names(name)
        out: InstanceElements = []
        for instance in elements or ():
            # Counted even when not kept: a duplicate key anywhere must reach the
            # general reader.
            value, instance_keys = self._instance(instance, names)
            keys += instance_keys
            out.append(value)
        return (None if elements is None else out), keys, keep

    def features(self, raw: _Features | Unset | None) -> Features:
        if raw is None or raw is UNSET:
            return Features()
        self.keys += _present(raw.flags, raw.attributes, raw.instances)
        return Features(self._sets_of(_FLAGS, raw.flags or {}),
                        self._sets_of(_ATTRIBUTES, raw.attributes or {}),
                        self._sets_of(_INSTANCES, raw.instances or {}))

    def node_feature(self, item: _Item) -> NodeFeature:
        self.keys += _present(item.api_version, item.kind, item.metadata, item.spec)
        self.keys += _keys(item.api_version, _ITEM_DEPTH + 1)
        meta = item.metadata or {}
        self.keys += _keys(meta, _ITEM_DEPTH + 1)
        name, namespace = meta.get("name"), meta.get("namespace")
        labels = meta.get("labels")
        if not (name is None or type(name) is str) or not (
                namespace is None or type(namespace) is str):
            raise _General  # numbers are names to the general reader
        if labels is not None and not (type(labels) is dict and all(
                type(v) is str for v in labels.values())):
            raise _General
        spec = item.spec or _Spec()
        self.keys += _present(spec.features, spec.labels) + len(spec.labels or ())
        return NodeFeature(name=name or "", namespace=namespace or "",
                           node_name=(labels or {}).get(NODE_NAME_LABEL, ""),
                           features=self.features(spec.features),
                           labels=dict(spec.labels or {}))


def decode_items(reader: Reader, items: Iterable[msgspec.Raw], default_kind: bool,
                 start: int = 0, kept: list[int] | None = None
                 ) -> tuple[list[NodeFeature], list[str]]:
    """The used and the ignored objects of ``items``; ``kept`` gets the positions of the
    used ones (the first item's is ``start``)."""
    decoder = msgspec.json.Decoder(_Item)
    used: list[NodeFeature] = []
    ignored: list[str] = []
    for position, raw in enumerate(items, start):
        item = decoder.decode(raw)
        if item.kind != "NodeFeature" and not (default_kind and item.kind is UNSET):
            raise _General  # the general reader words this error
        nf = reader.node_feature(item)
        if not nf.node_name:
            ignored.append(f"{nf.namespace}/{nf.name}: no {NODE_NAME_LABEL} label "
                           "(NFD's master does not use it)")
            continue
        used.append(nf)
        if kept is not None:
            kept.append(position)
    return used, ignored


def _decode_in_two(reader: Reader, items: Sequence[msgspec.Raw], default_kind: bool
                   ) -> tuple[list[NodeFeature], list[str]]:
    """:func:`decode_items` with the second half in a forked process, on the other core.

    The child sends back only what it kept (projected features are small) and its key
    count; whatever goes wrong there sends nothing, and the general reader takes over."""
    half = len(items) // 2

    def second() -> tuple[list[NodeFeature], list[str], int]:
        child = Reader(reader.only)
        used, ignored = decode_items(child, items[half:], default_kind)
        return used, ignored, child.keys

    with Forked(second) as child:
        used, ignored = decode_items(reader, items[:half], default_kind)
        answer = child.result()
    if answer is None:
        raise _General
    more_used, more_ignored, keys = answer
    reader.keys += keys
    return used + more_used, ignored + more_ignored


class ItemList:
    """A JSON List split into its items, not yet decoded."""

    __slots__ = ("default_kind", "items", "keys")

    def __init__(self, items: list[msgspec.Raw], default_kind: bool, keys: int) -> None:
        self.items = items
        self.default_kind = default_kind  # a NodeFeatureList: items may leave out their kind
        self.keys = keys  # the keys of the List itself


DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, _General)
"""What the fast path raises where the general reader must read the document."""


def open_list(data: bytes) -> ItemList | None:
    """``data`` split into its items, or ``None`` to read it the general way. The caller
    checks the keys with :func:`no_key_dropped` once the items are decoded."""
    try:
        top: Any = msgspec.json.decode(data, type=_List)
        if not isinstance(top.kind, str) or top.kind not in _LIST_KINDS:
            return None
        keys = _present(top.api_version, top.kind, top.items, top.metadata)
        keys += _keys(top.api_version, 2) + _keys(top.metadata, 2)
    except DECODE_ERRORS:
        return None
    return ItemList(top.items or [], top.kind == "NodeFeatureList", keys)


def fast_cluster_features(data: bytes, nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                          only: Only = None, workers: int = 1) -> ClusterFeatures | None:
    """The merged features of a JSON NodeFeature List, or ``None`` to read it the general
    way. ``only`` keeps just those features and, where it names them, elements (what a
    :class:`~nfd.match.SpecEvaluator` reads): verdicts and reports for that spec are
    unchanged. ``workers=2`` decodes half of a big List in a forked process (only where
    ``fork`` is safe: a single-threaded caller)."""
    listing = open_list(data)
    if listing is None:
        return None
    reader = Reader(only)
    reader.keys = listing.keys
    items = listing.items
    split = can_fork(workers) and len(items) >= PARALLEL_ITEMS
    decode = _decode_in_two if split else decode_items
    try:
        objects, ignored = decode(reader, items, listing.default_kind)
    except DECODE_ERRORS:
        return None
    if not no_key_dropped(data, reader.keys):
        return None  # a duplicate key was dropped (or cannot be ruled out): read it in full
    return merge_objects(objects, nfd_namespace, ignored)


def merge_objects(objects: list[NodeFeature], nfd_namespace: str, ignored: list[str]
           ) -> ClusterFeatures:
    """:func:`nfd.cluster.merge_cluster`, without copying the features of the many nodes
    that have one object (they were decoded for this result alone)."""
    by_node: dict[str, list[NodeFeature]] = {}
    for nf in objects:
        by_node.setdefault(nf.node_name, []).append(nf)
    out = ClusterFeatures(ignored=ignored)
    for node in sorted(by_node):
        ordered = merge_order(by_node[node], nfd_namespace)
        if len(ordered) == 1:
            merged = ordered[0].features
        else:
            merged = Features()
            for nf in ordered:
                merged.merge(nf.features)
        out.nodes[node] = merged
        out.objects[node] = [f"{nf.namespace}/{nf.name}" for nf in ordered]
    return out
