"""Running the real ``nfd`` command in a subprocess, and what every error must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def nfd(*args: str, stdin: str | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m nfd ARGS`` with captured text output (never a shell)."""
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "nfd", *args], capture_output=True, text=True,
                          input=stdin, timeout=timeout, check=False, env=full_env,
                          cwd=cwd)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    """The command failed with ``code`` and one stderr line that contains every part."""
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]
