"""``nfd completion bash|zsh|fish``: each script loaded into the real shell completes groups,
commands, flags and flag choices taken from the commands' own parsers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests._cli import nfd


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        reason = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _script(shell: str, tmp_path: Path) -> Path:
    proc = nfd("completion", shell)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / f"nfd.{shell}"
    path.write_text(proc.stdout)
    return path


def _bash_like(shell: str, script: Path, words: list[str], home: Path) -> list[str]:
    """COMPREPLY for the cursor on the last word, as the shell's completion system would ask."""
    quoted = " ".join("'" + w + "'" for w in words)
    code = (f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _nfd; "
            'printf "%s\\n" "${COMPREPLY[@]}"')
    args = [_shell(shell), "-f", "-c", code] if shell == "zsh" else [_shell(shell), "-c", code]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False,
                          env={**os.environ, "HOME": str(home)}, cwd=home)
    assert proc.returncode == 0, proc.stderr
    found = [line for line in proc.stdout.splitlines() if line]
    # zsh's compadd keeps only the candidates that start with the typed word.
    return [w for w in found if w.startswith(words[-1])]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_bash_and_zsh_complete_commands_flags_and_choices(shell: str, tmp_path: Path) -> None:
    script = _script(shell, tmp_path)
    ask = lambda *words: _bash_like(shell, script, ["nfd", *words], tmp_path)  # noqa: E731
    assert ask("comp") == ["compat", "completion"]
    assert ask("compat", "validate-n") == ["validate-node"]
    assert ask("compat", "validate-node", "--feat") == ["--features"]
    assert ask("compat", "validate-node", "-o", "") == ["table", "json", "yaml"]
    assert ask("export", "features", "--host-") == ["--host-root", "--host-prefix"]
    assert ask("completion", "") == ["bash", "zsh", "fish"]
    assert "--output-json" not in ask("compat", "attach-spec", "--")


def test_fish_completes_commands_flags_and_choices(tmp_path: Path) -> None:
    script = _script("fish", tmp_path)

    def ask(line: str) -> list[str]:
        proc = subprocess.run([_shell("fish"), "--no-config", "-c",
                               f"source {script}; complete -C '{line}'"],
                              capture_output=True, text=True, timeout=30, check=False,
                              env={**os.environ, "HOME": str(tmp_path)})
        assert proc.returncode == 0, proc.stderr
        return [row.split("\t")[0] for row in proc.stdout.splitlines()]

    assert ask("nfd comp") == ["compat", "completion"]
    assert ask("nfd compat validate-n") == ["validate-node"]
    assert ask("nfd compat validate-node --feat") == ["--features"]
    assert sorted(ask("nfd compat validate-node -o ")) == ["json", "table", "yaml"]
    assert ask("nfd completion z") == ["zsh"]


def test_unknown_shell_is_a_usage_error() -> None:
    proc = nfd("completion", "tcsh")
    assert proc.returncode == 2
    assert "invalid choice: 'tcsh'" in proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_subcommands_of_a_command_complete_too(shell: str, tmp_path: Path) -> None:
    script = _script(shell, tmp_path)
    ask = lambda *words: _bash_like(shell, script, ["nfd", *words], tmp_path)  # noqa: E731
    assert ask("compat", "webhook", "") == ["serve", "manifests"]
    assert ask("compat", "webhook", "serve", "--allow") == ["--allow-registry"]
    assert ask("compat", "webhook", "manifests", "--cert") == ["--cert-manager"]
    assert "--listen" not in ask("compat", "webhook", "manifests", "--")


def test_fish_completes_subcommands(tmp_path: Path) -> None:
    script = _script("fish", tmp_path)
    proc = subprocess.run([_shell("fish"), "--no-config", "-c",
                           f"source {script}; complete -C 'nfd compat webhook '; echo ---; "
                           "complete -C 'nfd compat webhook serve --allow'"],
                          capture_output=True, text=True, timeout=30, check=False,
                          env={**os.environ, "HOME": str(tmp_path)})
    first, second = proc.stdout.split("---\n")
    assert sorted(row.split("\t")[0] for row in first.splitlines()) == ["manifests", "serve"]
    assert [row.split("\t")[0] for row in second.splitlines()] == ["--allow-registry"]
