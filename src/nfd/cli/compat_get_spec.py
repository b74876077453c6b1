"""``nfd compat get-spec``: print the compatibility spec attached to an image, as stored."""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("--image", required=True, metavar="REF", help="image to read")
    parser.add_argument("--artifact-digest", metavar="DIGEST", type=digest_argument,
                        help="this compatibility artifact (default: the newest)")
    add_registry_arguments(parser)
    from nfd.cli._verify_args import add_verify_arguments

    add_verify_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.cli._verify_args import verifier_from_args
    from nfd.compat import fetch_compat_spec

    verifier = verifier_from_args(args)
    fetched = fetch_compat_spec(args.image, registry_options_from_args(args),
                                digest=args.artifact_digest, verifier=verifier)
    if sys.stdout.isatty():
        from nfd._text import printable

        # A terminal gets the text without controls; a file or pipe gets the stored bytes.
        sys.stdout.write(printable(fetched.data.decode(errors="replace")))
        sys.stdout.flush()
        return EXIT_OK
    sys.stdout.buffer.write(fetched.data)
    sys.stdout.buffer.flush()
    return EXIT_OK
