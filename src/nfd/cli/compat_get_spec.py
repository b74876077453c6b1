"""``nfd compat get-spec``: print the compatibility spec attached to an image, as stored.

``-o yaml`` or ``-o json`` print the parsed spec again in that format instead of the
stored bytes (the default, ``-o raw``).
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK

EXAMPLES = (
    ("print the newest spec attached to an image",
     "nfd compat get-spec --image registry.example.com/app:1.0"),
    ("one artifact (as 'nfd compat list' shows it), as JSON",
     "nfd compat get-spec --image registry.example.com/app:1.0 "
     "--artifact-digest sha256:0123456789ab -o json"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("--image", required=True, metavar="REF", help="image to read")
    parser.add_argument("--artifact-digest", metavar="DIGEST", type=digest_argument,
                        help="this compatibility artifact (default: the newest; the first 12 "
                        "hex digits do when only one artifact's digest starts so)")
    parser.add_argument("--output", "-o", choices=("raw", "yaml", "json"), default="raw",
                        help="raw: the stored bytes (default); yaml|json: the parsed spec")
    add_registry_arguments(parser)
    from nfd.cli._verify_args import add_verify_arguments

    add_verify_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.cli._verify_args import verifier_from_args
    from nfd.compat import fetch_compat_spec_bytes

    verifier = verifier_from_args(args)
    fetched = fetch_compat_spec_bytes(args.image, registry_options_from_args(args),
                                      digest=args.artifact_digest, verifier=verifier)
    if args.output != "raw":
        from nfd.api import loads, loads_spec
        from nfd.cli._output import write_document

        source = f"{fetched.image}@{fetched.artifact_digest}"
        loads_spec(fetched.spec_bytes, source)  # a spec we could not read is not re-emitted
        write_document(loads(fetched.spec_bytes, source=source), args.output)
        return EXIT_OK
    if sys.stdout.isatty():
        from nfd._text import printable

        # A terminal gets the text without controls; a file or pipe gets the stored bytes.
        sys.stdout.write(printable(fetched.spec_bytes.decode(errors="replace")))
        sys.stdout.flush()
        return EXIT_OK
    sys.stdout.buffer.write(fetched.spec_bytes)
    sys.stdout.buffer.flush()
    return EXIT_OK
