"""A live cluster, evaluated page by page as the API server sends it.

Each page of NodeFeature objects is parsed and projected on what the spec reads
(:func:`project_features`) as soon as it arrives, and then dropped: what is
kept per node is a few elements, not its whole feature set, so memory does not
grow with the size of the objects. Meanwhile the next page is already being
fetched (:func:`prefetched`): the network wait overlaps the work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from nfd.api import DEFAULT_NFD_NAMESPACE, Features, NodeFeature
from nfd.cluster._kube import Page
from nfd.cluster._nodefeatures import ClusterFeatures, merge_cluster, parse_node_features

T = TypeVar("T")
Only = Mapping[str, "frozenset[str] | None"] | None
_DONE = object()
# Once the consumer stops early, how long the fetching thread may take to notice (each
# API request has its own time limit; the thread never outlives the process).
_JOIN_SECONDS = 1.0


def project_features(features: Features, only: Only) -> Features:
    """Only the features (lower-cased names) and elements (None: all) in ``only``.

    For a spec whose :attr:`~nfd.match.SpecEvaluator.reads` is ``only``, every verdict
    and report line is the same on the projection as on the whole."""
    if only is None:
        return features
    flags: dict[str, set[str] | None] = {}
    attributes: dict[str, dict[str, str] | None] = {}
    instances: dict[str, list[dict[str, str]] | None] = {}
    for name, names in only.items():
        if name in features.flags:
            els = features.flags[name]
            flags[name] = els if els is None or names is None else {n for n in names if n in els}
        if name in features.attributes:
            attrs = features.attributes[name]
            attributes[name] = (attrs if attrs is None or names is None else
                                {n: attrs[n] for n in names if n in attrs})
        if name in features.instances:
            insts = features.instances[name]
            instances[name] = (insts if insts is None or names is None else
                               [{n: v for n, v in i.items() if n in names} for i in insts])
    return Features(flags, attributes, instances)


def prefetched(items: Iterable[T]) -> Iterator[T]:
    """``items``, with the next one fetched in a thread while the caller handles this one.

    Errors come out where they happened in the sequence. If the caller stops early, the
    thread stops after the item it is fetching."""
    slot: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for item in items:
                slot.put((item, None))
                if stop.is_set():
                    return
            slot.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            slot.put((_DONE, exc))

    thread = threading.Thread(target=fetch, name="nfd-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = slot.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:  # unblock a fetcher waiting to hand over its item
                slot.get_nowait()
            except queue.Empty:
                thread.join(_JOIN_SECONDS)
                break


def cluster_features_from_pages(pages: Iterable[Page], nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                                only: Only = None) -> tuple[ClusterFeatures, str]:
    """The merged (projected) features of every node, and the API server, from the pages
    of a listing, each handled as it arrives while the next one is fetched."""
    objects: list[NodeFeature] = []
    ignored: list[str] = []
    server = ""
    offset = 0
    for page in prefetched(pages):
        if page.number == 1:  # the listing (re)starts: drop what earlier pages gave
            objects, ignored, offset = [], [], 0
        used, left_out = parse_node_features(page.items, "items", default_kind=True,
                                             start=offset)
        offset += len(page.items)
        objects.extend(NodeFeature(nf.name, nf.namespace, nf.node_name,
                                   project_features(nf.features, only), nf.labels)
                       for nf in used)
        ignored.extend(left_out)
        server = page.server
    return merge_cluster(objects, nfd_namespace, ignored), server
