"""Every help page: abbreviations refused with a did-you-mean, and examples that work.

The command table is enumerated (each group's commands, the top-level ones, and the
webhook's subcommands), so a new command is covered without editing this file.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nfd.cli import COMMANDS, TOP_COMMANDS, main
from nfd.cli._base import CommandParser, help_epilog

ROOT = Path(__file__).resolve().parents[2]


def _pages() -> list[tuple[str, ...]]:
    pages: list[tuple[str, ...]] = [(name,) for name in TOP_COMMANDS]
    for group, commands in COMMANDS.items():
        for name in commands:
            pages.append((group, name))
    from nfd.cli.compat_webhook import SUBCOMMANDS

    pages += [("compat", "webhook", sub) for sub in SUBCOMMANDS]
    return pages


PAGES = _pages()


def _parser(words: tuple[str, ...]) -> argparse.ArgumentParser:
    """The parser ``nfd`` builds for a command (a webhook subcommand: its subparser)."""
    info = (TOP_COMMANDS[words[0]] if len(words) == 1 else COMMANDS[words[0]][words[1]])
    module = importlib.import_module(info.module)
    parser = CommandParser(prog="nfd " + " ".join(words[:2]), epilog=help_epilog(module.EXAMPLES))
    module.add_arguments(parser)
    if len(words) == 3:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                child: argparse.ArgumentParser = action.choices[words[2]]
                return child
    return parser


def _help(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*words, "--help"]) == 0
    return capsys.readouterr().out


def _examples(text: str) -> list[str]:
    """The commands under ``Examples:``, continuation lines joined."""
    body = text.split("\nExamples:\n", 1)[1].split("\nExit codes:", 1)[0]
    commands, current = [], ""
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        current += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            commands.append(current.strip())
            current = ""
    return commands


@pytest.mark.parametrize("words", PAGES, ids=" ".join)
def test_every_help_page_has_examples_and_exit_codes(
        words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(words, capsys)
    examples = _examples(text)
    assert examples, text
    assert "Exit codes: 0 success or compatible, 1 not compatible, 2 bad input" in text
    assert max(len(line) for line in text.split("\nExamples:\n", 1)[1].splitlines()) <= 80
    parser = _parser(words)
    for example in examples:
        argv = shlex.split(example)
        assert argv[:len(words) + 1] == ["nfd", *words], example
        try:
            parser.parse_args(argv[len(words) + 1:])  # the page's own parser accepts it
        except SystemExit as exc:
            pytest.fail(f"{example}: parse failed ({exc.code}): {capsys.readouterr().err}")


# What an example needs that a test machine has not: a registry, a cluster, a host tree,
# a server socket, or a file of the user's (a path that is not in this repository).
_NEEDS_OUTSIDE = ("--context", "/mnt/", " serve ")
_OFFLINE_WITH_IMAGE = (("compat", "job"), ("compat", "webhook"))
_FILE_LIKE = re.compile(r".*/.*|.*\.(json|yaml|txt|crt|key)")


def _runnable(words: tuple[str, ...], example: str) -> bool:
    if any(marker in example for marker in _NEEDS_OUTSIDE):
        return False
    if "registry.example.com" in example and words[:2] not in _OFFLINE_WITH_IMAGE:
        return False
    for token in shlex.split(example)[len(words) + 1:]:
        if token.startswith(("-", "registry.example.com")):
            continue
        if _FILE_LIKE.fullmatch(token) and not (ROOT / token).exists():
            return False
    return True


RUNNABLE = [(words, example) for words in PAGES if len(words) < 3
            for example in _examples(
                "\n" + help_epilog(importlib.import_module(
                    (TOP_COMMANDS[words[0]] if len(words) == 1
                     else COMMANDS[words[0]][words[1]]).module).EXAMPLES))
            if _runnable(words, example)]


@pytest.mark.parametrize(("words", "example"), RUNNABLE, ids=[e for _, e in RUNNABLE])
def test_the_examples_that_need_no_network_run(words: tuple[str, ...], example: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "nfd", *shlex.split(example)[1:]],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode in (0, 1), f"{example}: {proc.stderr}"
    assert proc.stdout and "Traceback" not in proc.stderr


def test_every_command_has_a_runnable_example_or_needs_the_network() -> None:
    covered = {words[:2] for words, _ in RUNNABLE}
    offline_only = {("completion",), ("version",), ("compat", "explain"),
                    ("compat", "validate-spec"), ("compat", "validate-node"),
                    ("compat", "validate-cluster"), ("compat", "affinity"), ("compat", "job"),
                    ("compat", "webhook")}
    assert offline_only <= covered


def _long_flags(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings
            if o.startswith("--") and o != "--help"]


@pytest.mark.parametrize("words", PAGES, ids=" ".join)
def test_abbreviations_are_refused_with_the_flag_meant(
        words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser(words)
    flags = _long_flags(parser)
    checked = 0
    for flag in flags:
        abbreviation = flag[:-2]
        if len(abbreviation) < 5 or abbreviation in flags:
            continue
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([abbreviation, "x"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert f"unknown flag {abbreviation} (did you mean --" in err, err
        suggested = err.split("(did you mean ", 1)[1].split("?", 1)[0]
        assert suggested.startswith(abbreviation) and suggested in flags, err
        checked += 1
    assert checked or not flags


def test_the_top_level_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    examples = _examples(capsys.readouterr().out.replace("\n\nRun 'nfd", "\nExit codes:"))
    assert examples and all(e.startswith("nfd ") for e in examples)
    for example in examples:  # each runs offline, from the repository's root
        proc = subprocess.run([sys.executable, "-m", "nfd", *shlex.split(example)[1:]],
                              capture_output=True, text=True, cwd=ROOT, timeout=60,
                              check=False)
        assert proc.returncode in (0, 1) and proc.stdout, proc.stderr


def test_the_reported_near_miss(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compat", "validate-cluster", "--spec", "s.yaml", "--nodefeatures", "f.json",
                 "--node", "epyc-1"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "nfd compat validate-cluster: error: unknown flag --node "
        "(did you mean --nodefeatures?) (see --help)"]
    assert main(["compat", "validate-node", "--spec", "s.yaml", "--feat", "f"]) == 2
    assert "unknown flag --feat (did you mean --features?)" in capsys.readouterr().err
    assert main(["compat", "validate-cluster", "--spec", "s.yaml", "--no", "f"]) == 2
    assert "unknown flag --no " in capsys.readouterr().err


def _too_wide(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> list[str]:
    code = main([*words, "--help"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return [line for line in (out.out + out.err).splitlines() if len(line) > 80]


@pytest.mark.parametrize("words", [(), ("compat",), ("export",), *PAGES],
                         ids=lambda w: " ".join(w) or "nfd")
def test_every_help_page_fits_80_columns(words: tuple[str, ...],
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """argparse wraps to $COLUMNS; our own lines (the command list, examples, exit codes)
    must fit a classic terminal as well."""
    monkeypatch.setenv("COLUMNS", "80")
    assert _too_wide(words, capsys) == []
