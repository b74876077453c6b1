"""The real peers the interoperability tests run: the ORAS CLI, a Referrers-API registry
and kubectl.

``scripts/install-peers`` builds the Go ones at pinned versions into ``.peers/bin``
(git-ignored; ``NFD_PEERS_DIR`` moves it); kubectl is taken from ``PATH``. A missing
peer skips its test with the reason and the command that installs it, and with
``CI=true`` that skip fails the run (``tests/conftest.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from tests.oci._registry import Registry, free_port

ROOT = Path(__file__).resolve().parents[1]
INSTALL_HINT = "run scripts/install-peers (needs Go and its module proxy)"


def peers_bin() -> Path:
    return Path(os.environ.get("NFD_PEERS_DIR") or ROOT / ".peers") / "bin"


def peer(name: str) -> Path:
    """The path of an installed Go peer (``oras``, ``referrers-registry``), else a loud skip."""
    path = peers_bin() / name
    if not os.access(path, os.X_OK):
        pytest.skip(f"needs the real peer {name!r}, not in {peers_bin()}: {INSTALL_HINT}")
    return path


def kubectl() -> str:
    """kubectl as found on the machine, else a loud skip."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("needs kubectl on PATH (the machine's own; .ci/run checks for it)")
    return found


def run(cmd: Sequence[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a peer and return its result; a failure is an assertion showing its stderr."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                          env=None if env is None else {**os.environ, **env}, input=stdin,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"{Path(str(cmd[0])).name} {cmd[1]} failed: {proc.stderr}"
    return proc


def start_referrers_registry(workdir: Path) -> Registry:
    """go-containerregistry's registry with its Referrers API on (``tests/peers/``)."""
    binary = peer("referrers-registry")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen([str(binary), "--address", f"127.0.0.1:{port}"], stdout=log,
                               stderr=log)
    log.close()
    registry = Registry(f"127.0.0.1:{port}", "http", process, workdir)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_text = (workdir / 'registry.log').read_text()
            raise RuntimeError(f"referrers-registry exited: {log_text}")
        try:
            httpx.get(f"{registry.url}/v2/", timeout=1)
            return registry
        except httpx.HTTPError:
            time.sleep(0.02)
    registry.stop()
    raise RuntimeError("referrers-registry did not answer within 15 s")
