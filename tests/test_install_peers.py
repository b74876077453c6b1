"""``scripts/install-peers`` is idempotent: a second run builds nothing and changes nothing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests._peers import ROOT, peers_bin


def _install() -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "install-peers")], capture_output=True,
                          text=True, timeout=900, check=False)


def test_second_run_builds_nothing() -> None:
    first = _install()
    if first.returncode != 0 and shutil.which("go") is None:
        pytest.skip(f"needs Go to build the real peers: {first.stderr.strip()}")
    assert first.returncode == 0, first.stderr
    binaries = {p.name: p.stat().st_mtime_ns for p in peers_bin().iterdir()}
    assert {"oras", "referrers-registry", "nfd", "nfd-master", "nfd-worker", "etcd",
            "kube-apiserver", "kube-scheduler"} <= set(binaries)
    crds = peers_bin().parent / "nfd-v0.19.0-crds.yaml"
    assert "name: nodefeaturerules.nfd.k8s-sigs.io" in crds.read_text()
    second = _install()
    assert second.returncode == 0 and second.stderr == "", second.stderr
    assert second.stdout.strip() == str(peers_bin())
    assert {p.name: p.stat().st_mtime_ns for p in peers_bin().iterdir()} == binaries
