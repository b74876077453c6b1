"""``nfd compat validate-node``: is this node (or a features file) compatible with an image?

Flags of NFD's Go client are kept (``--image``, ``--tags``, ``--platform``,
``--plain-http``, ``--output-json``, ``--registry-*``), so its scripts work.
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from nfd.cli._base import EXIT_NOT_COMPATIBLE, EXIT_OK
from nfd.cli._output import OUTPUT_FORMATS, use_colour, write_document
from nfd.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", metavar="REF", help="image whose attached spec is used")
    what.add_argument("--spec", metavar="FILE", help="compatibility spec file ('-' for stdin)")
    parser.add_argument("--artifact-digest", metavar="DIGEST",
                        help="use this compatibility artifact (default: the newest)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--features", metavar="FILE",
                       help="features to validate: 'nfd export features' JSON, a NodeFeature, "
                       "or a NodeFeature list (default: discover this host)")
    where.add_argument("--host-root", metavar="DIR",
                       help="discover the host mounted or captured at DIR")
    where.add_argument("--host-prefix", metavar="P",
                       help="NFD's container convention, e.g. /host- (reads /host-sys, ...)")
    parser.add_argument("--node", metavar="NAME", help="node to pick from a NodeFeature list")
    parser.add_argument("--tags", action="append", default=[], metavar="T1,T2",
                        help="only compatibility sets with one of these tags")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")
    parser.add_argument("--output-json", action="store_true",
                        help="print exactly NFD's JSON report")
    add_registry_arguments(parser)


def parse_tags(values: list[str]) -> list[str]:
    """cobra's StringSlice: each flag value is a CSV record; repeated flags add up.

    Like Go's ``encoding/csv`` (no lazy quotes), a quote inside an unquoted
    field is an error.
    """
    tags: list[str] = []
    for value in values:
        if not value:
            continue
        try:
            fields = next(csv.reader([value], strict=True))
        except csv.Error as exc:
            raise UsageError(f"--tags {value!r}: {exc}") from None
        for raw, field in zip(_raw_fields(value), fields, strict=False):
            if not raw.startswith('"') and '"' in raw:
                raise UsageError(f"--tags {value!r}: bare \" in non-quoted field {field!r}")
        tags.extend(fields)
    return tags


def _raw_fields(value: str) -> list[str]:
    """The fields of a CSV record as written (quotes kept), for the bare-quote check."""
    fields, current, quoted = [], "", False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            fields.append(current)
            current = ""
        else:
            current += ch
    fields.append(current)
    return fields


def _load_spec(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from nfd.api import load_spec, loads_spec

    if args.spec is not None:
        if args.artifact_digest:
            raise UsageError("--artifact-digest goes with --image")
        return load_spec(args.spec), {"spec": args.spec}
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat._artifacts import fetch_compat_spec

    fetched = fetch_compat_spec(args.image, registry_options_from_args(args),
                                artifact_digest=args.artifact_digest)
    spec = loads_spec(fetched.data, f"{fetched.image}@{fetched.artifact_digest}")
    context = {"image": fetched.image, "imageDigest": fetched.image_digest,
               "artifactDigest": fetched.artifact_digest, "created": fetched.created}
    return spec, context


def _load_features(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    if args.features is not None:
        from nfd.api import load_features_document, load_file

        doc = load_file(args.features)
        return load_features_document(doc, node=args.node, source=args.features), {
            "features": args.features}
    if args.node:
        raise UsageError("--node goes with --features")
    from nfd.sources import HostPaths, discover

    found = discover(HostPaths.from_options(args.host_root, args.host_prefix))
    return found.features, {"discovery": dict(found.metadata)}


def run(args: argparse.Namespace) -> int:
    from nfd.compat import nfd_report, rich_report, validate_features

    spec, context = _load_spec(args)
    features, origin = _load_features(args)
    result = validate_features(spec, features, parse_tags(args.tags))
    if args.output_json:
        from nfd._gojson import dumps

        sys.stdout.write(dumps(nfd_report(result)))
    elif args.output == "table":
        from nfd.cli._table import render_report

        render_report(result, sys.stdout, use_colour(sys.stdout))
    else:
        write_document(rich_report(result, {**context, **origin}), args.output)
    sys.stdout.flush()
    return EXIT_OK if result.compatible else EXIT_NOT_COMPATIBLE
