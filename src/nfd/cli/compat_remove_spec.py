"""``nfd compat remove-spec``: delete compatibility artifacts from an image.

With neither ``--digest`` nor ``--all``, only a lone artifact is removed; with
several the command refuses (exit 2) rather than guess. Only what is checked to be
a compatibility artifact of this image is deleted; other entries of the referrers
index are left alone, each with a warning.
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK

PROG = "nfd compat remove-spec"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("--image", required=True, metavar="REF", help="image to clean")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--digest", metavar="D", type=digest_argument, action="append",
                       help="remove this artifact (repeat for several)")
    which.add_argument("--all", action="store_true", help="remove every compatibility artifact")
    add_registry_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd._text import printable_line
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat import remove_compat_specs

    removal = remove_compat_specs(args.image, registry_options_from_args(args),
                                  digests=args.digest, all=args.all)
    for item in removal.removed:
        print(f"removed {printable_line(item.digest)}")
    for item, reason in removal.refused:
        # The reason quotes the registry's text (an artifact type): no terminal controls.
        print(f"{PROG}: warning: left {printable_line(item.digest)} alone: not a compatibility "
              f"artifact of this image ({printable_line(reason)})", file=sys.stderr)
    return EXIT_OK
