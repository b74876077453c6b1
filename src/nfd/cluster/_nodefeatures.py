"""A cluster's NodeFeature objects, grouped and merged per node as NFD's master does.

``nfd-master.go`` ``getAndMergeNodeFeatures``: the objects of a node are those
whose ``nfd.node.kubernetes.io/node-name`` label names it (objects without the
label are not used at all); they are sorted with the master's own namespace
first, then by name, then by namespace, and merged in that order (later maps
win key by key, instance lists are appended).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nfd._jsondoc import join_path, mapping, sequence
from nfd._record import Record
from nfd.api import (
    DEFAULT_NFD_NAMESPACE,
    NODE_NAME_LABEL,
    Features,
    NodeFeature,
    merge_node_features,
    merge_order,
    node_feature_from_obj,
)
from nfd.errors import SpecError

_LIST_KINDS = ("NodeFeatureList", "List")


class ClusterFeatures(Record):
    """Merged features by node name, where each came from, and the objects left out
    (each defaults to a new empty one)."""

    __slots__ = ("ignored", "nodes", "objects")

    def __init__(self, nodes: dict[str, Features] | None = None,
                 objects: dict[str, list[str]] | None = None,
                 ignored: list[str] | None = None) -> None:
        self.nodes: dict[str, Features] = {} if nodes is None else nodes
        self.objects: dict[str, list[str]] = {} if objects is None else objects
        self.ignored: list[str] = [] if ignored is None else ignored


def _node_label(obj: dict[str, Any]) -> str | None:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    value = labels.get(NODE_NAME_LABEL) if isinstance(labels, dict) else None
    return value if isinstance(value, str) and value else None


def parse_node_features(items: Iterable[Any], path: str = "items",
                        default_kind: bool = False, start: int = 0
                        ) -> tuple[list[NodeFeature], list[str]]:
    """Parse NodeFeature objects; those without the node-name label are listed apart.

    ``default_kind`` fills in a missing ``kind`` (API list items may omit it); ``start``
    is the index of the first item in the whole list (for error paths).
    """
    used: list[NodeFeature] = []
    ignored: list[str] = []
    for index, item in enumerate(items, start):
        item_path = join_path(path, index)
        obj = mapping(item, item_path)
        if default_kind and "kind" not in obj:
            obj = {**obj, "kind": "NodeFeature"}
        nf = node_feature_from_obj(obj, item_path)
        if _node_label(obj) is None:
            ignored.append(f"{nf.namespace}/{nf.name}: no {NODE_NAME_LABEL} label "
                           "(NFD's master does not use it)")
            continue
        used.append(nf)
    return used, ignored


def merge_cluster(objects: Iterable[NodeFeature], nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                  ignored: Iterable[str] = ()) -> ClusterFeatures:
    """Group by node and merge in the master's order; nodes come out sorted by name."""
    objects = list(objects)
    out = ClusterFeatures(ignored=list(ignored))
    out.nodes = merge_node_features(objects, nfd_namespace)
    by_node: dict[str, list[NodeFeature]] = {}
    for nf in objects:
        by_node.setdefault(nf.node_name, []).append(nf)
    for node in out.nodes:
        out.objects[node] = [f"{nf.namespace}/{nf.name}"
                             for nf in merge_order(by_node[node], nfd_namespace)]
    return out


def cluster_features_from_document(doc: Any, source: str | None = None,
                                   nfd_namespace: str = DEFAULT_NFD_NAMESPACE
                                   ) -> ClusterFeatures:
    """Features of every node in a ``kubectl get nodefeatures -A -o yaml|json`` dump.

    A single NodeFeature object is accepted too (a one-node cluster).
    """
    try:
        top = mapping(doc, "(document)")
        kind = top.get("kind")
        if kind == "NodeFeature":
            objects, ignored = parse_node_features([top], "(document)")
        elif kind in _LIST_KINDS:
            items = sequence(top.get("items") or [], "items")
            objects, ignored = parse_node_features(items, "items",
                                                   default_kind=kind == "NodeFeatureList")
        else:
            raise SpecError(f"expected a NodeFeatureList, a List or a NodeFeature (kind is "
                            f"{kind!r})", path="kind")
    except SpecError as exc:
        raise exc.located(source) if source else exc from None
    return merge_cluster(objects, nfd_namespace, ignored)
