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
from nfd.cli._output import OUTPUT_FORMATS, use_colour, write_document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.api import DEFAULT_NFD_NAMESPACE
    from nfd.cli._spec_args import add_spec_arguments
    from nfd.cluster._kube import DEFAULT_PAGE_SIZE, DEFAULT_TIMEOUT

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
    cluster.add_argument("--request-timeout", type=float, default=DEFAULT_TIMEOUT,
                         metavar="SECONDS", help="time limit per API request "
                         f"(default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")


def _cluster(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from nfd.cluster import cluster_features_from_document

    if args.nodefeatures is not None:
        from nfd.cluster import load_dump
        from nfd.errors import UsageError

        if args.context:
            raise UsageError("--context goes with a live cluster, not --nodefeatures")
        doc = load_dump(args.nodefeatures)
        return (cluster_features_from_document(doc, args.nodefeatures, args.nfd_namespace),
                {"nodeFeatures": args.nodefeatures})
    from nfd.cli._registry_options import checked_seconds
    from nfd.cluster import KubeOptions, list_node_features

    timeout = checked_seconds("--request-timeout", args.request_timeout)
    listing = list_node_features(KubeOptions(
        kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster,
        page_size=args.page_size, timeout=timeout))
    doc = {"kind": "NodeFeatureList", "items": listing.items}
    features = cluster_features_from_document(doc, listing.server, args.nfd_namespace)
    return features, {"cluster": listing.server}


def run(args: argparse.Namespace) -> int:
    from nfd.cli._spec_args import parse_tags, spec_from_args
    from nfd.cluster import cluster_report, render_cluster_table, validate_cluster

    spec, context = spec_from_args(args)
    cluster, origin = _cluster(args)
    result = validate_cluster(spec, cluster, parse_tags(args.tags))
    if args.output == "table":
        sys.stdout.write(render_cluster_table(result, use_colour(sys.stdout)))
    else:
        write_document(cluster_report(result, {**context, **origin}), args.output)
    sys.stdout.flush()
    if not result.nodes:
        print("nfd compat validate-cluster: warning: no node has NodeFeature objects "
              "(is NFD deployed?)", file=sys.stderr)
    return EXIT_OK if result.compatible else EXIT_NOT_COMPATIBLE
