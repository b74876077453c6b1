"""``nfd compat attach-spec``: lint a spec and attach it to an image as an OCI artifact."""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK, EXIT_USAGE

PROG = "nfd compat attach-spec"
DESCRIPTION = """attach a compatibility spec to an image in a registry

The spec is linted first, as 'nfd compat validate-spec' does, and every
finding is printed. Errors refuse the attach: what NFD's engine rejects, and a
compatibility set that no node can ever match (a module name with a dash, PCI
id 10DE). --force attaches the latter anyway; a spec NFD cannot evaluate is
never attached. --dry-run checks everything, reads the registry, and writes
nothing."""
EXAMPLES = (
    ("check what would be attached, writing nothing",
     "nfd compat attach-spec --image registry.example.com/app:1.0 "
     "--spec examples/image-compatibility.yaml --dry-run"),
    ("attach, removing the spec attached before",
     "nfd compat attach-spec --image registry.example.com/app:1.0 "
     "--spec examples/image-compatibility.yaml --replace"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    parser.add_argument("--image", required=True, metavar="REF", help="image to attach to")
    parser.add_argument("--spec", required=True, metavar="FILE",
                        help="compatibility spec file ('-' for stdin)")
    parser.add_argument("--replace", action="store_true",
                        help="then remove the other compatibility artifacts attached to the "
                        "same subject")
    parser.add_argument("--force", action="store_true",
                        help="attach even when lint finds a set that no node can match")
    parser.add_argument("--dry-run", action="store_true",
                        help="lint, read the registry, and print what would be attached and "
                        "removed; write nothing")
    add_registry_arguments(parser, platform_help=(
        "attach to this platform's manifest of a multi-platform image (default: none: attach "
        "to what --image names, the whole index for a multi-platform image)"))


def _read_spec(path: str) -> bytes:
    from nfd._io import read_bounded
    from nfd.errors import SpecError
    from nfd.oci import MAX_SPEC_BYTES

    data = read_bounded(path, MAX_SPEC_BYTES)
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
    if not _lint(data, args.spec, args.force):
        return EXIT_USAGE
    options = registry_options_from_args(args)
    result = attach_compat_spec(args.image, data, options, source=args.spec,
                                replace=args.replace, force=args.force, dry_run=args.dry_run)
    would = "would be " if result.dry_run else ""
    if result.unchanged:
        print(f"unchanged: {result.image}@{printable_line(result.subject)} already carries "
              f"this spec as {result.artifact_digest}")
    elif result.dry_run:
        print(f"would attach the spec to {result.image}@{printable_line(result.subject)} (dry "
              "run: nothing written)")
    else:
        print(f"attached {result.artifact_digest} to {result.image}@"
              f"{printable_line(result.subject)}")
    for item in result.replaced:
        print(f"{would}removed {printable_line(item.digest)}")
    for item, reason in result.refused:
        print(f"nfd compat attach-spec: warning: left {printable_line(item.digest)} alone: "
              f"not a compatibility artifact of this image ({printable_line(reason)})",
              file=sys.stderr)
    if result.referrers_tag and not result.dry_run:
        print(f"referrers tag updated: {result.referrers_tag}", file=sys.stderr)
    return EXIT_OK


def _lint(data: bytes, source: str, force: bool) -> bool:
    """Print the spec's lint findings on stderr; whether the attach may go on."""
    from nfd._text import printable_line
    from nfd.api import loads_spec
    from nfd.compat import ERROR, lint_spec

    spec = loads_spec(data, source)
    findings = lint_spec(spec)
    for finding in findings:
        print(printable_line(finding.text(spec.source)), file=sys.stderr)
    errors = sum(f.severity == ERROR for f in findings)
    if errors and not force:
        print(f"{PROG}: error: {errors} lint error(s): not attached (--force attaches a spec "
              "NFD can evaluate anyway)", file=sys.stderr)
        return False
    return True
