"""``nfd version``: this client's version, the NFD release it follows, and Python's.

As ``kubectl version``, ``helm version`` and ``oras version``: a few lines for people,
``-o json|yaml`` for scripts.
"""

from __future__ import annotations

import argparse
import platform

EXAMPLES = (
    ("the versions, one a line", "nfd version"),
    ("the same as JSON", "nfd version -o json"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", choices=("table", "json", "yaml"), default="table",
                        help="format (default: table: one line each)")


def versions() -> dict[str, str]:
    from nfd import __version__
    from nfd.cluster import REFERENCE_NFD_VERSION

    return {"clientVersion": __version__, "nfdReferenceVersion": REFERENCE_NFD_VERSION,
            "pythonVersion": platform.python_version()}


def run(args: argparse.Namespace) -> int:
    found = versions()
    if args.output != "table":
        from nfd.cli._output import write_document

        write_document(found, args.output)
        return 0
    print(f"nfd-client: {found['clientVersion']}")
    print(f"NFD reference: {found['nfdReferenceVersion']}")
    print(f"Python: {found['pythonVersion']}")
    return 0
