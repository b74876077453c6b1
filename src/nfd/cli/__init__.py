"""The ``nfd`` command line.

A lazy command table in front (only the chosen command's module is imported,
so ``--help`` and simple commands start fast), one module per subcommand, and
one place (:mod:`nfd.cli._base`) that turns errors into messages and exit codes.
"""

from __future__ import annotations

import importlib
import os
import sys

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.cli._base import EXIT_OK, EXIT_USAGE, CommandParser, help_epilog, run_command

if TYPE_CHECKING:
    from collections.abc import Sequence


class CommandInfo(FrozenRecord):
    """Where a subcommand lives and what it does, without importing it."""

    __slots__ = ("description", "module", "summary")
    module: str
    #: One line of ``nfd --help``: at most 52 characters, so the list fits 80 columns.
    summary: str
    #: The command's own help page says more when the summary had to be short.
    description: str

    def __init__(self, module: str, summary: str, description: str = "") -> None:
        set_field(self, "module", module)
        set_field(self, "summary", summary)
        set_field(self, "description", description or summary)


COMMANDS: dict[str, dict[str, CommandInfo]] = {
    "compat": {
        "validate-node": CommandInfo(
            "nfd.cli.compat_validate_node",
            "check this node or a features file against a spec",
            "validate this node (or a features file) against an image's compatibility spec",
        ),
        "validate-spec": CommandInfo(
            "nfd.cli.compat_validate_spec", "check a compatibility spec for errors (lint)"
        ),
        "attach-spec": CommandInfo(
            "nfd.cli.compat_attach_spec", "attach a compatibility spec to an image"
        ),
        "list": CommandInfo(
            "nfd.cli.compat_list", "list the compatibility artifacts of an image",
            "list the compatibility artifacts attached to an image"
        ),
        "get-spec": CommandInfo(
            "nfd.cli.compat_get_spec", "print the compatibility spec attached to an image"
        ),
        "remove-spec": CommandInfo(
            "nfd.cli.compat_remove_spec", "remove compatibility artifacts from an image"
        ),
        "explain": CommandInfo(
            "nfd.cli.compat_explain",
            "what a spec can say: ops, features, NodeFeature",
        ),
        "validate-cluster": CommandInfo(
            "nfd.cli.compat_validate_cluster",
            "tell which nodes of a cluster can run an image",
        ),
        "affinity": CommandInfo(
            "nfd.cli.compat_affinity",
            "emit a NodeFeatureRule and affinity for a spec",
            "emit a NodeFeatureRule and node affinity that honour the spec",
        ),
        "job": CommandInfo(
            "nfd.cli.compat_job", "emit Jobs that run validate-node on chosen nodes"
        ),
        "audit": CommandInfo(
            "nfd.cli.compat_audit",
            "find running pods whose node no longer fits (drift)",
            "find running pods whose node no longer satisfies their image (drift)",
        ),
        "what-if": CommandInfo(
            "nfd.cli.compat_what_if",
            "tell which images fail on planned nodes, and why",
            "tell which images would not run on planned node profiles, and why",
        ),
        "generate": CommandInfo(
            "nfd.cli.compat_generate",
            "generate a spec from an image's NVIDIA_REQUIRE_*",
            "generate a compatibility spec from an image's NVIDIA_REQUIRE_* environment",
        ),
        "webhook": CommandInfo(
            "nfd.cli.compat_webhook",
            "admission webhook: 'serve' it or its 'manifests'",
            "admission webhook: 'serve' it, or print its 'manifests'",
        ),
    },
    "export": {
        "features": CommandInfo(
            "nfd.cli.export_features", "print the features discovered on this host as JSON"
        ),
        "labels": CommandInfo(
            "nfd.cli.export_labels", "print the labels nfd-worker would publish (JSON)",
            "print the node labels nfd-worker would publish (JSON)"
        ),
        "features-d": CommandInfo(
            "nfd.cli.export_features_d",
            "print driver facts as a features.d file for NFD",
            "print this host's driver facts (GFD's names) as a features.d file for NFD",
        ),
    },
}


# Commands without a group: ``nfd completion bash``.
TOP_COMMANDS: dict[str, CommandInfo] = {
    "completion": CommandInfo("nfd.cli.completion", "print a bash, zsh or fish completion script"),
    "version": CommandInfo("nfd.cli.version", "print the versions of nfd-client, NFD and Python"),
}


def _usage() -> str:
    lines = ["usage: nfd <group> <command> [options]", "", "commands:"]
    for group, commands in COMMANDS.items():
        for name, info in commands.items():
            lines.append(f"  {group} {name:<18} {info.summary}")
    for name, info in TOP_COMMANDS.items():
        lines.append(f"  {name:<25} {info.summary}")
    lines += ["", "Examples:",
              "  nfd compat validate-node --spec examples/image-compatibility.yaml \\",
              "      --features examples/features-h100.json",
              "  nfd compat explain pci.device",
              "", "Run 'nfd <group> <command> --help' for a command's options and examples."]
    return "\n".join(lines)


def _suggest(word: str, choices: Sequence[str]) -> str:
    from nfd._suggest import did_you_mean

    return did_you_mean(word, choices, quote="'")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nfd`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # Text from documents may hold lone surrogates: print them, never crash on them.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else EXIT_USAGE
    if args[0] == "--version":
        from nfd import __version__

        print(f"nfd-client {__version__}")
        return 0
    group = args[0]
    if group in TOP_COMMANDS:
        return _run(TOP_COMMANDS[group], f"nfd {group}", args[1:])
    if group not in COMMANDS:
        print(f"nfd: unknown command group {group!r}"
              f"{_suggest(group, [*COMMANDS, *TOP_COMMANDS])}",
              file=sys.stderr)
        return EXIT_USAGE
    commands = COMMANDS[group]
    if len(args) < 2 or args[1] in ("-h", "--help"):
        print(_usage())
        return 0 if len(args) > 1 else EXIT_USAGE
    name = args[1]
    if name not in commands:
        print(f"nfd: unknown command '{group} {name}'{_suggest(name, list(commands))}",
              file=sys.stderr)
        return EXIT_USAGE
    return _run(commands[name], f"nfd {group} {name}", args[2:])


def console() -> None:
    """The ``nfd`` console script (and ``python -m nfd``): :func:`main`, its output
    flushed, then out at once (it never returns). The interpreter's teardown would
    free every object of the run one by one, which changes nothing the user sees and
    takes a tenth of the run on a big cluster."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`), as main() treats it
        code = EXIT_OK
    try:
        sys.stderr.flush()
    finally:
        os._exit(code)


def _run(info: CommandInfo, prog: str, argv: Sequence[str]) -> int:
    module = importlib.import_module(info.module)
    parser = CommandParser(prog=prog, description=getattr(module, "DESCRIPTION", info.description),
                           epilog=help_epilog(getattr(module, "EXAMPLES", ())))
    module.add_arguments(parser)
    return run_command(parser, module.run, argv)
