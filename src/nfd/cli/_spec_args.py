"""Flags shared by the commands that evaluate a spec: where it comes from, which sets.

``--image REF | --spec FILE`` with ``--artifact-digest``, ``--tags`` (cobra's
StringSlice semantics, as NFD's client), and the registry flags.
"""

from __future__ import annotations

import argparse

from nfd._lazy import TYPE_CHECKING
from nfd.errors import UsageError

if TYPE_CHECKING:
    from typing import Any


def add_spec_arguments(parser: argparse.ArgumentParser, *, tags: bool = True) -> None:
    """``--image``/``--spec`` (one required), ``--artifact-digest``, ``--tags``, registry flags."""
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", metavar="REF", help="image whose attached spec is used")
    what.add_argument("--spec", metavar="FILE", help="compatibility spec file ('-' for stdin)")
    parser.add_argument("--artifact-digest", metavar="DIGEST", type=digest_argument,
                        help="use this compatibility artifact (default: the newest)")
    if tags:
        parser.add_argument("--tags", action="append", default=[], metavar="T1,T2",
                            help="only compatibility sets with one of these tags")
    add_registry_arguments(parser)
    from nfd.cli._verify_args import add_verify_arguments

    add_verify_arguments(parser)


def spec_from_args(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The spec named by the flags, and a context naming its origin for reports.

    A spec that NFD's engine would reject on any node is refused here, before anything is
    discovered or evaluated, with validate-spec's message.
    """
    from nfd.cli._registry_options import platform_from_args, registry_options_from_args
    from nfd.cli._verify_args import verifier_from_args
    from nfd.compat import check_spec, load_compat_spec

    options = verifier = None
    if args.image is not None:
        verifier = verifier_from_args(args)
        options = registry_options_from_args(args)
    else:
        platform_from_args(args)  # a wrong --platform is an error even where it is unused
        if getattr(args, "verify", None):
            raise UsageError("--verify goes with --image: a spec file carries no signature")
    spec, context = load_compat_spec(args.spec, args.image, options, args.artifact_digest,
                                     verifier)
    return check_spec(spec), context


def parse_tags(values: list[str]) -> list[str]:
    """cobra's StringSlice: each flag value is a CSV record; repeated flags add up.

    Like Go's ``encoding/csv`` (no lazy quotes), a quote inside an unquoted
    field is an error.
    """
    tags: list[str] = []
    for value in values:
        if not value:
            continue
        import csv  # here: most runs give no --tags

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
