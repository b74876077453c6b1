"""The library scripts of ``examples/`` run as a tool writer would run them, against a real
registry (docker-registry) and a real captured host tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests._fixtures import unpack_host
from tests.oci._registry import Registry
from tests.oci.conftest import PushImage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SRC = Path(__file__).resolve().parents[2] / "src"

# For the AMD EPYC VM of tests/fixtures/hosts: set 1 matches, set 2 fails on two lines.
SPEC = """version: v1alpha1
compatibilities:
- description: "AMD, kernel 6"
  rules:
  - name: amd
    matchFeatures:
    - feature: cpu.model
      matchExpressions:
        vendor_id: {op: In, value: ["AMD"]}
    - feature: kernel.version
      matchExpressions:
        major: {op: Gt, value: ["5"]}
- description: "Intel with an NVIDIA GPU"
  rules:
  - name: intel-gpu
    matchFeatures:
    - feature: cpu.model
      matchExpressions:
        vendor_id: {op: In, value: ["Intel"]}
    - feature: no.such
      matchExpressions:
        gpu: {op: Exists}
"""


def _run(script: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # No auth files of this machine's user: HOME and DOCKER_CONFIG point at an empty place.
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": str(home),
           "DOCKER_CONFIG": str(home), "XDG_RUNTIME_DIR": str(home)}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def amd_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_host("amd-epyc-debian12", tmp_path_factory.mktemp("amd-host"))


def test_publish_spec_attaches_once_and_lists(plain_registry: Registry, push: PushImage,
                                              tmp_path: Path) -> None:
    image = push(plain_registry)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    first = _run("publish_spec.py", image, str(spec), home=tmp_path)
    assert first.returncode == 0, first.stderr
    attached = re.fullmatch(r"attached: (sha256:[0-9a-f]{64}) on sha256:[0-9a-f]{64}",
                            first.stdout.splitlines()[0])
    assert attached is not None, first.stdout
    listed = first.stdout.splitlines()[1:]
    assert len(listed) == 1 and listed[0].startswith(attached.group(1))
    assert listed[0].endswith("AMD, kernel 6; Intel with an NVIDIA GPU")
    again = _run("publish_spec.py", image, str(spec), home=tmp_path)
    assert again.stdout.splitlines()[0].startswith(f"already attached: {attached.group(1)}")


def test_publish_spec_reports_a_bad_spec_in_one_line(plain_registry: Registry,
                                                     push: PushImage, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities: nope\n")
    out = _run("publish_spec.py", push(plain_registry), str(spec), home=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("publish_spec: ") and out.stderr.count("\n") == 1
    assert "compatibilities" in out.stderr


def test_check_host_says_which_set_fits_and_why_not(plain_registry: Registry, push: PushImage,
                                                    amd_host: Path, tmp_path: Path) -> None:
    image = push(plain_registry)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    assert _run("publish_spec.py", image, str(spec), home=tmp_path).returncode == 0
    out = _run("check_host.py", image, "--host-root", str(amd_host), home=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("spec sha256:")
    assert lines[1:] == [
        "set 1 (AMD, kernel 6): compatible",
        "set 2 (Intel with an NVIDIA GPU): not compatible",
        "  set 2, rule 'intel-gpu': cpu.model vendor_id In ['Intel']: the host has value 'AMD'",
        "  set 2, rule 'intel-gpu': no.such gpu Exists []: the host has no such feature",
    ]


def test_check_host_without_a_spec_attached(plain_registry: Registry, push: PushImage,
                                            amd_host: Path, tmp_path: Path) -> None:
    out = _run("check_host.py", push(plain_registry), "--host-root", str(amd_host),
               home=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("check_host: ") and "no compatibility artifact" in out.stderr
