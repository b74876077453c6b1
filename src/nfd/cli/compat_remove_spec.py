"""``nfd compat remove-spec``: delete compatibility artifacts from an image.

With neither ``--artifact-digest`` nor ``--all``, only a lone artifact is removed;
with several the command refuses (exit 2) rather than guess. Only what is checked to
be a compatibility artifact of this image is deleted; other entries of the referrers
index are left alone, each with a warning. ``--dry-run`` makes every check and
deletes nothing, as ``kubectl delete --dry-run`` and ``helm uninstall --dry-run`` do.
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._base import EXIT_OK

PROG = "nfd compat remove-spec"
EXAMPLES = (
    ("see what would be removed (a digest as 'nfd compat list' shows it)",
     "nfd compat remove-spec --image registry.example.com/app:1.0 "
     "--artifact-digest sha256:0123456789ab --dry-run"),
    ("remove every compatibility artifact of the image",
     "nfd compat remove-spec --image registry.example.com/app:1.0 --all"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments, digest_argument

    parser.add_argument("--image", required=True, metavar="REF", help="image to clean")
    which = parser.add_mutually_exclusive_group()
    # --digest: this command's first name for it, kept so that scripts keep working.
    which.add_argument("--artifact-digest", "--digest", dest="digest", metavar="DIGEST",
                       type=digest_argument, action="append",
                       help="remove this artifact (repeat for several; the first 12 hex "
                       "digits do when only one artifact's digest starts so)")
    which.add_argument("--all", action="store_true", help="remove every compatibility artifact")
    parser.add_argument("--dry-run", action="store_true",
                        help="check and print what would be removed; delete nothing")
    add_registry_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from nfd._text import printable_line
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat import remove_compat_specs

    removal = remove_compat_specs(args.image, registry_options_from_args(args),
                                  digests=args.digest, every=args.all, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in removal.removed:
        print(f"{verb} {printable_line(item.digest)}")
    for item, reason in removal.refused:
        # The reason quotes the registry's text (an artifact type): no terminal controls.
        print(f"{PROG}: warning: left {printable_line(item.digest)} alone: not a compatibility "
              f"artifact of this image ({printable_line(reason)})", file=sys.stderr)
    if args.dry_run:
        print(f"{PROG}: dry run: nothing was deleted", file=sys.stderr)
    return EXIT_OK
