"""``nfd compat validate-cluster``: which nodes of a cluster can run an image?

Features come from a ``kubectl get nodefeatures -A -o yaml|json`` dump
(``--nodefeatures``) or from the live cluster (kubeconfig, context, or the
in-cluster service account). Exit 0 when at least one node is compatible, 1 when
none is, 2 on bad input, 3 when the registry or the cluster cannot be read.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from nfd.cli._base import EXIT_NOT_COMPATIBLE, EXIT_OK
from nfd.cli._output import (
    OUTPUT_FORMATS,
    terminal_width,
    use_colour,
    write_big_json,
    write_document,
)

EXAMPLES = (
    ("which nodes of a 'kubectl get nodefeatures -A -o json' dump can run the spec",
     "nfd compat validate-cluster --spec examples/image-compatibility.yaml "
     "--nodefeatures examples/nodefeatures.json"),
    ("the same, as a JSON report",
     "nfd compat validate-cluster --spec examples/image-compatibility.yaml "
     "--nodefeatures examples/nodefeatures.json -o json"),
    ("the live cluster of a kubeconfig context, against an image's attached spec",
     "nfd compat validate-cluster --image registry.example.com/app:1.0 --context prod"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.api import DEFAULT_NFD_NAMESPACE
    from nfd.cli._spec_args import add_spec_arguments
    from nfd.cluster._kube_defaults import DEFAULT_PAGE_SIZE, DEFAULT_TIMEOUT

    add_spec_arguments(parser)
    cluster = parser.add_argument_group("cluster")
    source = cluster.add_mutually_exclusive_group()
    source.add_argument("--nodefeatures", metavar="FILE",
                        help="a 'kubectl get nodefeatures -A -o yaml|json' dump instead of a "
                        "live cluster ('-' for stdin)")
    source.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    source.add_argument("--in-cluster", action="store_true",
                        help="use the pod's service account")
    cluster.add_argument("--context", metavar="NAME", help="kubeconfig context to use")
    cluster.add_argument("--nfd-namespace", default=DEFAULT_NFD_NAMESPACE, metavar="NS",
                         help="namespace of NFD's master, whose objects merge first "
                         f"(default {DEFAULT_NFD_NAMESPACE})")
    cluster.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, metavar="N",
                         help=f"objects per API list request (default {DEFAULT_PAGE_SIZE})")
    cluster.add_argument("--nfd-version", metavar="VERSION",
                         help="the cluster's NFD release (e.g. v0.17.3): warn about what in "
                         "the spec it lacks")
    cluster.add_argument("--request-timeout", type=float, default=DEFAULT_TIMEOUT,
                         metavar="SECONDS", help="time limit per API request "
                         f"(default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")


def _cluster(args: argparse.Namespace, only: Mapping[str, frozenset[str] | None]
             ) -> tuple[Any, dict[str, Any]]:
    from nfd.cli._registry_options import checked_seconds
    from nfd.cluster import KubeOptions, cluster_features_from_pages, iter_pages

    timeout = checked_seconds("--request-timeout", args.request_timeout)
    pages = iter_pages(KubeOptions(
        kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster,
        page_size=args.page_size, timeout=timeout))
    features, server = cluster_features_from_pages(pages, args.nfd_namespace, only)
    return features, {"cluster": server}


class _Prefetch:
    """The dump file read on another thread while the spec is read and compiled and the
    fast path's modules load (the read waits on the kernel's copy, with the GIL free).
    What went wrong is raised where the bytes are asked for, as if read then."""

    def __init__(self, path: str) -> None:
        import threading

        from nfd.api._yaml import read_bounded
        from nfd.cluster._documents import MAX_DUMP_BYTES

        self._data: bytes | None = None
        self._error: BaseException | None = None

        def read() -> None:
            try:
                self._data = read_bounded(path, MAX_DUMP_BYTES)
            except BaseException as exc:  # raised again, in the caller, by data()
                self._error = exc

        # A daemon: a run that ends early (a bad spec) does not wait for a slow file.
        self._thread = threading.Thread(target=read, name="nfd-read-dump", daemon=True)
        self._thread.start()

    def data(self) -> bytes:
        self._thread.join()  # done before any fork (which wants one thread)
        if self._error is not None:
            raise self._error
        assert self._data is not None
        return self._data


def _from_dump(args: argparse.Namespace, spec: Any, evaluator: Any,
               prefetched: _Prefetch | None) -> tuple[Any, dict[str, Any]]:
    from nfd.cluster._fleet import validate_cluster_dump
    from nfd.errors import UsageError

    if args.context:
        raise UsageError("--context goes with a live cluster, not --nodefeatures")
    data = prefetched.data() if prefetched is not None else None
    result = validate_cluster_dump(spec, args.nodefeatures, evaluator, args.nfd_namespace,
                                   workers=_workers(), data=data)
    return result, {"nodeFeatures": args.nodefeatures}


def _workers() -> int:
    """Both cores for a big cluster (this process has no other threads while it forks)."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return min(2, cores)


@contextmanager
def _bulk() -> Iterator[None]:
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


def _warn_release(spec: Any, release: tuple[int, int, int]) -> None:
    """What the cluster's NFD lacks: its master would refuse a NodeFeatureRule saying it."""
    from nfd._text import printable_line
    from nfd.cluster import nfd_requirements

    for error in nfd_requirements(spec, release):
        print(f"nfd compat validate-cluster: warning: {printable_line(str(error))}",
              file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._cluster_table import render_cluster_table
    from nfd.cli._spec_args import parse_tags, spec_from_args
    from nfd.cluster import cluster_report, validate_cluster
    from nfd.match import SpecEvaluator

    release = None
    if args.nfd_version is not None:
        from nfd.cluster import parse_nfd_version

        release = parse_nfd_version(args.nfd_version)
    # Standard input is read where it always was: after the spec (which may be '-' too).
    from_file = args.nodefeatures not in (None, "-")
    prefetched = _Prefetch(args.nodefeatures) if from_file else None
    spec, context = spec_from_args(args)
    # Tags are checked, and the spec compiled, before the cluster is read.
    evaluator = SpecEvaluator(spec, parse_tags(args.tags))
    if release is not None:
        _warn_release(spec, release)
    with _bulk():
        if args.nodefeatures is not None:
            result, origin = _from_dump(args, spec, evaluator, prefetched)
        else:
            cluster, origin = _cluster(args, evaluator.reads)
            result = validate_cluster(spec, cluster, evaluator=evaluator, workers=_workers())
            del cluster
    if args.output == "table":
        sys.stdout.write(render_cluster_table(result, use_colour(sys.stdout),
                                              terminal_width(sys.stdout)))
    elif args.output == "json":
        write_big_json(cluster_report(result, {**context, **origin}, shared=True))
    else:
        write_document(cluster_report(result, {**context, **origin}), args.output)
    sys.stdout.flush()
    if not result.nodes:
        print("nfd compat validate-cluster: warning: no node has NodeFeature objects "
              "(is NFD deployed?)", file=sys.stderr)
    return EXIT_OK if result.compatible else EXIT_NOT_COMPATIBLE
