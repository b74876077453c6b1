"""``nfd completion bash|zsh|fish``: shell completion scripts, as NFD's client prints them.

The scripts are generated from the command table and each command's own parser, so they
cannot drift from the flags: groups, commands, flags, flag choices, and file names for flags
that take a value.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass

EXAMPLES = (
    ("bash completion for this shell", "nfd completion bash"),
    ("zsh completion", "nfd completion zsh"),
)


SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class Flag:
    """One option of a command, as a completer needs it."""

    names: tuple[str, ...]
    takes_value: bool
    choices: tuple[str, ...]
    help: str


@dataclass(frozen=True)
class Command:
    """A command's words after ``nfd`` (``compat webhook serve``) and what follows them."""

    group: str
    name: str  # one word, or "webhook serve" for a command's own subcommand
    summary: str
    flags: tuple[Flag, ...]
    subcommands: tuple[str, ...] = ()  # for a command that only dispatches to others

    @property
    def key(self) -> str:
        return f"{self.group} {self.name}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, help="the shell to print the script for")


def run(args: argparse.Namespace) -> int:
    commands = list(_commands())
    script = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[args.shell]
    sys.stdout.write(script(commands))
    return 0


def _commands() -> Iterator[Command]:
    from nfd.cli import COMMANDS
    from nfd.cli._base import CommandParser

    for group, table in COMMANDS.items():
        for name, info in table.items():
            parser = CommandParser(prog=f"nfd {group} {name}")
            importlib.import_module(info.module).add_arguments(parser)
            subs = _subparsers(parser)
            yield Command(group, name, info.summary, tuple(_flags(parser)), tuple(subs))
            for sub, child in subs.items():
                yield Command(group, f"{name} {sub}", child.description or "",
                              tuple(_flags(child)))


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> Iterator[Flag]:
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        choices = tuple(str(c) for c in action.choices) if action.choices else ()
        yield Flag(tuple(action.option_strings), action.nargs != 0, choices,
                   " ".join((action.help or "").split()))


def _words(items: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    return " ".join(items)


def bash_script(commands: list[Command]) -> str:
    groups = sorted({c.group for c in commands})
    lines = [
        "# bash completion for nfd: source <(nfd completion bash)",
        "_nfd() {",
        "  # zsh's bashcompinit hands over 1-based arrays: index them as bash does.",
        '  [[ -n ${ZSH_VERSION-} ]] && setopt localoptions ksharrays',
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '  local group="${COMP_WORDS[1]}" cmd="${COMP_WORDS[2]}" flags="" valued=""',
        "  if [[ $COMP_CWORD -eq 1 ]]; then",
        f'    COMPREPLY=($(compgen -W "{_words(groups)} completion version --help --version" '
        '-- "$cur")); return',
        "  fi",
        '  if [[ $group == completion ]]; then',
        f'    [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W "{_words(SHELLS)}" -- "$cur"))',
        "    return",
        "  fi",
        "  if [[ $COMP_CWORD -eq 2 ]]; then",
        '    case "$group" in',
    ]
    top = [c for c in commands if " " not in c.name]
    for group in groups:
        names = _words(c.name for c in top if c.group == group)
        lines.append(f'      {group}) COMPREPLY=($(compgen -W "{names}" -- "$cur")) ;;')
    lines += ["    esac", "    return", "  fi", '  local key="$group $cmd"']
    parents = [c for c in commands if c.subcommands]
    if parents:
        lines.append('  case "$key" in')
        for c in parents:
            lines += [f"    {shlex.quote(c.key)})",
                      "      if [[ $COMP_CWORD -eq 3 ]]; then",
                      f'        COMPREPLY=($(compgen -W "{_words(c.subcommands)}" -- "$cur"))'
                      "; return",
                      "      fi",
                      '      key="$key ${COMP_WORDS[3]}" ;;']
        lines.append("  esac")
    lines.append('  case "$key $prev" in')
    for c in commands:
        for f in c.flags:
            if f.choices:
                pattern = "|".join(shlex.quote(f"{c.key} {n}") for n in f.names)
                lines.append(f'    {pattern}) COMPREPLY=($(compgen -W "{_words(f.choices)}" '
                             '-- "$cur")); return ;;')
    lines += ["  esac", '  case "$key" in']
    for c in commands:
        names = _words(n for f in c.flags for n in f.names)
        valued = _words(n for f in c.flags if f.takes_value for n in f.names)
        lines.append(f'    {shlex.quote(c.key)}) flags="{names}" valued="{valued}" ;;')
    lines += [
        "  esac",
        '  if [[ " $valued " == *" $prev "* ]]; then',
        '    COMPREPLY=($(compgen -f -- "$cur")); return',
        "  fi",
        '  COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
        "}",
        "complete -o default -F _nfd nfd",
        "",
    ]
    return "\n".join(lines)


def zsh_script(commands: list[Command]) -> str:
    # zsh runs the bash completer through its bashcompinit layer, so both shells complete alike.
    return ("#compdef nfd\n# zsh completion for nfd: source <(nfd completion zsh)\n"
            "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(commands))


def fish_script(commands: list[Command]) -> str:
    groups = sorted({c.group for c in commands})
    lines = ["# fish completion for nfd: nfd completion fish | source", "complete -c nfd -f"]
    top = f"not __fish_seen_subcommand_from {_words(groups)} completion version"
    for group in groups:
        lines.append(f"complete -c nfd -n {shlex.quote(top)} -a {group}")
    lines.append(f"complete -c nfd -n {shlex.quote(top)} -a completion "
                 "-d 'print a shell completion script'")
    lines.append(f"complete -c nfd -n {shlex.quote(top)} -a version "
                 "-d 'print the versions of nfd-client, NFD and Python'")
    lines.append("complete -c nfd -n '__fish_seen_subcommand_from completion' "
                 f"-a {shlex.quote(_words(SHELLS))}")
    for group in groups:
        names = [c.name for c in commands if c.group == group and " " not in c.name]
        condition = (f"__fish_seen_subcommand_from {group}; and not "
                     f"__fish_seen_subcommand_from {_words(names)}")
        for c in commands:
            if c.group == group and " " not in c.name:
                lines.append(f"complete -c nfd -n {shlex.quote(condition)} -a {c.name} "
                             f"-d {shlex.quote(c.summary)}")
    for c in commands:
        words = [c.group, *c.name.split()]
        condition = "; and ".join(f"__fish_seen_subcommand_from {w}" for w in words)
        if c.subcommands:
            choose = f"{condition}; and not __fish_seen_subcommand_from {_words(c.subcommands)}"
            lines.append(f"complete -c nfd -n {shlex.quote(choose)} "
                         f"-a {shlex.quote(_words(c.subcommands))}")
            condition = choose
        for f in c.flags:
            lines.append(_fish_flag(condition, f))
    return "\n".join(lines) + "\n"


def _fish_flag(condition: str, flag: Flag) -> str:
    parts = [f"complete -c nfd -n {shlex.quote(condition)}"]
    for name in flag.names:
        parts.append(f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}")
    if flag.choices:
        parts.append(f"-x -a {shlex.quote(_words(flag.choices))}")
    elif flag.takes_value:
        parts.append("-r -F")
    if flag.help:
        parts.append(f"-d {shlex.quote(flag.help[:80])}")
    return " ".join(parts)
