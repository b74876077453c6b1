"""``nfd compat attach-spec``: lint a spec and attach it to an image as an OCI artifact."""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    parser.add_argument("--image", required=True, metavar="REF", help="image to attach to")
    parser.add_argument("--spec", required=True, metavar="FILE",
                        help="compatibility spec file ('-' for stdin)")
    parser.add_argument("--replace", action="store_true",
                        help="then remove the other compatibility artifacts attached to the "
                        "same subject")
    add_registry_arguments(parser, platform_help=(
        "attach to this platform's manifest of a multi-platform image (default: none: attach "
        "to what --image names, the whole index for a multi-platform image)"))


def _read_spec(path: str) -> bytes:
    from nfd.errors import SpecError
    from nfd.oci import MAX_SPEC_BYTES

    if path == "-":
        data = sys.stdin.buffer.read(MAX_SPEC_BYTES + 1)
    else:
        with open(path, "rb") as handle:
            data = handle.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"spec is over the {MAX_SPEC_BYTES}-byte limit", source=path)
    return data


def run(args: argparse.Namespace) -> int:
    from nfd._text import printable_line
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat import attach_compat_spec
    from nfd.errors import UsageError

    if args.spec == "-" and (args.registry_password_stdin or args.registry_token_stdin):
        raise UsageError("--spec - and a registry secret on stdin cannot share stdin")
    data = _read_spec(args.spec)
    options = registry_options_from_args(args)
    result = attach_compat_spec(args.image, data, options, source=args.spec,
                                replace=args.replace)
    if result.unchanged:
        print(f"unchanged: {result.image}@{printable_line(result.subject)} already carries "
              f"this spec as {result.artifact_digest}")
    else:
        print(f"attached {result.artifact_digest} to {result.image}@"
              f"{printable_line(result.subject)}")
    for item in result.replaced:
        print(f"removed {printable_line(item.digest)}")
    for item, reason in result.refused:
        print(f"nfd compat attach-spec: warning: left {printable_line(item.digest)} alone: "
              f"not a compatibility artifact of this image ({printable_line(reason)})",
              file=sys.stderr)
    if result.referrers_tag:
        print(f"referrers tag updated: {result.referrers_tag}", file=sys.stderr)
    return EXIT_OK
