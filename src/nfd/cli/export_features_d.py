"""``nfd export features-d``: this host's driver facts as a ``features.d`` file for NFD.

The text is what GPU Feature Discovery would write (``KEY=VALUE`` lines under its
``nvidia.com/`` names) plus kernel module versions, so that a DaemonSet, or our Job, can drop
it into ``/etc/kubernetes/node-feature-discovery/features.d/`` on a node for NFD's real worker
to publish as ``local.label`` and ``local.feature`` elements.
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._discovery_args import add_host_arguments
from nfd.cli._write import check_target

EXAMPLES = (
    ("this host's driver facts, as a features.d file", "nfd export features-d"),
    ("on a node: into NFD's features.d directory, for nfd-worker to publish",
     "nfd export features-d --path /etc/kubernetes/node-feature-discovery/features.d/gpu"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--path", metavar="FILE",
                        help="write the file to FILE (atomically) instead of stdout")
    where = parser.add_mutually_exclusive_group()
    add_host_arguments(where)
    parser.add_argument("--dry-run", action="store_true",
                        help="with --path: check the target, write nothing")


def run(args: argparse.Namespace) -> int:
    from nfd.sources import HostPaths, driver_facts, features_d_text

    host = HostPaths.from_options(args.host_root, args.host_prefix)
    if args.path:
        check_target("--path", args.path)
    text = features_d_text(driver_facts(host))
    if args.path:
        from nfd.cli.export_features import write_path

        write_path(args, text)
    else:
        sys.stdout.write(text)
    return 0
