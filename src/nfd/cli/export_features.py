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
import os
import sys
import tempfile

from nfd.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nfd export features`` (NFD's ``--path/-p`` kept)."""
    parser.add_argument("-p", "--path", metavar="FILE",
                        help="write the JSON to FILE (atomically) instead of stdout")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--host-root", metavar="DIR",
                       help="read every host path, /proc included, under DIR "
                            "(a captured tree, a chroot, a mounted image)")
    where.add_argument("--host-prefix", metavar="P",
                       help="NFD's container convention: read /sys, /etc, /boot, /lib, /usr "
                            "and /proc/swaps at P+name (e.g. /host-)")
    parser.add_argument("--metadata", action="store_true",
                        help="print how features were discovered (JSON) on stderr")


def _write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it: no partial file, ever."""
    if os.path.isdir(path):
        raise UsageError(f"--path {path}: is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".nfd-features-", dir=directory)
    except OSError as exc:
        raise UsageError(f"--path {path}: cannot write in {directory}: "
                         f"{exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise UsageError(f"--path {path}: {exc.strerror or exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Discover, render, write; errors propagate to the CLI base as typed errors."""
    from nfd._go.json import dumps
    from nfd.api import features_to_obj
    from nfd.sources import HostPaths, discover, uses_live_cpuid

    host = HostPaths.from_options(args.host_root, args.host_prefix)
    result = discover(host)
    text = dumps(features_to_obj(result.features), indent=4)
    if not uses_live_cpuid(result):
        origin = args.host_root or "this host"
        print(f"note: cpu.cpuid and cpu.model come from {origin}'s /proc/cpuinfo "
              f"({result.metadata.get('cpuid')}), not the CPUID instruction; flags Linux "
              "hides are missing", file=sys.stderr)
    if args.metadata:
        print(json.dumps(result.metadata, sort_keys=True), file=sys.stderr)
    if args.path:
        _write_atomically(args.path, text)
    else:
        sys.stdout.write(text + "\n")
    return 0
