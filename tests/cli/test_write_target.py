"""``--path`` destroys nothing: devices, FIFOs and symlinks are refused, modes are kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A minimal host tree that discovers fine (the listable dirs NFD insists on)."""
    root = tmp_path / "root"
    for rel in ("sys/bus/pci/devices", "sys/class/net", "sys/block"):
        (root / rel).mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text("ID=debian\n")
    return root


@pytest.mark.parametrize("command", ["features", "labels"])
def test_fifo_target_is_refused_and_kept(tree: Path, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    proc = nfd("export", command, "--host-root", str(tree), "--path", str(fifo), timeout=30)
    assert_one_line_error(proc, 2, f"--path {fifo}", "is a FIFO", "not replaced")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(os.geteuid() != 0 and os.environ.get("CI") != "true",
                    reason="making a device node needs root (CI runs this as root)")
def test_character_device_target_is_refused_and_kept(tree: Path, tmp_path: Path) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    proc = nfd("export", "features", "--host-root", str(tree), "--path", str(null))
    assert_one_line_error(proc, 2, "is a character device")
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_symlink_target_is_refused_with_the_way_to_write_through_it(tree: Path,
                                                                     tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("mine")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    proc = nfd("export", "features", "--host-root", str(tree), "--path", str(link))
    assert_one_line_error(proc, 2, "is a symlink", f"--path {real}")
    assert link.is_symlink() and real.read_text() == "mine"
    through = nfd("export", "features", "--host-root", str(tree), "--path", str(real))
    assert through.returncode == 0, through.stderr
    assert link.is_symlink() and real.read_text().startswith("{")


def test_symlink_to_stdout_fd_is_refused(tree: Path, tmp_path: Path) -> None:
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    proc = nfd("export", "features", "--host-root", str(tree), "--path", str(link))
    assert_one_line_error(proc, 2, "is a symlink")
    assert os.readlink(link) == "/proc/self/fd/1"


def test_existing_file_keeps_its_mode_and_new_ones_are_0644(tree: Path, tmp_path: Path) -> None:
    secret = tmp_path / "features.json"
    secret.write_text("old")
    secret.chmod(0o600)
    assert nfd("export", "features", "--host-root", str(tree), "--path",
               str(secret)).returncode == 0
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text() != "old"
    fresh = tmp_path / "fresh.json"
    assert nfd("export", "features", "--host-root", str(tree), "--path",
               str(fresh)).returncode == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "features.json", "fresh.json", "root"]  # no temporary file left behind
