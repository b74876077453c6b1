"""Discovery of this machine's live /sys and /proc, and the ``nfd export features`` command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from nfd.api import load_features_document
from nfd.errors import UsageError
from nfd.sources import SOURCES, HostPaths, discover
from tests._cli import nfd


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return nfd("export", "features", *args, cwd=cwd)


def test_live_host_matches_sysfs_and_procfs() -> None:
    result = discover(environ={"NODE_NAME": "live"})
    f = result.features
    pci = sorted(os.listdir("/sys/bus/pci/devices"))
    assert len(f.instances["pci.device"] or []) <= len(pci)
    assert [b["name"] for b in f.instances["storage.block"] or []] == sorted(
        os.listdir("/sys/block"))
    ifaces = {i["name"] for i in (f.instances["network.device"] or []) +
              (f.instances["network.virtual"] or [])}
    assert ifaces == set(os.listdir("/sys/class/net")) - {"bonding_masters"}
    release = Path("/proc/sys/kernel/osrelease").read_text().strip()
    assert (f.attributes["kernel.version"] or {})["full"] == release
    if Path("/proc/modules").exists():
        modules = {line.split()[0] for line in Path("/proc/modules").read_text().splitlines()}
        assert f.flags["kernel.loadedmodule"] == modules
    assert f.attributes["system.name"] == {"nodename": "live"}
    assert {n.split(".")[0] for n in f.names()} == set(SOURCES)


def test_host_paths_options() -> None:
    with pytest.raises(UsageError, match="together"):
        HostPaths.from_options("/", "/host-")
    with pytest.raises(UsageError, match="not a directory"):
        HostPaths.from_options("/nonexistent-root", None)
    with pytest.raises(UsageError, match="start with"):
        HostPaths.from_options(None, "host-")
    assert HostPaths.from_options(None, None) == HostPaths()
    assert HostPaths.from_options(None, "/").sys("block") == "/sys/block"
    assert HostPaths(prefix="/host-").proc("swaps") == "/host-proc/swaps"
    # host paths stay host paths; they resolve under root when read (display shows where)
    host = HostPaths(root="/r", prefix="/host-")
    assert host.display(host.literal("/proc/modules")) == "/r/proc/modules"


def test_export_stdout_is_nfd_json_and_path_is_atomic(host_trees: dict[str, Path],
                                                      tmp_path: Path) -> None:
    root = str(host_trees["gpu-h100-ubuntu2404"])
    out = _run("--host-root", root, "--metadata")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('{\n    "flags": {\n') and out.stdout.endswith("}\n")
    doc = json.loads(out.stdout)
    assert list(doc) == ["flags", "attributes", "instances"]
    features = load_features_document(doc)
    assert features.instances["pci.device"]
    lines = out.stderr.splitlines()
    # the cpuinfo note first, the metadata last (notes of unread files come between)
    assert "proc-cpuinfo" in lines[0] and json.loads(lines[-1])["cpuid"] == "proc-cpuinfo"
    target = tmp_path / "features.json"
    target.write_text("previous")
    written = _run("--host-root", root, "--path", str(target))
    assert written.returncode == 0 and written.stdout == ""
    assert target.read_text() == out.stdout[:-1]  # same text without the final newline
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.json"]


def test_export_errors_are_one_line_and_keep_the_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.json"
    target.write_text("precious")
    broken = tmp_path / "root"
    (broken / "sys").mkdir(parents=True)
    out = _run("--host-root", str(broken), "--path", str(target))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "error during discovery of source" in out.stderr
    assert "Traceback" not in out.stderr and target.read_text() == "precious"
    bad = _run("--host-root", str(tmp_path / "missing"))
    assert bad.returncode == 2 and "not a directory" in bad.stderr
    isdir = _run("--path", str(tmp_path))
    assert isdir.returncode == 2 and "is a directory" in isdir.stderr


def test_export_live_host_has_no_note_when_cpuid_runs() -> None:
    out = _run()
    assert out.returncode == 0
    live = discover()
    if live.metadata["cpuid"] == "cpuid-instruction":
        # No cpuinfo note; only the files this host lacks are named (a VM without
        # /proc/modules, for one), each with why.
        assert [line for line in out.stderr.splitlines() if "could not be read" not in line
                ] == []
        assert len(out.stderr.splitlines()) == len(live.unread)
    assert json.loads(out.stdout)["attributes"]["cpu.model"]
