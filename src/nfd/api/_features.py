"""NFD's ``Features`` value and the NodeFeature object that carries it.

Mirrors ``api/nfd/v1alpha1`` (types.go, feature.go): three maps from a full
feature name (``pci.device``) to a set of elements. Go distinguishes a nil
element map from an empty one, and NFD's matcher does too (a nil map is
skipped, an empty one takes part), so ``None`` is kept apart from ``{}``.
"""

from __future__ import annotations

from nfd._jsondoc import join_path, mapping, sequence
from nfd._lazy import TYPE_CHECKING
from nfd._record import Record
from nfd.api._convert import (
    check_keys,
    key_str,
    scalar_str,
    string_map,
)
from nfd.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

FlagElements = set[str]
AttributeElements = dict[str, str]
Instance = dict[str, str]
InstanceElements = list[Instance]

NODE_NAME_LABEL = "nfd.node.kubernetes.io/node-name"
NFD_API_VERSION = "nfd.k8s-sigs.io/v1alpha1"
DEFAULT_NFD_NAMESPACE = "node-feature-discovery"


class Features(Record):
    """Discovered features: ``flags``, ``attributes`` and ``instances`` by full name.

    An element value of ``None`` is Go's nil (``"elements": null`` or missing). Each map
    defaults to a new empty one.
    """

    __slots__ = ("attributes", "flags", "instances")

    def __init__(self, flags: dict[str, FlagElements | None] | None = None,
                 attributes: dict[str, AttributeElements | None] | None = None,
                 instances: dict[str, InstanceElements | None] | None = None) -> None:
        self.flags: dict[str, FlagElements | None] = {} if flags is None else flags
        self.attributes: dict[str, AttributeElements | None] = ({} if attributes is None
                                                                else attributes)
        self.instances: dict[str, InstanceElements | None] = ({} if instances is None
                                                              else instances)

    def copy(self) -> Features:
        """A copy whose maps can be changed without touching this one."""
        return Features(
            flags={k: None if v is None else set(v) for k, v in self.flags.items()},
            attributes={k: None if v is None else dict(v) for k, v in self.attributes.items()},
            instances={
                k: None if v is None else [dict(i) for i in v] for k, v in self.instances.items()
            },
        )

    def insert_attributes(self, name: str, values: dict[str, str] | None) -> None:
        """NFD's ``InsertAttributeFeatures``: create the set (even empty) or merge into it."""
        current = self.attributes.get(name)
        if name not in self.attributes:
            self.attributes[name] = dict(values or {})
        elif values:
            if current is None:
                # Go would panic writing to a nil map; an empty map is the sane reading.
                current = self.attributes[name] = {}
            current.update(values)

    def merge(self, other: Features) -> None:
        """NFD master's ``MergeInto``: maps merged key by key, instance lists appended."""
        for name, flags in other.flags.items():
            if flags is None:
                self.flags.setdefault(name, None)
            else:
                mine = self.flags.get(name)
                self.flags[name] = (mine or set()) | flags
        for name, attrs in other.attributes.items():
            if attrs is None:
                self.attributes.setdefault(name, None)
            else:
                merged = dict(self.attributes.get(name) or {})
                merged.update(attrs)
                self.attributes[name] = merged
        for name, insts in other.instances.items():
            if insts is None:
                self.instances.setdefault(name, None)
            else:
                self.instances[name] = list(self.instances.get(name) or []) + [
                    dict(i) for i in insts
                ]

    def names(self) -> set[str]:
        """Every full feature name present in any of the three maps."""
        return set(self.flags) | set(self.attributes) | set(self.instances)


def features_to_obj(features: Features) -> dict[str, Any]:
    """The JSON shape of ``nfd export features``: top level in struct order, maps sorted."""
    return {
        "flags": {
            name: {"elements": None if els is None else {k: {} for k in sorted(els)}}
            for name, els in sorted(features.flags.items())
        },
        "attributes": {
            name: {"elements": None if els is None else dict(sorted(els.items()))}
            for name, els in sorted(features.attributes.items())
        },
        "instances": {
            name: {
                "elements": None
                if els is None
                else [{"attributes": dict(sorted(i.items()))} for i in els]
            }
            for name, els in sorted(features.instances.items())
        },
    }


def _flag_elements(value: Any, path: str) -> FlagElements | None:
    if value is None:
        return None
    obj = mapping(value, path)
    if all(type(k) is str and item == {} for k, item in obj.items()):
        return set(obj)  # the usual case, without building a path per element
    out: FlagElements = set()
    for key, item in obj.items():
        name = key_str(key, join_path(path, str(key)))
        if item is not None and not (isinstance(item, dict) and not item):
            raise SpecError("flag elements take an empty value ({})", path=join_path(path, name))
        out.add(name)
    return out


def _instance_elements(value: Any, path: str) -> InstanceElements | None:
    if value is None:
        return None
    out: InstanceElements = []
    for index, item in enumerate(sequence(value, path)):
        item_path = join_path(path, index)
        if item is None:
            out.append({})
            continue
        item = check_keys(mapping(item, item_path), ("attributes",), item_path)
        out.append(string_map(item.get("attributes"), join_path(item_path, "attributes")))
    return out


def _feature_sets(value: Any, path: str, parse_elements: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value is None:
        return out
    for key, fset in mapping(value, path).items():
        name = key_str(key, join_path(path, str(key)))
        fpath = join_path(path, name)
        if fset is None:
            out[name] = None
            continue
        fset = check_keys(mapping(fset, fpath), ("elements",), fpath)
        out[name] = parse_elements(fset.get("elements"), join_path(fpath, "elements"))
    return out


def features_from_obj(obj: Any, path: str = "") -> Features:
    """Parse NFD's Features shape (``{flags, attributes, instances}``), strictly."""
    doc = mapping(obj, path or "(document)")
    doc = check_keys(doc, ("flags", "attributes", "instances"), path)
    return Features(
        flags=_feature_sets(doc.get("flags"), join_path(path, "flags"), _flag_elements),
        attributes=_feature_sets(
            doc.get("attributes"),
            join_path(path, "attributes"),
            lambda v, p: None if v is None else string_map(v, p),
        ),
        instances=_feature_sets(
            doc.get("instances"), join_path(path, "instances"), _instance_elements
        ),
    )


class NodeFeature(Record):
    """A ``NodeFeature`` custom resource: one publisher's features for one node
    (``labels`` defaults to a new empty mapping)."""

    __slots__ = ("features", "labels", "name", "namespace", "node_name")

    def __init__(self, name: str, namespace: str, node_name: str, features: Features,
                 labels: dict[str, str] | None = None) -> None:
        self.name = name
        self.namespace = namespace
        self.node_name = node_name
        self.features = features
        self.labels: dict[str, str] = {} if labels is None else labels


def node_feature_from_obj(obj: Any, path: str = "") -> NodeFeature:
    """Parse a NodeFeature object (``apiVersion nfd.k8s-sigs.io/v1alpha1``)."""
    doc = mapping(obj, path or "(document)")
    kind = doc.get("kind")
    if kind != "NodeFeature":
        raise SpecError(f"expected kind NodeFeature, got {kind!r}", path=join_path(path, "kind"))
    meta = mapping(doc.get("metadata") or {}, join_path(path, "metadata"))
    name = scalar_str(meta.get("name"), join_path(path, "metadata.name"), allow_null=True)
    namespace = scalar_str(
        meta.get("namespace"), join_path(path, "metadata.namespace"), allow_null=True
    )
    obj_labels = string_map(meta.get("labels"), join_path(path, "metadata.labels"))
    spec = mapping(doc.get("spec") or {}, join_path(path, "spec"))
    spec_path = join_path(path, "spec")
    features = features_from_obj(spec.get("features") or {}, join_path(spec_path, "features"))
    labels = string_map(spec.get("labels"), join_path(spec_path, "labels"))
    # nfd-master finds a node's objects by this label alone ("" when missing).
    node = obj_labels.get(NODE_NAME_LABEL, "")
    return NodeFeature(name=name, namespace=namespace, node_name=node, features=features,
                       labels=labels)


def merge_order(objects: Iterable[NodeFeature], nfd_namespace: str = DEFAULT_NFD_NAMESPACE
                ) -> list[NodeFeature]:
    """The order nfd-master merges one node's objects in (``getAndMergeNodeFeatures``):
    its own namespace first, then by name, then by namespace."""
    return sorted(objects, key=lambda nf: (nf.namespace != nfd_namespace, nf.name,
                                           nf.namespace))


def merge_node_features(objects: Iterable[NodeFeature],
                        nfd_namespace: str = DEFAULT_NFD_NAMESPACE) -> dict[str, Features]:
    """Group NodeFeature objects by node and merge each node's as nfd-master does.

    The master selects a node's objects by the ``nfd.node.kubernetes.io/node-name``
    label only, so objects without it are left out; later objects win key by key
    and instance lists are appended. Nodes come out sorted by name.
    """
    by_node: dict[str, list[NodeFeature]] = {}
    for nf in objects:
        if nf.node_name:
            by_node.setdefault(nf.node_name, []).append(nf)
    merged: dict[str, Features] = {}
    for node in sorted(by_node):
        total = Features()
        for nf in merge_order(by_node[node], nfd_namespace):
            total.merge(nf.features)
        merged[node] = total
    return merged


def load_features_document(obj: Any, *, node: str | None = None, source: str | None = None
                           ) -> Features:
    """Features from any accepted document.

    Accepts ``nfd export features`` JSON, a NodeFeature, a NodeFeatureList or a
    ``kubectl get -o yaml`` ``List``. With several nodes in a list, ``node``
    chooses one; the objects of that node are merged as nfd-master does.
    """
    try:
        return _load_features_document(obj, node)
    except SpecError as exc:
        raise exc.located(source) if source else exc from None


def _load_features_document(obj: Any, node: str | None) -> Features:
    doc = mapping(obj, "(document)")
    kind = doc.get("kind")
    if kind is None and {str(k).lower() for k in doc} <= {"flags", "attributes", "instances"}:
        if node:
            raise SpecError("`node` applies to NodeFeature lists, not to an exported features "
                            "file", arguments=("node",))
        return features_from_obj(doc)
    if kind == "NodeFeature":
        nf = node_feature_from_obj(doc)
        if node and node not in (nf.node_name, nf.name):
            raise SpecError(f"the NodeFeature is for node {nf.node_name or nf.name!r}, "
                            f"not {node!r}")
        return nf.features
    if kind in ("NodeFeatureList", "List"):
        items = sequence(doc.get("items") or [], "items")
        objects = [node_feature_from_obj(item, join_path("items", i)) for i, item in
                   enumerate(items)]
        merged = merge_node_features(objects)
        if not merged:
            raise SpecError(f"the list holds no NodeFeature object with the {NODE_NAME_LABEL} "
                            "label (nfd-master uses no other)", path="items")
        if node is None:
            if len(merged) > 1:
                nodes = ", ".join(sorted(merged))
                raise SpecError(f"the list holds several nodes ({nodes}): choose one with `node`",
                                arguments=("node",))
            return next(iter(merged.values()))
        if node not in merged:
            raise SpecError(f"no NodeFeature for node {node!r} (have {', '.join(sorted(merged))})")
        return merged[node]
    raise SpecError(
        "not a features document: expected {flags, attributes, instances}, a NodeFeature "
        f"or a NodeFeatureList (kind is {kind!r})"
    )
