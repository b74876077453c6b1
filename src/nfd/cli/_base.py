"""The one place where errors become messages and exit codes.

Exit codes (design.md): 0 compatible / success, 1 not compatible, 2 bad input
or usage, 3 registry, network, auth or cluster failure, 4 no compatibility
artifact on the image, 5 no signature on it satisfies the trust policy; 70 is
reserved for our own bugs (one line, never a traceback unless NFD_DEBUG is
set). Broken pipes and Ctrl-C are handled here too.
"""

from __future__ import annotations

import argparse
import os
import sys

from nfd._lazy import TYPE_CHECKING
from nfd.cli._output import terminal_columns
from nfd.errors import (
    AuthError,
    ClusterError,
    DiscoveryError,
    NfdError,
    NoArtifactError,
    RegistryError,
    SpecError,
    UsageError,
    VerificationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn, Protocol

    class ArgumentAdder(Protocol):
        """A parser or an argument group (argparse does not export the group's type)."""

        def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action: ...

EXIT_OK = 0
EXIT_NOT_COMPATIBLE = 1
EXIT_USAGE = 2
EXIT_REGISTRY = 3
EXIT_NO_ARTIFACT = 4
EXIT_UNTRUSTED = 5
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug of ours, never the user's input
EXIT_INTERRUPTED = 130

# Library arguments whose flag is not simply ``--`` + the name with dashes.
_FLAG_FOR_ARGUMENT = {
    "digest": "--artifact-digest",
    "digests": "--artifact-digest",
    "every": "--all",
    "spec_path": "--spec",
}

EXIT_CODES_HELP = """\
Exit codes: 0 success or compatible, 1 not compatible, 2 bad input or usage,
3 registry, network, auth or cluster failure, 4 no compatibility artifact,
70 a bug in nfd-client."""
_HELP_WIDTH = 78


def help_epilog(examples: Sequence[tuple[str, str]]) -> str:
    """The ``--help`` tail: each example (what it does, then the command, continued with
    backslashes to fit 80 columns), then the exit codes. tests/cli/test_help_examples.py
    parses every example and runs those that need no network."""
    lines = ["Examples:"] if examples else []  # a command without any: the test says so
    for what, command in examples:
        lines += [*_comment(what), *_continued(command), ""]
    return "\n".join([*lines, EXIT_CODES_HELP])


def _comment(text: str) -> list[str]:
    """``  # text`` in lines of at most 78 columns, broken at spaces."""
    lines, current = [], "  #"
    for word in text.split(" "):
        if len(current) + 1 + len(word) > _HELP_WIDTH and current != "  #":
            lines.append(current)
            current = "  #"
        current += " " + word
    return [*lines, current]


def _continued(command: str) -> list[str]:
    """``command`` in lines of at most 78 columns, broken before a flag (kept with its
    value), as a shell reads it back: a trailing backslash continues the line."""
    units: list[str] = []
    for word in command.split(" "):
        if units and not word.startswith("-") and units[-1].startswith("-") \
                and " " not in units[-1]:
            units[-1] += " " + word
        else:
            units.append(word)
    lines, current = [], "  " + units[0]
    for unit in units[1:]:
        if len(current) + len(unit) + 3 > _HELP_WIDTH and unit.startswith("-"):
            lines.append(current + " \\")
            current = "      " + unit
        else:
            current += " " + unit
    return [*lines, current]


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse keeps a mutually exclusive group on one usage line, aligned under the
    program's name, so a long group passes the terminal's width. Then the usage is laid
    out again as argparse lays out a long program name: the parts under ``usage:``, and
    a part that still does not fit broken after a ``|``."""

    def _format_usage(self, usage: str | None, actions: Any, groups: Any,
                      prefix: str | None) -> str:
        text = super()._format_usage(usage, actions, groups, prefix)
        if usage is not None or all(len(line) <= self._width for line in text.splitlines()):
            return text
        head = (prefix if prefix is not None else "usage: ") + self._prog
        indent = " " * len("usage: ")
        lines = [head]
        for part in _usage_parts(" ".join(text[len(head):].split())):
            if len(lines) > 1 and len(lines[-1]) + 1 + len(part) <= self._width:
                lines[-1] += " " + part
                continue
            line = indent + part
            while len(line) > self._width and " | " in line[:self._width]:
                cut = line.rindex(" | ", 0, self._width) + 2
                lines.append(line[:cut])
                line = indent + "  " + line[cut + 1:]
            lines.append(line)
        return "\n".join(lines) + "\n\n"


def _usage_parts(text: str) -> list[str]:
    """``[-h] (--a | --b) [--c X]`` -> its parts, spaces inside brackets kept."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == " " and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (char in "[(") - (char in "])")
        current += char
    return [*parts, current] if current else parts


class CommandParser(argparse.ArgumentParser):
    """argparse with one-line usage errors that suggest the flag that was meant.

    Abbreviated flags are refused, as cobra (kubectl, helm, oras, NFD's ``nfd``) refuses
    them: ``--node`` must not silently become ``--nodefeatures``. Subparsers are made
    by this class too (argparse passes ``parser_class`` on), so they refuse them as well.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        # Examples keep their lines; descriptions are written one paragraph each.
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own asks shutil for the width, and add_argument makes one per flag:
        # importing shutil would cost every run 5 ms of its cold start. The width is the same.
        return self.formatter_class(prog=self.prog,  # type: ignore[call-arg]  # they all take it
                                    width=terminal_columns() - 2)

    def error(self, message: str) -> NoReturn:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            words = message[len(prefix):].split()
            flags = [w for w in words if w.startswith("-")]
            if flags:  # the words after a mistyped flag are its value: name the flag only
                message = "unknown flag " + ", ".join(f"{w}{self._suggestion(w)}" for w in flags)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        # A mistyped flag is named before any "required" complaint it would cause. With
        # subcommands (``compat webhook serve``) each subparser checks its own flags.
        unknown = [w for w in self._long_words(args or []) if not self._known(w)
                   ] if self._subparsers is None else []
        if unknown:
            self.error("unrecognized arguments: " + " ".join(unknown))
        return super().parse_known_args(args, namespace)

    @staticmethod
    def _long_words(args: Sequence[str]) -> list[str]:
        words = []
        for word in args:
            if word == "--":
                break
            if word.startswith("--"):
                words.append(word)
        return words

    def _known(self, word: str) -> bool:
        flag = word.split("=", 1)[0]
        return flag in self._option_string_actions

    def _suggestion(self, word: str) -> str:
        """`` (did you mean --features?)`` for a mistyped long flag, else nothing."""
        from nfd._suggest import did_you_mean

        if not word.startswith("--"):
            return ""
        flag = word.split("=", 1)[0]
        flags = [o for o in self._option_string_actions if o.startswith("--")]
        return did_you_mean(flag, flags, quote="")

def flag_for(argument: str) -> str:
    """The command-line flag of a library argument (``host_root`` -> ``--host-root``)."""
    return _FLAG_FOR_ARGUMENT.get(argument) or "--" + argument.replace("_", "-")


def message_of(exc: NfdError) -> str:
    """The error's text with the arguments it names (`` `ca_file` ``) worded as flags."""
    text = str(exc)
    for name in exc.arguments:
        text = text.replace(f"`{name}`", flag_for(name))
    return text


def exit_code_for(exc: NfdError) -> int:
    """The exit code an error maps to."""
    if isinstance(exc, (RegistryError, ClusterError)):
        return EXIT_REGISTRY
    if isinstance(exc, NoArtifactError):
        return EXIT_NO_ARTIFACT
    if isinstance(exc, VerificationError):
        return EXIT_UNTRUSTED
    if isinstance(exc, (SpecError, UsageError, DiscoveryError)):
        return EXIT_USAGE
    return EXIT_USAGE


def _one_line(text: str) -> str:
    """One line, without the control characters a registry or spec author may have sent."""
    from nfd._text import printable_line

    return printable_line(str(text))


def _message(exc: NfdError) -> str:
    """The error's one line, with the flag to use when a registry wanted credentials."""
    text = _one_line(message_of(exc))
    if isinstance(exc, AuthError) and exc.credentials_sent is False:
        text += (" (give --registry-username with --registry-password-stdin, "
                 "--registry-token-stdin, or log in with docker/podman login)")
    if isinstance(exc, AuthError) and exc.untrusted_token_host:
        text += (" (if you trust it with your registry credentials: --registry-token-host "
                 f"{_one_line(exc.untrusted_token_host)})")
    return text


def _redacted(args: argparse.Namespace, text: str) -> str:
    """``text`` without the secrets this command came to hold (see ``command_redactor``)."""
    redactor = getattr(args, "nfd_redactor", None)
    clean = getattr(redactor, "clean", None)
    return str(clean(text)) if callable(clean) else text


def run_command(
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    argv: Sequence[str],
) -> int:
    """Parse ``argv`` with ``parser``, call ``run``, and map every failure to an exit code."""
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse already printed usage and the error
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        return run(args)
    except NfdError as exc:
        print(f"{parser.prog}: error: {_redacted(args, _message(exc))}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Reader went away (e.g. `| head`): silence the flush at exit too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{parser.prog}: error: {_one_line(f'{where}{exc.strerror or exc}')}",
              file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        # A bug: one line for the user (set NFD_DEBUG=1 for the traceback).
        if os.environ.get("NFD_DEBUG"):
            raise
        print(f"{parser.prog}: internal error: {type(exc).__name__}: "
              f"{_redacted(args, _one_line(str(exc)))} "
              "(a bug in nfd-client; NFD_DEBUG=1 shows where)", file=sys.stderr)
        return EXIT_INTERNAL
