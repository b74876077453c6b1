"""``nfd compat remove-spec``: delete compatibility artifacts from an image.

With neither ``--digest`` nor ``--all``, only a lone artifact is removed; with
several the command refuses (exit 2) rather than guess.
"""

from __future__ import annotations

import argparse

from nfd.cli._base import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("--image", required=True, metavar="REF", help="image to clean")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--digest", metavar="D", type=digest_argument,
                       help="remove this artifact")
    which.add_argument("--all", action="store_true", help="remove every compatibility artifact")
    add_registry_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat._artifact_push import remove_compat_specs

    removed = remove_compat_specs(args.image, registry_options_from_args(args),
                                  digest=args.digest, remove_all=args.all)
    for item in removed:
        print(f"removed {item.digest}")
    return EXIT_OK
