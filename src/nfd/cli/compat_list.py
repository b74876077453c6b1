"""``nfd compat list``: the compatibility artifacts attached to an image, newest first."""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    parser.add_argument("--image", required=True, metavar="REF", help="image to look at")
    parser.add_argument("--output", "-o", choices=("table", "json", "yaml"), default="table",
                        help="output format (default: table)")
    add_registry_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._output import write_document
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat._artifacts import list_compat_artifacts
    from nfd.errors import NoArtifactError

    items = list_compat_artifacts(args.image, registry_options_from_args(args))
    if not items:
        raise NoArtifactError(f"{args.image}: no compatibility artifact is attached to the image")
    if args.output != "table":
        write_document([{"digest": a.digest, "created": a.created, "size": a.size,
                         "artifactType": a.artifact_type, "subject": a.subject}
                        for a in items], args.output)
        return EXIT_OK
    rows = [("DIGEST", "CREATED", "SIZE", "ARTIFACT TYPE")]
    from nfd._text import printable_line

    # Annotations and types are the registry's text: no terminal controls get through.
    rows += [(a.digest, printable_line(a.created or "-"), str(a.size),
              printable_line(a.artifact_type)) for a in items]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:3])]
        sys.stdout.write("  ".join([*cells, row[3]]) + "\n")
    return EXIT_OK
