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
field spelled in another case, NaN, a lone surrogate escape, a small file whose
duplicate keys must be reported...) makes it return ``None``, and the caller
reads the document the general way, with its located error messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from nfd.api import DEFAULT_NFD_NAMESPACE, NODE_NAME_LABEL, Features, NodeFeature, merge_order
from nfd.api._features import InstanceElements
from nfd.cluster._nodefeatures import ClusterFeatures

_LIST_KINDS = ("NodeFeatureList", "List")


class _Empty(msgspec.Struct, forbid_unknown_fields=True):
    """A flag element's value: ``{}``."""


class _Instance(msgspec.Struct, forbid_unknown_fields=True):
    attributes: dict[str, str] | None = None


class _FlagSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: dict[str, _Empty | None] | None = None


class _AttributeSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: dict[str, str] | None = None


class _InstanceSet(msgspec.Struct, forbid_unknown_fields=True):
    elements: list[_Instance | None] | None = None


class _Features(msgspec.Struct, forbid_unknown_fields=True):
    flags: dict[str, _FlagSet | None] | None = None
    attributes: dict[str, _AttributeSet | None] | None = None
    instances: dict[str, _InstanceSet | None] | None = None


class _Metadata(msgspec.Struct):
    name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None


class _Spec(msgspec.Struct):
    features: _Features | None = None
    labels: dict[str, str] | None = None


class _Item(msgspec.Struct):
    kind: str | msgspec.UnsetType = msgspec.UNSET
    metadata: _Metadata | None = None
    spec: _Spec | None = None


class _List(msgspec.Struct):
    kind: str | None = None
    items: list[msgspec.Raw] | None = None


Only = Mapping[str, "frozenset[str] | None"] | None


def _flags(sets: dict[str, _FlagSet | None] | None, only: Only) -> dict[str, set[str] | None]:
    out: dict[str, set[str] | None] = {}
    for name, fs in (sets or {}).items():
        if only is not None and name not in only:
            continue
        elements = None if fs is None else fs.elements
        names = None if only is None else only[name]
        if elements is None:
            out[name] = None
        elif names is None:
            out[name] = set(elements)
        else:
            out[name] = {n for n in names if n in elements}
    return out


def _attributes(sets: dict[str, _AttributeSet | None] | None, only: Only
                ) -> dict[str, dict[str, str] | None]:
    out: dict[str, dict[str, str] | None] = {}
    for name, fs in (sets or {}).items():
        if only is not None and name not in only:
            continue
        elements = None if fs is None else fs.elements
        names = None if only is None else only[name]
        if elements is None or names is None:
            out[name] = elements
        else:
            out[name] = {n: elements[n] for n in names if n in elements}
    return out


def _instance(instance: _Instance | None, names: frozenset[str] | None) -> dict[str, str]:
    attributes = None if instance is None else instance.attributes
    if attributes is None:
        return {}
    if names is None:
        return attributes
    # Key order matters only where every element is read (names is None).
    return {n: attributes[n] for n in names if n in attributes}


def _instances(sets: dict[str, _InstanceSet | None] | None, only: Only
               ) -> dict[str, InstanceElements | None]:
    out: dict[str, InstanceElements | None] = {}
    for name, fs in (sets or {}).items():
        if only is not None and name not in only:
            continue
        names = None if only is None else only[name]
        elements = None if fs is None else fs.elements
        out[name] = None if elements is None else [_instance(i, names) for i in elements]
    return out


def _features(raw: _Features | None, only: Only) -> Features:
    if raw is None:
        return Features()
    return Features(_flags(raw.flags, only), _attributes(raw.attributes, only),
                    _instances(raw.instances, only))


def _node_feature(item: _Item, only: Only) -> NodeFeature:
    meta = item.metadata or _Metadata()
    labels = meta.labels or {}
    spec = item.spec or _Spec()
    return NodeFeature(name=meta.name or "", namespace=meta.namespace or "",
                       node_name=labels.get(NODE_NAME_LABEL, ""),
                       features=_features(spec.features, only), labels=spec.labels or {})


def _decode_items(items: Iterable[msgspec.Raw], default_kind: bool,
                  only: Only) -> tuple[list[NodeFeature], list[str]] | None:
    decoder = msgspec.json.Decoder(_Item)
    used: list[NodeFeature] = []
    ignored: list[str] = []
    for raw in items:
        item = decoder.decode(raw)
        if item.kind != "NodeFeature" and not (default_kind and item.kind is msgspec.UNSET):
            return None  # the general reader words this error
        nf = _node_feature(item, only)
        if not nf.node_name:
            ignored.append(f"{nf.namespace}/{nf.name}: no {NODE_NAME_LABEL} label "
                           "(NFD's master does not use it)")
            continue
        used.append(nf)
    return used, ignored


def fast_cluster_features(data: bytes, nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                          only: Only = None) -> ClusterFeatures | None:
    """The merged features of a JSON NodeFeature List, or ``None`` to read it the general
    way. ``only`` keeps just those features and, where it names them, elements (what a
    :class:`~nfd.match.SpecEvaluator` reads): verdicts and reports for that spec are
    unchanged."""
    try:
        top: Any = msgspec.json.decode(data, type=_List)
        if top.kind not in _LIST_KINDS:
            return None
        decoded = _decode_items(top.items or (), top.kind == "NodeFeatureList", only)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if decoded is None:
        return None
    objects, ignored = decoded
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
