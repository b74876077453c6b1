"""``nfd compat list``: the compatibility artifacts attached to an image, newest first.

Each row gives the artifact, its creation time, the spec's size, the subject it is
attached to (the image, or its platform's manifest) and the spec's tags and
descriptions. Digests are shortened to 12 hex digits, as docker shortens image IDs
(``--artifact-digest`` takes them back while unique; ``-o json`` has them whole), and
on a terminal the descriptions are cut to its width, so a row fits 80 columns.
An image with nothing attached gives an empty list (exit 0); only
fetching a spec (``get-spec``, ``validate-node``) treats that as "no artifact" (exit 4).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from nfd.cli._base import EXIT_OK

EXAMPLES = (
    ("the artifacts attached to an image, newest first",
     "nfd compat list --image registry.example.com/app:1.0"),
    ("every field, full digests included, as JSON",
     "nfd compat list --image registry.example.com/app:1.0 -o json"),
)


if TYPE_CHECKING:
    from nfd.compat import ArtifactInfo

HEADERS = ("DIGEST", "CREATED", "SIZE", "SUBJECT", "TAGS", "DESCRIPTIONS")
SHORT_DIGEST = 19  # "sha256:" and 12 hex digits, as docker shortens image IDs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    parser.add_argument("--image", required=True, metavar="REF", help="image to look at")
    parser.add_argument("--output", "-o", choices=("table", "json", "yaml"), default="table",
                        help="output format (default: table)")
    add_registry_arguments(parser)
    from nfd.cli._verify_args import add_verify_arguments

    add_verify_arguments(parser)


def as_document(item: ArtifactInfo, verified: bool = False) -> dict[str, Any]:
    """One artifact for ``-o json|yaml``; ``size`` is the spec's, in bytes; ``signer`` when
    signatures were verified."""
    document = {"digest": item.digest, "created": item.created, "size": item.spec_size,
                "subject": item.subject, "tags": list(item.tags),
                "descriptions": list(item.descriptions), "artifactType": item.artifact_type,
                "manifestSize": item.manifest_size, "problem": item.problem}
    if verified:
        document["signer"] = item.signer
    return document


def _row(item: ArtifactInfo, verified: bool = False) -> tuple[str, ...]:
    """One table row; the registry's and the spec's text with no terminal controls; the
    time to the second (the stored milliseconds are in ``-o json``)."""
    from nfd._text import printable_line

    tags = ",".join(t for t in item.tags if t) or "-"
    texts = "; ".join(d for d in item.descriptions if d) or "-"
    if item.problem:
        texts = f"! {item.problem}"
    size = "-" if item.spec_size is None else str(item.spec_size)
    created = printable_line(item.created or "-")
    if len(created) == 24 and created[19] == ".":  # RFC 3339 with milliseconds, UTC
        created = created[:19] + "Z"
    row: tuple[str, ...] = (printable_line(item.digest[:SHORT_DIGEST]), created, size,
                            printable_line(item.subject[:SHORT_DIGEST]), printable_line(tags),
                            printable_line(texts))
    if verified:  # who signed it goes before the free text, which ends the line
        row = (*row[:-1], printable_line(item.signer or "-"), row[-1])
    return row


def render_table(rows: list[tuple[str, ...]], max_width: int | None) -> str:
    """Columns two spaces apart; the last one cut (with "...") to ``max_width``."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        line = "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        if max_width is not None and len(line) > max_width:
            line = line[:max(max_width - 3, sum(widths))].rstrip() + "..."
        out.append(line.rstrip() + "\n")
    return "".join(out)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._output import write_document
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.cli._verify_args import verifier_from_args
    from nfd.compat import list_compat_artifacts

    verifier = verifier_from_args(args)
    verified = verifier is not None
    items = list_compat_artifacts(args.image, registry_options_from_args(args), verifier)
    if args.output != "table":
        write_document([as_document(a, verified) for a in items], args.output)
        return EXIT_OK
    from nfd.cli._output import terminal_width

    headers = (*HEADERS[:-1], "SIGNED BY", HEADERS[-1]) if verified else HEADERS
    sys.stdout.write(render_table([headers, *(_row(a, verified) for a in items)],
                                  terminal_width(sys.stdout)))
    if not items:
        print(f"nfd compat list: no compatibility artifact is attached to {args.image}",
              file=sys.stderr)
    return EXIT_OK
