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

from nfd._lazy import TYPE_CHECKING
from nfd.cli._discovery_args import (
    add_driver_facts_argument,
    add_host_arguments,
    driver_facts_note,
)

EXAMPLES = (
    ("this host's features, as NFD's 'nfd export features' prints them",
     "nfd export features"),
    ("a captured host tree, with each source's status on stderr",
     "nfd export features --host-root /mnt/node --metadata"),
    ("into a file for 'validate-node --features'", "nfd export features -p features.json"),
)


if TYPE_CHECKING:
    from typing import Any

    from nfd.sources import Discovery


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``nfd export features`` (NFD's ``--path/-p`` kept)."""
    parser.add_argument("-p", "--path", metavar="FILE",
                        help="write the JSON to FILE (atomically; an existing file keeps its "
                             "mode; devices, FIFOs and symlinks are refused) instead of stdout")
    where = parser.add_mutually_exclusive_group()
    add_host_arguments(where)
    parser.add_argument("--metadata", action="store_true",
                        help="print how features were discovered, with each source's status "
                        "(JSON), on stderr")
    parser.add_argument("--dry-run", action="store_true",
                        help="with --path: discover and check the target, write nothing")
    parser.add_argument("--output", "-o", choices=("json", "yaml"), default="json",
                        help="json: exactly NFD's text (default); yaml: the same document")
    add_driver_facts_argument(parser)


def discovery_notes(result: Discovery, origin: str | None) -> list[str]:
    """The notes every command that discovers prints on stderr: where cpuid came from when
    not from the CPUID instruction, the features whose file could not be read, and what
    went over the bounds, and which features --driver-facts added. ``origin``: the
    --host-root, if any."""
    from nfd._text import printable_line
    from nfd.sources import uses_live_cpuid

    notes = []
    # validate-node runs only the sources its spec reads: no cpu source, no cpuid note.
    if result.metadata.get("cpuid") != "not-run" and not uses_live_cpuid(result):
        notes.append(f"note: cpu.cpuid and cpu.model come from {origin or 'this host'}'s "
                     f"/proc/cpuinfo ({result.metadata.get('cpuid')}), not the CPUID "
                     "instruction; flags Linux hides are missing")
    for feature, why in result.unread.items():
        notes.append(f"note: {feature} could not be read: {printable_line(why)}")
    over = result.metadata.get("overLimitCount")
    if over:
        notes.append(f"note: {over} host file(s) or listing(s) over nfd-client's bounds were "
                     f"left out, e.g. {result.metadata.get('overLimitFirst', '')!a}")
    facts = driver_facts_note(result)
    if facts:
        notes.append(facts)
    return notes


def print_discovery_notes(args: argparse.Namespace, result: Discovery) -> None:
    """On stderr: :func:`discovery_notes`; with ``--metadata`` the metadata as JSON, with
    each source's status (``ok``, or what it could not read)."""
    from nfd.sources import source_status

    for note in discovery_notes(result, args.host_root):
        print(note, file=sys.stderr)
    if args.metadata:
        print(json.dumps({**result.metadata, "sources": source_status(result)},
                         sort_keys=True), file=sys.stderr)


def render(obj: Any, fmt: str) -> str:
    """NFD's text (Go ``MarshalIndent``, 4 spaces), or the same document as YAML; no
    trailing newline (``--path`` writes it as is, stdout adds one)."""
    if fmt == "yaml":
        from nfd.cli._yaml_emit import dump_yaml

        return dump_yaml(obj).rstrip("\n")
    from nfd._go.json import dumps

    return dumps(obj, indent=4)


def write_path(args: argparse.Namespace, text: str) -> None:
    """``--path``: the text written atomically, or with ``--dry-run`` only said."""
    if args.dry_run:
        print(f"would write {len(text.encode())} bytes to {args.path} (dry run: nothing "
              "written)", file=sys.stderr)
        return
    from nfd.cli._write import write_atomically  # only with --path (tempfile, shutil)

    write_atomically("--path", args.path, text)


def run(args: argparse.Namespace) -> int:
    """Discover, render, write; errors propagate to the CLI base as typed errors."""
    from nfd.api import features_to_obj
    from nfd.sources import HostPaths, discover

    host = HostPaths.from_options(args.host_root, args.host_prefix)
    if args.path:
        from nfd.cli._write import check_target

        check_target("--path", args.path)  # before discovery: refuse early, write late
    result = discover(host, driver_facts=args.driver_facts)
    text = render(features_to_obj(result.features), args.output)
    print_discovery_notes(args, result)
    if args.path:
        write_path(args, text)
    else:
        sys.stdout.write(text + "\n")
    return 0
