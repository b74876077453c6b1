"""``nfd compat validate-spec``: lint a compatibility spec (a file, or the one on an image)."""

from __future__ import annotations

import argparse
import sys

from nfd._text import printable_line
from nfd.cli._base import EXIT_OK, EXIT_USAGE
from nfd.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("file", nargs="?", metavar="FILE", help="spec file ('-' for stdin)")
    parser.add_argument("--image", metavar="REF", help="lint the spec attached to this image")
    parser.add_argument("--artifact-digest", metavar="DIGEST", type=digest_argument,
                        help="with --image: this artifact (default: the newest)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--nfd-version", metavar="VERSION",
                        help="warn about what this NFD release (e.g. v0.17.3) lacks")
    add_registry_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.compat import ERROR, lint_spec, load_compat_spec

    if (args.file is None) == (args.image is None):
        raise UsageError("give a spec FILE or --image REF (one of them)")
    release = None
    if args.nfd_version is not None:
        from nfd.cluster import parse_nfd_version

        release = parse_nfd_version(args.nfd_version)  # checked before any registry request
    options = None
    if args.image is not None:
        from nfd.cli._registry_options import registry_options_from_args

        options = registry_options_from_args(args)
    spec, _ = load_compat_spec(args.file, args.image, options, args.artifact_digest)
    source = spec.source
    findings = lint_spec(spec)
    if release is not None and not any(f.severity == ERROR for f in findings):
        from nfd.cluster import nfd_requirements
        from nfd.compat import WARNING, Finding

        findings += [Finding(WARNING, e.path or "", e.message)
                     for e in nfd_requirements(spec, release)]
    for finding in findings:
        print(printable_line(finding.text(source)), file=sys.stderr)
    failed = any(f.severity == ERROR or args.strict for f in findings)
    if failed:
        return EXIT_USAGE
    sets = len(spec.compatibilities)
    rules = sum(len(c.rules) for c in spec.compatibilities)
    print(f"{source}: valid ({sets} compatibility set{'s' * (sets != 1)}, "
          f"{rules} rule{'s' * (rules != 1)}"
          f"{', ' + str(len(findings)) + ' warning(s)' if findings else ''})")
    return EXIT_OK
