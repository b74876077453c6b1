"""``nfd export labels``: print the node labels nfd-worker would publish, as NFD's client does.

stdout is NFD's text: Go ``MarshalIndent`` of the label map (keys sorted, 4
spaces) and a newline; with ``--path`` the same text without the newline is
written atomically. Labels nfd-worker would drop (an invalid name or value)
are named in one note on stderr, as the worker logs them.
"""

from __future__ import annotations

import argparse
import sys

from nfd.cli._write import check_target
from nfd.cli.export_features import add_arguments as add_export_arguments
from nfd.cli.export_features import print_discovery_notes, render, write_path

EXAMPLES = (
    ("the labels nfd-worker would publish for this host", "nfd export labels"),
    ("as YAML, for a captured host tree", "nfd export labels --host-root /mnt/node -o yaml"),
)


_MAX_NOTED = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``nfd export features`` (``--path``, ``--host-root``/``--host-prefix``)."""
    add_export_arguments(parser)


def _note_skipped(skipped: list[tuple[str, str]]) -> None:
    if not skipped:
        return
    # Names and values come from the host: ascii() keeps control characters off the terminal.
    shown = ", ".join(f"{name!a}={value[:80]!a}" for name, value in skipped[:_MAX_NOTED])
    more = f" and {len(skipped) - _MAX_NOTED} more" if len(skipped) > _MAX_NOTED else ""
    print(f"note: {len(skipped)} label(s) left out, as nfd-worker does (invalid name or value): "
          f"{shown}{more}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Discover, derive the labels, render, write."""
    from nfd.sources import HostPaths, custom_rule_files, discover, feature_labels

    host = HostPaths.from_options(args.host_root, args.host_prefix)
    if args.path:
        check_target("--path", args.path)
    discovery = discover(host, driver_facts=args.driver_facts)
    result = feature_labels(discovery.features, host)
    print_discovery_notes(args, discovery)
    _note_skipped(result.skipped)
    rule_files = custom_rule_files(host)
    if rule_files:
        print(f"note: {len(rule_files)} custom.d rule file(s) not evaluated (nfd-worker would "
              f"add their labels), e.g. {host.display(rule_files[0])!a}", file=sys.stderr)
    text = render(dict(sorted(result.labels.items())), args.output)
    if args.path:
        write_path(args, text)
    else:
        sys.stdout.write(text + "\n")
    return 0
