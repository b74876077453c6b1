"""``nfd compat validate-cluster``: which nodes of a cluster can run an image?

Features come from a ``kubectl get nodefeatures -A -o yaml|json`` dump
(``--nodefeatures``) or from the live cluster (kubeconfig, context, or the
in-cluster service account). Exit 0 when at least one node is compatible, 1 when
none is, 2 on bad input, 3 when the registry or the cluster cannot be read.
"""

from __future__ import annotations

import argparse
import sys
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
    from nfd.cli._cluster_args import add_cluster_access_arguments
    from nfd.cli._spec_args import add_spec_arguments

    add_spec_arguments(parser)
    cluster = parser.add_argument_group("cluster")
    source = cluster.add_mutually_exclusive_group()
    source.add_argument("--nodefeatures", metavar="FILE",
                        help="a 'kubectl get nodefeatures -A -o yaml|json' dump instead of a "
                        "live cluster ('-' for stdin)")
    add_cluster_access_arguments(source, cluster)
    cluster.add_argument("--nfd-namespace", default=DEFAULT_NFD_NAMESPACE, metavar="NS",
                         help="namespace of NFD's master, whose objects merge first "
                         f"(default {DEFAULT_NFD_NAMESPACE})")
    cluster.add_argument("--nfd-version", metavar="VERSION",
                         help="the cluster's NFD release (e.g. v0.17.3): warn about what in "
                         "the spec it lacks")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")


def _live_cluster(args: argparse.Namespace, spec: Any, evaluator: Any
                  ) -> tuple[Any, dict[str, Any]]:
    from nfd.cli._registry_options import checked_seconds, command_redactor
    from nfd.cluster import KubeOptions, validate_live_cluster

    timeout = checked_seconds("--request-timeout", args.request_timeout)
    options = KubeOptions(kubeconfig=args.kubeconfig, context=args.context,
                          in_cluster=args.in_cluster, page_size=args.page_size,
                          timeout=timeout, redactor=command_redactor(args))
    result, server = validate_live_cluster(spec, options, evaluator=evaluator,
                                           nfd_namespace=args.nfd_namespace)
    return result, {"cluster": server}


def _from_dump(args: argparse.Namespace, spec: Any, evaluator: Any,
               prefetched: Any) -> tuple[Any, dict[str, Any]]:
    from nfd.cluster import validate_fleet_dump
    from nfd.errors import UsageError

    if args.context:
        raise UsageError("--context goes with a live cluster, not --nodefeatures")
    result = validate_fleet_dump(spec, args.nodefeatures, evaluator=evaluator,
                                 nfd_namespace=args.nfd_namespace, prefetched=prefetched)
    return result, {"nodeFeatures": args.nodefeatures}


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
    from nfd.cluster import cluster_report, prefetch_dump
    from nfd.match import SpecEvaluator

    release = None
    if args.nfd_version is not None:
        from nfd.cluster import parse_nfd_version

        release = parse_nfd_version(args.nfd_version)
    # Standard input is read where it always was: after the spec (which may be '-' too).
    from_file = args.nodefeatures not in (None, "-")
    prefetched = prefetch_dump(args.nodefeatures) if from_file else None
    spec, context = spec_from_args(args)
    # Tags are checked, and the spec compiled, before the cluster is read.
    evaluator = SpecEvaluator(spec, parse_tags(args.tags))
    if release is not None:
        _warn_release(spec, release)
    if args.nodefeatures is not None:
        result, origin = _from_dump(args, spec, evaluator, prefetched)
    else:
        result, origin = _live_cluster(args, spec, evaluator)
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
