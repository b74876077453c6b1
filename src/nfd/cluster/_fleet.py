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

:func:`validate_fleet_dump` and :func:`validate_live_cluster` are what the CLI runs, for
library callers too: the dump read ahead on a thread (:func:`prefetch_dump`) while the
spec is read and compiled, cyclic garbage collection paused during the bulk, and both
cores where this process may fork.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from nfd._io import read_document
from nfd._jsondoc import no_key_dropped
from nfd.api import DEFAULT_NFD_NAMESPACE, CompatSpec, NodeFeature
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
    open_list,
)
from nfd.cluster._fork import Forked, can_fork
from nfd.errors import EvaluationError
from nfd.match import SetVerdict, SpecEvaluator

if TYPE_CHECKING:
    from nfd.cluster._kube import KubeOptions


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
        data = read_document(path, MAX_DUMP_BYTES)
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


class PrefetchedDump:
    """A dump file read on another thread while the caller reads and compiles the spec
    (the read waits on the kernel's copy, with the GIL free). What went wrong is raised
    where the bytes are asked for, as if read then."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._data: bytes | None = None
        self._error: BaseException | None = None

        def read() -> None:
            try:
                self._data = read_document(path, MAX_DUMP_BYTES)
            except BaseException as exc:  # raised again, in the caller, by data()
                self._error = exc

        # A daemon: a run that ends early (a bad spec) does not wait for a slow file.
        self._thread = threading.Thread(target=read, name="nfd-read-dump", daemon=True)
        self._thread.start()

    def data(self) -> bytes:
        """The bytes of the file, once read (raises what reading raised)."""
        self._thread.join()  # done before any fork (which wants one thread)
        if self._error is not None:
            raise self._error
        assert self._data is not None
        return self._data


def prefetch_dump(path: str) -> PrefetchedDump:
    """Start reading the dump ``path`` on a thread; pass the result to
    :func:`validate_fleet_dump` (before it, this process is not single-threaded)."""
    return PrefetchedDump(path)


def fleet_workers() -> int:
    """Both cores for a big cluster, where this process has them."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return min(2, cores)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a cluster is read and evaluated: the bulk
    makes no reference cycles, and the collector's passes over millions of young
    objects cost more than the evaluation itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_fleet_dump(spec: CompatSpec, path: str, *, tags: Sequence[str] = (),
                        evaluator: SpecEvaluator | None = None,
                        nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                        prefetched: PrefetchedDump | None = None) -> ClusterResult:
    """:func:`validate_cluster` on the NodeFeature dump ``path`` (``-`` is standard input)
    as fast as the CLI: a big JSON List decoded and evaluated on both cores (forking,
    where the process is single-threaded), garbage collection paused meanwhile.

    ``evaluator``: one made for ``spec`` and ``tags`` already (checking the tags before
    the dump is read); ``prefetched``: the dump's :func:`prefetch_dump`."""
    evaluator = evaluator or SpecEvaluator(spec, tags)
    with collection_paused():
        data = prefetched.data() if prefetched is not None else None
        return validate_cluster_dump(spec, path, evaluator, nfd_namespace,
                                     workers=fleet_workers(), data=data)


def validate_live_cluster(spec: CompatSpec, options: KubeOptions, *, tags: Sequence[str] = (),
                          evaluator: SpecEvaluator | None = None,
                          nfd_namespace: str = DEFAULT_NFD_NAMESPACE
                          ) -> tuple[ClusterResult, str]:
    """:func:`validate_cluster` on the live cluster ``options`` name, page by page (every
    request bounded), as fast as the CLI; also the API server's address."""
    from nfd.cluster._kube import iter_pages
    from nfd.cluster._stream import cluster_features_from_pages

    evaluator = evaluator or SpecEvaluator(spec, tags)
    only: Mapping[str, frozenset[str] | None] = evaluator.reads
    with collection_paused():
        cluster, server = cluster_features_from_pages(iter_pages(options), nfd_namespace,
                                                      only)
        return validate_cluster(spec, cluster, evaluator=evaluator,
                                workers=fleet_workers()), server
