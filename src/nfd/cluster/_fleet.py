"""validate-cluster on a big JSON dump, on both cores from the first item.

:func:`validate_cluster` after :func:`load_cluster_dump` decodes the two halves of
the items in parallel, sends the child's projected features back, merges, then
forks again to evaluate. Here each process decodes its half *and evaluates the
nodes found there*; the child sends back only verdicts and object names (a few
distinct values, cheap to pickle). A node with objects in both halves (rare: a
second publisher's object far from the first) is merged and evaluated again by
the parent, which re-decodes the child's objects of it from the text it holds.

Whatever does not go exactly as the serial path would (an item the general reader
must read, a duplicate key, an engine error, a failed child) gives ``None`` here,
and the caller takes the serial path, which words the error as always.
"""

from __future__ import annotations

from collections.abc import Sequence

from nfd.api import DEFAULT_NFD_NAMESPACE, CompatSpec, NodeFeature
from nfd.api._yaml import read_bounded
from nfd.cluster._documents import (
    MAX_DUMP_BYTES,
    check_dump_containers,
    cluster_dump_from_bytes,
    is_big_json,
)
from nfd.cluster._evaluate import ClusterResult, NodeVerdict, SetInfo, validate_cluster
from nfd.cluster._fastjson import (
    DECODE_ERRORS,
    PARALLEL_ITEMS,
    ItemList,
    Reader,
    decode_items,
    merge_objects,
    no_key_dropped,
    open_list,
)
from nfd.cluster._fork import Forked, can_fork
from nfd.errors import EvaluationError
from nfd.match import SetVerdict, SpecEvaluator


class _Half:
    """What one process found in its items: per node, the verdicts on what it saw, its
    objects (in merge order) and their item positions; the keys it decoded and the
    colons of its part of the text."""

    __slots__ = ("colons", "ignored", "keys", "objects", "positions", "verdicts")

    def __init__(self, verdicts: dict[str, tuple[SetVerdict, ...]] | None = None,
                 objects: dict[str, list[str]] | None = None,
                 ignored: list[str] | None = None, keys: int = 0, colons: int = 0) -> None:
        self.verdicts: dict[str, tuple[SetVerdict, ...]] = verdicts or {}
        self.objects: dict[str, list[str]] = objects or {}
        self.positions: dict[str, list[int]] = {}
        self.ignored: list[str] = ignored or []
        self.keys = keys
        self.colons = colons


def _evaluate_half(data: bytes, span: tuple[int, int | None], listing: ItemList, start: int,
                   stop: int, evaluator: SpecEvaluator, nfd_namespace: str
                   ) -> tuple[_Half, list[NodeFeature]]:
    """Decode items ``start:stop`` and evaluate every node they hold (raises on anything
    the serial path must do instead); count the colons of ``data`` in ``span``."""
    colons = data.count(b":", *span)
    reader = Reader(evaluator.reads, shared=True)
    kept: list[int] = []
    used, ignored = decode_items(reader, listing.items[start:stop], listing.default_kind,
                                 start, kept)
    cluster = merge_objects(used, nfd_namespace, ignored)
    half = _Half(objects=cluster.objects, ignored=ignored, keys=reader.keys, colons=colons)
    for nf, position in zip(used, kept, strict=True):
        half.positions.setdefault(nf.node_name, []).append(position)
    # Like nodes get equal verdicts: each distinct one is pickled once.
    distinct: dict[tuple[SetVerdict, ...], tuple[SetVerdict, ...]] = {}
    for node, features in cluster.nodes.items():
        verdicts = evaluator.verdicts(features)
        half.verdicts[node] = distinct.setdefault(verdicts, verdicts)
    return half, used


def _shared(listing: ItemList, evaluator: SpecEvaluator, nfd_namespace: str,
            nodes: Sequence[str], mine: list[NodeFeature], theirs: _Half) -> _Half:
    """The nodes with objects in both halves, merged from all their objects and evaluated
    (their keys were counted where first decoded)."""
    wanted = set(nodes)
    objects = [nf for nf in mine if nf.node_name in wanted]
    reader = Reader(evaluator.reads, shared=True)
    for node in nodes:
        for position in theirs.positions[node]:
            objects += decode_items(reader, [listing.items[position]], listing.default_kind)[0]
    cluster = merge_objects(objects, nfd_namespace, [])
    return _Half(verdicts={node: evaluator.verdicts(features)
                           for node, features in cluster.nodes.items()},
                 objects=cluster.objects)


def validate_listing_in_two(data: bytes, listing: ItemList, evaluator: SpecEvaluator,
                            nfd_namespace: str) -> ClusterResult | None:
    """The result of :func:`validate_cluster` on the List ``listing`` of ``data``, or
    ``None`` to take the serial path. Forks: call only where
    :func:`~nfd.cluster._fork.can_fork` allows."""
    middle = len(listing.items) // 2
    cut = len(data) // 2

    def second() -> _Half:
        return _evaluate_half(data, (cut, None), listing, middle, len(listing.items),
                              evaluator, nfd_namespace)[0]

    with Forked(second) as child:
        try:
            mine, used = _evaluate_half(data, (0, cut), listing, 0, middle, evaluator,
                                        nfd_namespace)
        except (*DECODE_ERRORS, EvaluationError):
            return None
        theirs = child.result()
    if theirs is None:
        return None  # the child could not do its half
    if not no_key_dropped(data, listing.keys + mine.keys + theirs.keys,
                          mine.colons + theirs.colons):
        return None  # a duplicate key was dropped (or cannot be ruled out)
    both = sorted(mine.verdicts.keys() & theirs.verdicts.keys())
    try:
        shared = _shared(listing, evaluator, nfd_namespace, both, used, theirs)
    except (*DECODE_ERRORS, EvaluationError):
        return None
    nodes = []
    for node in sorted(mine.verdicts.keys() | theirs.verdicts.keys()):
        source = shared if node in shared.verdicts else mine if node in mine.verdicts else theirs
        nodes.append(NodeVerdict(node, source.verdicts[node], tuple(source.objects[node])))
    infos = tuple(SetInfo(i, c.tag, c.weight, c.description) for i, c in evaluator.sets)
    return ClusterResult(infos, tuple(nodes), tuple(mine.ignored + theirs.ignored))


def validate_cluster_dump(spec: CompatSpec, path: str, evaluator: SpecEvaluator,
                          nfd_namespace: str = DEFAULT_NFD_NAMESPACE, workers: int = 1,
                          data: bytes | None = None) -> ClusterResult:
    """:func:`validate_cluster` of :func:`load_cluster_dump` (``evaluator`` made for
    ``spec``), with a big JSON List decoded and evaluated in two processes from the start
    where ``workers=2`` allows forking (a single-threaded caller, such as the CLI).
    ``data``: the bytes of ``path``, when the caller has read them already."""
    if data is None:
        data = read_bounded(path, MAX_DUMP_BYTES)
    if is_big_json(data):
        check_dump_containers(data, path)
    if is_big_json(data) and can_fork(workers):
        listing = open_list(data)
        if listing is not None and len(listing.items) >= PARALLEL_ITEMS:
            result = validate_listing_in_two(data, listing, evaluator, nfd_namespace)
            if result is not None:
                return result
    cluster = cluster_dump_from_bytes(data, path, nfd_namespace, evaluator.reads,
                                      workers=workers)
    del data
    return validate_cluster(spec, cluster, evaluator=evaluator, workers=workers)
