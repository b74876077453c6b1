"""``nfd export features``: print the host's features as NFD's export JSON.

stdout is exactly NFD's text (Go ``MarshalIndent`` with 4 spaces, then a
newline); with ``--path`` the same text without the trailing newline is
written atomically to the file. When ``cpu.cpuid`` was not read with the
live CPUID instruction a one-line note says so on stderr; ``--metadata``
prints the discovery metadata as JSON on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from nfd.cli._discovery_args import add_driver_facts_argument, driver_facts_note
from nfd.cli._write import check_target, write_atomically

if TYPE_CHECKING:
    from nfd.sources import Discovery


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nfd export features`` (NFD's ``--path/-p`` kept)."""
    parser.add_argument("-p", "--path", metavar="FILE",
                        help="write the JSON to FILE (atomically; an existing file keeps its "
                             "mode; devices, FIFOs and symlinks are refused) instead of stdout")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--host-root", metavar="DIR",
                       help="read every host path, /proc included, under DIR as a chroot "
                            "would: symlinks never leave it (a captured tree, a mounted image)")
    where.add_argument("--host-prefix", metavar="P",
                       help="NFD's container convention: read /sys, /etc, /boot, /lib, /usr "
                            "and /proc/swaps at P+name (e.g. /host-)")
    parser.add_argument("--metadata", action="store_true",
                        help="print how features were discovered (JSON) on stderr")
    add_driver_facts_argument(parser)


def print_discovery_notes(args: argparse.Namespace, result: Discovery) -> None:
    """On stderr: where cpuid came from when not from the CPUID instruction; ``--metadata``."""
    from nfd.sources import uses_live_cpuid

    if not uses_live_cpuid(result):
        origin = args.host_root or "this host"
        print(f"note: cpu.cpuid and cpu.model come from {origin}'s /proc/cpuinfo "
              f"({result.metadata.get('cpuid')}), not the CPUID instruction; flags Linux "
              "hides are missing", file=sys.stderr)
    over = result.metadata.get("overLimitCount")
    if over:
        print(f"note: {over} host file(s) or listing(s) over nfd-client's bounds were left out, "
              f"e.g. {result.metadata.get('overLimitFirst', '')!a}", file=sys.stderr)
    note = driver_facts_note(result)
    if note:
        print(note, file=sys.stderr)
    if args.metadata:
        print(json.dumps(result.metadata, sort_keys=True), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Discover, render, write; errors propagate to the CLI base as typed errors."""
    from nfd._go.json import dumps
    from nfd.api import features_to_obj
    from nfd.sources import HostPaths, discover

    host = HostPaths.from_options(args.host_root, args.host_prefix)
    if args.path:
        check_target("--path", args.path)  # before discovery: refuse early, write late
    result = discover(host, driver_facts=args.driver_facts)
    text = dumps(features_to_obj(result.features), indent=4)
    print_discovery_notes(args, result)
    if args.path:
        write_atomically("--path", args.path, text)
    else:
        sys.stdout.write(text + "\n")
    return 0
