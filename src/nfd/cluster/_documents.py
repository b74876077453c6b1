"""Reading the big and the multi-document files of cluster commands.

A ``kubectl get nodefeatures -A -o yaml|json`` dump of a large cluster is far
over the 1 MiB bound of :func:`nfd.api.load_file`, so it gets its own bounds;
the parsing itself (safe, bounded, duplicate keys refused, fast on big YAML) is
:mod:`nfd.api`'s. Workload manifests are small but often hold several ``---``
documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nfd._io import read_document
from nfd.api import (
    DEFAULT_NFD_NAMESPACE,
    STRICT_JSON_BYTES,
    LoadLimits,
    check_json_containers,
    load_file_all,
    loads_all,
)
from nfd.cluster._nodefeatures import ClusterFeatures, cluster_features_from_document
from nfd.errors import SpecError

MAX_DUMP_BYTES = 1 << 30
MAX_MANIFEST_BYTES = 4 << 20


def _limits(max_bytes: int) -> LoadLimits:
    # Only the size grows with the file: alias expansion and depth keep their own bounds.
    return LoadLimits(max_bytes=max_bytes)


def parse_documents(data: bytes, source: str) -> list[Any]:
    """All documents in ``data``: one JSON value, or a stream of YAML documents."""
    return loads_all(data, source=source, limits=_limits(max(len(data), 1)))


def load_documents(path: str | Path, limit: int = MAX_MANIFEST_BYTES) -> list[Any]:
    """Read ``path`` and return its documents (empty ones dropped)."""
    return load_file_all(path, limits=_limits(limit))


def load_dump(path: str | Path, limit: int = MAX_DUMP_BYTES) -> Any:
    """Read a ``kubectl get -o yaml|json`` dump: exactly one document."""
    docs = load_file_all(path, limits=_limits(limit))
    if len(docs) != 1:
        raise SpecError(f"expected one document (a NodeFeature list), found {len(docs)}",
                        source=str(path))
    return docs[0]


def load_cluster_dump(path: str | Path, nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                      only: Mapping[str, frozenset[str] | None] | None = None,
                      limit: int = MAX_DUMP_BYTES, workers: int = 1) -> ClusterFeatures:
    """The merged features of every node in a dump (``-`` is standard input).

    ``only`` keeps just those features (lower-cased names) and elements (None: all): what
    a spec reads, see :attr:`nfd.match.SpecEvaluator.reads`. The verdicts and reports for
    that spec are unchanged, and a big cluster stays small in memory.
    Big JSON dumps take the fast path of :mod:`nfd.cluster._fastjson`; ``workers=2``
    decodes half of one in a forked process (for single-threaded callers such as the CLI).
    """
    return cluster_dump_from_bytes(read_document(path, limit), str(path), nfd_namespace, only,
                                   limit, workers)


def is_big_json(data: bytes, limit: int = MAX_DUMP_BYTES) -> bool:
    """Whether ``data`` may take the fast JSON path (past the strict reader's size)."""
    return STRICT_JSON_BYTES < len(data) <= limit and data[:64].lstrip()[:1] == b"{"


def check_dump_containers(data: bytes, source: str, limit: int = MAX_DUMP_BYTES) -> None:
    """Refuse a JSON dump that may hold more objects and arrays than its size allows
    (:meth:`nfd.api.LoadLimits.containers`), before anything is decoded: a memory bound
    the fast path needs as much as the general reader."""
    try:
        check_json_containers(data, _limits(limit).containers(len(data)))
    except SpecError as exc:
        raise exc.located(source) from None


def cluster_dump_from_bytes(data: bytes, source: str,
                            nfd_namespace: str = DEFAULT_NFD_NAMESPACE,
                            only: Mapping[str, frozenset[str] | None] | None = None,
                            limit: int = MAX_DUMP_BYTES, workers: int = 1) -> ClusterFeatures:
    """:func:`load_cluster_dump` of a text already read (``source`` names it in errors)."""
    if is_big_json(data, limit):
        from nfd.cluster._fastjson import fast_cluster_features

        check_dump_containers(data, source, limit)

        fast = fast_cluster_features(data, nfd_namespace, only, workers)
        if fast is not None:
            return fast
    docs = loads_all(data, source=source, limits=_limits(limit))
    if len(docs) != 1:
        raise SpecError(f"expected one document (a NodeFeature list), found {len(docs)}",
                        source=source)
    return cluster_features_from_document(docs[0], source, nfd_namespace)
