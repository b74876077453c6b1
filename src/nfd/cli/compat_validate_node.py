"""``nfd compat validate-node``: is this node (or a features file) compatible with an image?

Flags of NFD's Go client are kept (``--image``, ``--tags``, ``--platform``,
``--plain-http``, ``--output-json``, ``--registry-*``), so its scripts work.
"""

from __future__ import annotations

import argparse
import sys

from nfd._lazy import TYPE_CHECKING
from nfd.cli._base import EXIT_NOT_COMPATIBLE, EXIT_OK
from nfd.cli._output import OUTPUT_FORMATS, terminal_width, use_colour, write_document
from nfd.errors import UsageError

EXAMPLES = (
    ("validate a features file (from 'nfd export features') against a spec file",
     "nfd compat validate-node --spec examples/image-compatibility.yaml "
     "--features examples/features-h100.json"),
    ("validate this host against the spec attached to an image, as JSON",
     "nfd compat validate-node --image registry.example.com/app:1.0 -o json"),
    ("a captured host tree, only the compatibility sets tagged gpu",
     "nfd compat validate-node --image registry.example.com/app:1.0 --host-root /mnt/node "
     "--tags gpu"),
)


if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

PROG = "nfd compat validate-node"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._discovery_args import add_driver_facts_argument, add_host_arguments
    from nfd.cli._spec_args import add_spec_arguments

    add_spec_arguments(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--features", metavar="FILE",
                       help="features to validate: 'nfd export features' JSON, a NodeFeature, "
                       "or a NodeFeature list (default: discover this host)")
    add_host_arguments(where)
    parser.add_argument("--node", metavar="NAME", help="node to pick from a NodeFeature list")
    add_driver_facts_argument(parser)
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default=None,
                        help="report format (default: table)")
    parser.add_argument("--output-json", action="store_true",
                        help="print exactly NFD's JSON report")


def check_values(args: argparse.Namespace) -> None:
    """The value checks validate-node makes before any work, alone: ``job`` runs them on
    the command line it passes to the pod, so a bad value is refused before the Job is made.
    """
    from nfd.cli._registry_options import checked_seconds, platform_from_args
    from nfd.cli._spec_args import parse_tags
    from nfd.oci import Reference

    platform_from_args(args)
    checked_seconds("--timeout", args.timeout)
    parse_tags(args.tags)
    if args.image is not None:
        Reference.parse(args.image)


def _load_features(args: argparse.Namespace, reads: Iterable[str]
                   ) -> tuple[Any, dict[str, Any]]:
    """The features to validate: the file's, or this host's from the sources that provide
    ``reads`` (the features the spec's rules name: nothing else can change the report)."""
    if args.features is not None:
        from nfd.api import load_features

        if args.driver_facts:
            raise UsageError("--driver-facts goes with discovery, not with --features")
        return load_features(args.features, node=args.node), {"features": args.features}
    if args.node:
        raise UsageError("--node goes with --features")
    from nfd.cli.export_features import discovery_notes
    from nfd.sources import HostPaths, discover, sources_read

    found = discover(HostPaths.from_options(args.host_root, args.host_prefix),
                     sources=sources_read(reads), driver_facts=args.driver_facts)
    for note in discovery_notes(found, args.host_root):
        print(f"{PROG}: {note}", file=sys.stderr)
    return found.features, {"discovery": dict(found.metadata), "unread": dict(found.unread),
                            "failedReads": dict(found.failed_reads)}


def run(args: argparse.Namespace) -> int:
    from nfd.cli._spec_args import parse_tags, spec_from_args

    if args.output_json and args.output is not None:
        raise UsageError(f"--output-json prints NFD's JSON: it does not go with --output "
                         f"{args.output}")
    spec, context = spec_from_args(args)
    from nfd.compat import nfd_report, rich_report
    from nfd.match import SpecEvaluator

    # Tags are checked before any features are read or discovered.
    evaluator = SpecEvaluator(spec, parse_tags(args.tags))
    features, origin = _load_features(args, evaluator.reads)
    result = evaluator.validate(features)
    if args.output_json:
        from nfd._go.json import dumps

        sys.stdout.write(dumps(nfd_report(result)))
    elif args.output in (None, "table"):
        from nfd.cli._table import render_report

        render_report(result, sys.stdout, use_colour(sys.stdout), spec,
                      terminal_width(sys.stdout),
                      unread={**origin.get("failedReads", {}), **origin.get("unread", {})})
    else:
        write_document(rich_report(result, {**context, **origin}), args.output)
    sys.stdout.flush()
    return EXIT_OK if result.compatible else EXIT_NOT_COMPATIBLE
