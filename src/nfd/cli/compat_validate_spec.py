"""``nfd compat validate-spec``: lint a compatibility spec (a file, or the one on an image).

Errors are what NFD's engine rejects and compatibility sets no node can ever match;
they exit 2. Warnings (exit 0, or 2 with ``--strict``) are legal but suspicious.
``nfd compat explain`` lists the vocabulary the lint checks against.
"""

from __future__ import annotations

import argparse
import sys

from nfd._text import printable_line
from nfd.cli._base import EXIT_OK, EXIT_USAGE
from nfd.errors import UsageError

DESCRIPTION = """check a compatibility spec for errors (lint)

Errors (exit 2): what NFD's engine rejects, and a compatibility set that no
node can ever match (an element name or value NFD's sources never publish,
where the rule needs it). Warnings (exit 0; 2 with --strict): legal but
suspicious. 'nfd compat explain' lists the ops, features, element names and
value formats this checks against."""
EXAMPLES = (
    ("lint a spec file", "nfd compat validate-spec examples/image-compatibility.yaml"),
    ("the same, with the file as a flag and the findings as JSON",
     "nfd compat validate-spec --spec examples/image-compatibility.yaml -o json"),
    ("lint the spec attached to an image, failing on warnings too",
     "nfd compat validate-spec --image registry.example.com/app:1.0 --strict"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._output import OUTPUT_FORMATS
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("file", nargs="?", metavar="FILE", help="spec file ('-' for stdin)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--spec", metavar="FILE", help="spec file, as other commands take it")
    what.add_argument("--image", metavar="REF", help="lint the spec attached to this image")
    parser.add_argument("--artifact-digest", metavar="DIGEST", type=digest_argument,
                        help="with --image: this artifact (default: the newest)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="table: findings on stderr and a verdict line (default); "
                        "json|yaml: one document on stdout")
    parser.add_argument("--nfd-version", metavar="VERSION",
                        help="warn about what this NFD release (e.g. v0.17.3) lacks")
    add_registry_arguments(parser)
    from nfd.cli._verify_args import add_verify_arguments

    add_verify_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd.compat import ERROR, lint_spec, load_compat_spec

    if args.file is not None and args.spec is not None:
        raise UsageError("give the spec file once: FILE or --spec FILE")
    path = args.file if args.file is not None else args.spec
    if (path is None) == (args.image is None):
        raise UsageError("give a spec FILE (or --spec FILE) or --image REF (one of them)")
    release = None
    if args.nfd_version is not None:
        from nfd.cluster import parse_nfd_version

        release = parse_nfd_version(args.nfd_version)  # checked before any registry request
    from nfd.cli._verify_args import verifier_from_args

    options = verifier = None
    if args.image is not None:
        from nfd.cli._registry_options import registry_options_from_args

        verifier = verifier_from_args(args)
        options = registry_options_from_args(args)
    elif args.verify:
        raise UsageError("--verify goes with --image: a spec file carries no signature")
    spec, _ = load_compat_spec(path, args.image, options, args.artifact_digest, verifier)
    source = spec.source
    findings = lint_spec(spec)
    if release is not None and not any(f.severity == ERROR for f in findings):
        from nfd.cluster import nfd_requirements
        from nfd.compat import WARNING, Finding

        findings += [Finding(WARNING, e.path or "", e.message)
                     for e in nfd_requirements(spec, release)]
    failed = any(f.severity == ERROR or args.strict for f in findings)
    sets = len(spec.compatibilities)
    rules = sum(len(c.rules) for c in spec.compatibilities)
    if args.output != "table":
        from nfd.cli._output import write_document

        write_document({"source": source, "valid": not failed, "sets": sets, "rules": rules,
                        "findings": [{"severity": f.severity, "path": f.path,
                                      "message": f.message} for f in findings]}, args.output)
        return EXIT_USAGE if failed else EXIT_OK
    for finding in findings:
        print(printable_line(finding.text(source)), file=sys.stderr)
    if failed:
        return EXIT_USAGE
    print(f"{source}: valid ({sets} compatibility set{'s' * (sets != 1)}, "
          f"{rules} rule{'s' * (rules != 1)}"
          f"{', ' + str(len(findings)) + ' warning(s)' if findings else ''})")
    return EXIT_OK
