"""Every source says why a feature is missing when a host read failed: a real host tree with
one path replaced by a FIFO (a file type the reader refuses: we run as root, so permissions
would not stop us) or read under a bound it overflows. validate-node's table says "could not
be read: <path>: <why>" instead of "feature not available"; ``export features --metadata``
names the failed read under its source."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._fixtures import unpack_host

from nfd.sources import HostLimits, HostPaths, discover


@pytest.fixture(scope="module")
def gpu_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_host("gpu-h100-ubuntu2404",
                       tmp_path_factory.mktemp("hosts") / "gpu-h100-ubuntu2404")


def _broken(tree: Path, tmp_path: Path, *relatives: str) -> Path:
    """A copy of ``tree`` with each path (a glob) replaced by a FIFO."""
    root = tmp_path / "host"
    shutil.copytree(tree, root, symlinks=True)
    for relative in relatives:
        paths = sorted(root.glob(relative)) or [root / relative]
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(path)
    return root


def _spec(tmp_path: Path, feature: str, expressions: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n"
                    f"    matchFeatures:\n    - feature: {feature}\n"
                    f"      matchExpressions:\n        {expressions}\n")
    return spec


def _table_text(stdout: str) -> str:
    """The table's cells joined across wrapped lines."""
    return " ".join(stdout.split()).replace("│ ", "").replace(" │", "")


# (source, the path made a FIFO, the feature that goes missing or empty, an expression on it,
# the failed read named).
CASES = [
    ("cpu", "sys/devices/system/cpu", "cpu.cstate", "enabled: {op: IsTrue}",
     "sys/devices/system/cpu/cpuidle/current_driver: Not a directory (and 5 more)"),
    ("pci", "sys/bus/pci/devices/*/class", "pci.device", "vendor: {op: In, value: ['10de']}",
     "class: not a regular file (and 6 more)"),
    ("usb", "sys/bus/usb/devices", "usb.device", "vendor: {op: Exists}",
     "sys/bus/usb/devices: Not a directory"),
    ("memory", "sys/kernel/mm/hugepages", "memory.hugepages", "enabled: {op: IsTrue}",
     "sys/kernel/mm/hugepages: Not a directory"),
    ("memory", "proc/swaps", "memory.swap", "enabled: {op: IsTrue}",
     "proc/swaps: not a regular file"),
]


@pytest.mark.parametrize(("source", "fifo", "feature", "expression", "why"), CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_failed_read_is_why_a_feature_is_missing(
        gpu_tree: Path, tmp_path: Path, source: str, fifo: str, feature: str,
        expression: str, why: str) -> None:
    spec = _spec(tmp_path, feature, expression)
    intact = nfd("compat", "validate-node", "--spec", str(spec), "--host-root", str(gpu_tree))
    assert "could not be read" not in intact.stdout, intact.stdout
    root = _broken(gpu_tree, tmp_path, fifo)
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--host-root", str(root))
    assert proc.returncode == 1, proc.stderr
    table = _table_text(proc.stdout)
    assert "could not be read: " + str(root) in table and why in table, table
    assert "feature not available" not in table
    doc = json.loads(nfd("compat", "validate-node", "--spec", str(spec), "--host-root",
                         str(root), "-o", "json").stdout)
    assert why in doc["failedReads"][source]
    exported = nfd("export", "features", "--host-root", str(root), "--metadata")
    assert exported.returncode == 0, exported.stderr
    status = json.loads(exported.stderr.strip().splitlines()[-1])["sources"]
    assert status[source].startswith(f"could not read {root}/") and why in status[source]
    assert status["system"] == "ok"


@pytest.mark.parametrize(("source", "fifo", "why"), [
    ("network", "sys/class/net/*/operstate", "operstate: not a regular file (and 3 more)"),
    ("storage", "sys/block/*/queue/rotational", "rotational: not a regular file (and 10 more)"),
])
def test_network_and_storage_name_what_they_could_not_read(
        gpu_tree: Path, tmp_path: Path, source: str, fifo: str, why: str) -> None:
    """Their listings failing fails the whole run, as in NFD (the error names the path);
    an attribute that could not be read is named under the source."""
    root = _broken(gpu_tree, tmp_path, fifo)
    exported = nfd("export", "features", "--host-root", str(root), "--metadata")
    assert exported.returncode == 0, exported.stderr
    status = json.loads(exported.stderr.strip().splitlines()[-1])["sources"]
    assert why in status[source]


def test_an_absent_path_is_not_a_failed_read(gpu_tree: Path) -> None:
    """The intact tree lacks many optional sysfs files and has no USB bus at all: nothing
    is recorded, so "missing" keeps meaning "not on this node"."""
    found = discover(HostPaths(root=str(gpu_tree)))
    assert found.failed_reads == {}
    assert found.why_unread("usb.device") is None
    assert found.why_unread("cpu.cstate") is None


def test_a_bound_overflow_is_a_failed_read(gpu_tree: Path) -> None:
    """Reads cut short by nfd-client's bounds: /proc/cpuinfo over 4 KiB (cpu), and the NUMA
    hugepages listing over 1 entry (memory); the memory feature built from it is then missing
    with that reason."""
    found = discover(HostPaths(root=str(gpu_tree),
                               limits=HostLimits(max_file_bytes=4096, max_dir_entries=1)),
                     sources=("cpu", "memory"))
    assert found.failed_reads["cpu"].startswith(
        f"{gpu_tree}/proc/cpuinfo: more than 4096 bytes (bound of nfd-client)")
    assert "directory entries (bound of nfd-client)" in found.failed_reads["memory"]
    missing = [f for f in ("memory.numa", "memory.hugepages") if f not in
               found.features.attributes]
    assert missing, found.features.attributes.keys()
    for feature in missing:
        assert found.why_unread(feature) == found.failed_reads["memory"]
