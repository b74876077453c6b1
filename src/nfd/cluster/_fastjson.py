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

import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from nfd.api import DEFAULT_NFD_NAMESPACE, NODE_NAME_LABEL, Features, NodeFeature, merge_order
from nfd.api._features import InstanceElements
from nfd.api._yaml import MAX_NESTING_DEPTH
from nfd.cluster._nodefeatures import ClusterFeatures

_LIST_KINDS = ("NodeFeatureList", "List")
_SPACED_COLON = re.compile(rb'"\s+:')
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
    flags: dict[str, _FlagSet | None] | Unset | None = UNSET
    attributes: dict[str, _AttributeSet | None] | Unset | None = UNSET
    instances: dict[str, _InstanceSet | None] | Unset | None = UNSET


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
    keys = 0
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if type(item) is dict:
            keys += len(item)
            children: Any = item.values()
        elif type(item) is list:
            children = item
        else:
            continue
        if level > MAX_NESTING_DEPTH:
            raise _General
        stack.extend((child, level + 1) for child in children)
    return keys


def _present(*values: Any) -> int:
    return sum(v is not UNSET for v in values)


class _Reader:
    """Converts decoded items to NodeFeature objects, counting the keys they held."""

    def __init__(self, only: Only) -> None:
        self.only = only
        self.keys = 0

    def _names(self, name: str) -> tuple[bool, frozenset[str] | None]:
        if self.only is None:
            return True, None
        if name not in self.only:
            return False, None
        return True, self.only[name]

    def flags(self, sets: dict[str, _FlagSet | None]) -> dict[str, set[str] | None]:
        out: dict[str, set[str] | None] = {}
        self.keys += len(sets)
        for name, fs in sets.items():
            elements = None if fs is None or fs.elements is UNSET else fs.elements
            self.keys += (fs is not None and fs.elements is not UNSET) + len(elements or ())
            keep, names = self._names(name)
            if not keep:
                continue
            if elements is None:
                out[name] = None
            elif names is None:
                out[name] = set(elements)
            else:
                out[name] = {n for n in names if n in elements}
        return out

    def attributes(self, sets: dict[str, _AttributeSet | None]
                   ) -> dict[str, dict[str, str] | None]:
        out: dict[str, dict[str, str] | None] = {}
        self.keys += len(sets)
        for name, fs in sets.items():
            elements = None if fs is None or fs.elements is UNSET else fs.elements
            self.keys += (fs is not None and fs.elements is not UNSET) + len(elements or ())
            keep, names = self._names(name)
            if not keep:
                continue
            if elements is None or names is None:
                out[name] = elements
            else:
                out[name] = {n: elements[n] for n in names if n in elements}
        return out

    def instance(self, instance: _Instance | None, names: frozenset[str] | None
                 ) -> dict[str, str]:
        if instance is None or instance.attributes is UNSET:
            return {}
        attributes = instance.attributes
        self.keys += 1 + len(attributes or ())
        if attributes is None:
            return {}
        if names is None:
            return attributes
        # Key order matters only where every element is read (names is None).
        return {n: attributes[n] for n in names if n in attributes}

    def instances(self, sets: dict[str, _InstanceSet | None]
                  ) -> dict[str, InstanceElements | None]:
        out: dict[str, InstanceElements | None] = {}
        self.keys += len(sets)
        for name, fs in sets.items():
            elements = None if fs is None or fs.elements is UNSET else fs.elements
            self.keys += fs is not None and fs.elements is not UNSET
            keep, names = self._names(name)
            if not keep:
                # Still counted: a duplicate key anywhere must reach the general reader.
                for instance in elements or ():
                    self.instance(instance, None)
                continue
            out[name] = (None if elements is None else
                         [self.instance(i, names) for i in elements])
        return out

    def features(self, raw: _Features | Unset | None) -> Features:
        if raw is None or raw is UNSET:
            return Features()
        self.keys += _present(raw.flags, raw.attributes, raw.instances)
        return Features(self.flags(raw.flags or {}), self.attributes(raw.attributes or {}),
                        self.instances(raw.instances or {}))

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


def _decode_items(reader: _Reader, items: Iterable[msgspec.Raw], default_kind: bool
                  ) -> tuple[list[NodeFeature], list[str]]:
    decoder = msgspec.json.Decoder(_Item)
    used: list[NodeFeature] = []
    ignored: list[str] = []
    for raw in items:
        item = decoder.decode(raw)
        if item.kind != "NodeFeature" and not (default_kind and item.kind is UNSET):
            raise _General  # the general reader words this error
        nf = reader.node_feature(item)
        if not nf.node_name:
            ignored.append(f"{nf.namespace}/{nf.name}: no {NODE_NAME_LABEL} label "
                           "(NFD's master does not use it)")
            continue
        used.append(nf)
    return used, ignored


def _decode_in_two(reader: _Reader, items: Sequence[msgspec.Raw], default_kind: bool
                   ) -> tuple[list[NodeFeature], list[str]]:
    """:func:`_decode_items` with the second half in a forked process, on the other core.

    The child sends back only what it kept (projected features are small) and its key
    count; whatever goes wrong there sends nothing, and the general reader takes over."""
    half = len(items) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        try:
            child = _Reader(reader.only)
            used, ignored = _decode_items(child, items[half:], default_kind)
            payload = pickle.dumps((used, ignored, child.keys), pickle.HIGHEST_PROTOCOL)
        except BaseException:
            payload = b""
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    inbound = os.fdopen(read_end, "rb")
    try:
        used, ignored = _decode_items(reader, items[:half], default_kind)
        payload = inbound.read()
    finally:
        inbound.close()  # if we failed first, the child's write ends (broken pipe)
        os.waitpid(pid, 0)
    if not payload:
        raise _General
    more_used, more_ignored, keys = pickle.loads(payload)
    reader.keys += keys
    return used + more_used, ignored + more_ignored


def fast_cluster_features(data: bytes, nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                          only: Only = None, workers: int = 1) -> ClusterFeatures | None:
    """The merged features of a JSON NodeFeature List, or ``None`` to read it the general
    way. ``only`` keeps just those features and, where it names them, elements (what a
    :class:`~nfd.match.SpecEvaluator` reads): verdicts and reports for that spec are
    unchanged. ``workers=2`` decodes half of a big List in a forked process (only where
    ``fork`` is safe: a single-threaded caller)."""
    if _SPACED_COLON.search(data):
        return None  # the key count below needs every key to end in '":'
    reader = _Reader(only)
    try:
        top: Any = msgspec.json.decode(data, type=_List)
        if not isinstance(top.kind, str) or top.kind not in _LIST_KINDS:
            return None
        reader.keys += _present(top.api_version, top.kind, top.items, top.metadata)
        reader.keys += _keys(top.api_version, 2) + _keys(top.metadata, 2)
        items = top.items or []
        split = workers > 1 and len(items) >= PARALLEL_ITEMS and hasattr(os, "fork")
        decode = _decode_in_two if split else _decode_items
        objects, ignored = decode(reader, items, top.kind == "NodeFeatureList")
    except (msgspec.DecodeError, msgspec.ValidationError, _General):
        return None
    if data.count(b'":') != reader.keys:
        return None  # a duplicate key was dropped (or a value holds '":'): read it in full
    return _merge(objects, nfd_namespace, ignored)


def _merge(objects: list[NodeFeature], nfd_namespace: str, ignored: list[str]
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
