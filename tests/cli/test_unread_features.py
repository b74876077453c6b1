"""'Not on this node' and 'could not be read' are different answers, in every command
that discovers: validate-node's table and notes, export's notes and --metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._fixtures import unpack_host

SPEC = """version: v1alpha1
compatibilities:
- rules:
  - name: driver
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        nosuchmodule: {op: Exists}
"""


def _tree(tmp_path: Path, name: str) -> Path:
    return unpack_host(name, tmp_path / name)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC)
    return path


def test_a_module_file_that_could_not_be_read_is_named_with_why(tmp_path: Path,
                                                                 spec: Path) -> None:
    root = _tree(tmp_path, "amd-epyc-debian12")  # captured without /proc/modules
    assert not (root / "proc" / "modules").exists()
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--host-root", str(root))
    assert proc.returncode == 1
    assert f"could not be read: {root}/proc/modules: No such file or directory" in \
        " ".join(proc.stdout.split()).replace("│ ", "").replace(" │", "")
    assert "feature not available" not in proc.stdout
    # the notes export prints for the same tree, for the sources the spec reads: the unread
    # file; no cpuinfo note, as a spec of kernel features has the cpu source not run
    assert "note: kernel.loadedmodule could not be read:" in proc.stderr
    assert "cpu.cpuid" not in proc.stderr
    cpu_spec = spec.parent / "cpu.yaml"
    cpu_spec.write_text(SPEC.replace("kernel.loadedmodule", "cpu.model").replace(
        "nosuchmodule", "vendor_id"))
    cpu_run = nfd("compat", "validate-node", "--spec", str(cpu_spec), "--host-root", str(root))
    assert "note: cpu.cpuid and cpu.model come from" in cpu_run.stderr
    doc = json.loads(nfd("compat", "validate-node", "--spec", str(spec), "--host-root",
                         str(root), "-o", "json").stdout)
    assert doc["unread"]["kernel.loadedmodule"].endswith("No such file or directory")


def test_a_module_that_is_not_loaded_is_missing(tmp_path: Path, spec: Path) -> None:
    root = _tree(tmp_path, "gpu-h100-ubuntu2404")
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--host-root", str(root))
    assert proc.returncode == 1
    assert "missing" in proc.stdout and "could not be read" not in proc.stdout
    assert "kernel.loadedmodule could not be read" not in proc.stderr


def test_metadata_lists_each_sources_status(tmp_path: Path) -> None:
    root = _tree(tmp_path, "amd-epyc-debian12")
    proc = nfd("export", "features", "--host-root", str(root), "--metadata")
    assert proc.returncode == 0
    metadata = json.loads(proc.stderr.strip().splitlines()[-1])
    sources = metadata["sources"]
    assert set(sources) == {"cpu", "kernel", "local", "memory", "network", "pci", "storage",
                            "system", "usb"}
    assert sources["kernel"].startswith("kernel.loadedmodule not read (")
    assert sources["system"] == "ok"
    assert "note: kernel.loadedmodule could not be read:" in proc.stderr
