"""Crafted host trees, tried as an attacker would: nothing outside the root is read, nothing hangs.

Every attack runs twice: through ``openat2(RESOLVE_IN_ROOT)`` and through the
portable component-wise walk used where the kernel (or seccomp) refuses it.
"""

from __future__ import annotations

import gzip
import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from nfd.errors import DiscoveryError
from nfd.sources import HostLimits, HostPaths, discover, discover_kernel, discover_system
from nfd.sources._hostfs import HostFS, _openat2
from tests._cli import nfd

SECRET = "root:$6$secret-hash:19000:0:99999:7:::"
DMI = "sys/devices/virtual/dmi/id"


@pytest.fixture(params=[True, False], ids=["openat2", "walk"])
def use_openat2(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty host root, with a shadow-like file just outside it."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "shadow").write_text(SECRET + "\n")
    tree = tmp_path / "root"
    (tree / DMI).mkdir(parents=True)
    return tree


def _put(root: Path, rel: str, content: str | None = None, link: str | None = None) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if link is not None:
        path.symlink_to(link)
    else:
        path.write_text(content or "")
    return path


def _dmi(root: Path, use_openat2: bool) -> dict[str, str]:
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    return discover_system(host, {}).attributes.get("dmiid", {})


def test_openat2_is_really_used_here(root: Path) -> None:
    """The fast path must be exercised by this suite, not only the fallback."""
    _put(root, "etc/os-release", "ID=x\n")
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        got = _openat2(fd, "/etc/os-release", os.O_RDONLY)
    finally:
        os.close(fd)
    if got is None and os.environ.get("CI") != "true":
        pytest.skip("this kernel or seccomp profile refuses openat2; the walk is tested alone")
    assert got is not None
    os.close(got)


def test_absolute_symlink_to_a_secret_is_rerooted(root: Path, tmp_path: Path,
                                                   use_openat2: bool) -> None:
    _put(root, f"{DMI}/product_name", link=str(tmp_path / "outside" / "shadow"))
    _put(root, f"{DMI}/sys_vendor", link="/etc/vendor")  # inside, once re-rooted
    _put(root, "etc/vendor", "Inside Corp\n")
    dmi = _dmi(root, use_openat2)
    assert "product_name" not in dmi
    assert dmi["sys_vendor"] == "Inside Corp"


def test_dotdot_chain_stops_at_the_root(root: Path, use_openat2: bool) -> None:
    _put(root, f"{DMI}/product_name", link="../" * 20 + "outside/shadow")
    _put(root, f"{DMI}/board_name", link="../" * 20 + "decoy")
    _put(root, "decoy", "chroot semantics\n")  # where a chroot would land
    dmi = _dmi(root, use_openat2)
    assert "product_name" not in dmi
    assert dmi["board_name"] == "chroot semantics"


def test_symlinked_directories_cannot_leave_the_root(root: Path, tmp_path: Path,
                                                      use_openat2: bool) -> None:
    (tmp_path / "outside" / "net" / "eth0").mkdir(parents=True)
    (tmp_path / "outside" / "net" / "eth0" / "mtu").write_text("9000\n")
    _put(root, "sys/class", link=str(tmp_path / "outside"))  # absolute link to a real dir
    _put(root, "sys/bus/pci/devices/.keep")
    _put(root, "sys/block/.keep")
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    with pytest.raises(DiscoveryError) as info:
        discover(host, sources=["network"])
    assert str(root) in str(info.value)  # the message names the path inside the tree


def test_sys_linked_to_the_live_sys_loops_instead_of_reading_it(root: Path,
                                                                  use_openat2: bool) -> None:
    (root / "sys").rename(root / "old-sys")
    _put(root, "sys", link="/sys")  # inside a chroot this points at itself
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    with pytest.raises(DiscoveryError, match="pci"):
        discover(host, sources=["pci"])


def test_kernel_release_cannot_steer_paths_out(root: Path, tmp_path: Path,
                                               use_openat2: bool) -> None:
    escape = "../" * 12 + "outside"
    _put(root, "proc/sys/kernel/osrelease", escape + "\n")
    (tmp_path / "outside" / "modules.builtin").write_text("kernel/fs/evil.ko\n")
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    assert "enabledmodule" not in discover_kernel(host).flags


def test_symlink_loop_is_an_unreadable_file(root: Path, use_openat2: bool) -> None:
    _put(root, f"{DMI}/product_name", link="product_sku")
    _put(root, f"{DMI}/product_sku", link="product_name")
    _put(root, f"{DMI}/bios_vendor", "ok\n")
    assert _dmi(root, use_openat2) == {"bios_vendor": "ok"}


@pytest.fixture
def blocked_writer(root: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A FIFO at ``product_name`` with a writer blocked until someone opens it for reading."""
    fifo = root / DMI / "product_name"
    os.mkfifo(fifo)
    opened = threading.Event()

    def write() -> None:
        with open(fifo, "w"):  # blocks until a reader opens the FIFO
            opened.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield fifo, opened
    if not opened.is_set():
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # release the writer
    writer.join(5)


def test_fifo_is_never_opened_for_reading(root: Path, use_openat2: bool,
                                          blocked_writer: tuple[Path, threading.Event]) -> None:
    _, opened = blocked_writer
    _put(root, f"{DMI}/bios_vendor", "ok\n")
    assert _dmi(root, use_openat2) == {"bios_vendor": "ok"}
    assert not opened.wait(0.2), "discovery opened the FIFO for reading"


def test_fifos_in_every_source_do_not_hang_the_command(root: Path) -> None:
    for rel in ("proc/cpuinfo", "proc/modules", "proc/sys/kernel/osrelease", "etc/os-release",
                f"{DMI}/product_name", "proc/swaps"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / rel)
    for rel in ("sys/bus/pci/devices", "sys/class/net", "sys/block"):
        (root / rel).mkdir(parents=True)
    proc = nfd("export", "features", "--host-root", str(root), timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert '"system.osrelease"' not in proc.stdout


@pytest.mark.skipif(os.geteuid() != 0 and os.environ.get("CI") != "true",
                    reason="making a device node needs root (CI runs this as root)")
def test_device_node_is_not_read(root: Path, use_openat2: bool) -> None:
    """/dev/zero's numbers at /proc/cpuinfo: reading it would never end."""
    _put(root, f"{DMI}/bios_vendor", "ok\n")
    os.mknod(root / DMI / "product_name", 0o600 | 0o020000, os.makedev(1, 5))
    assert _dmi(root, use_openat2) == {"bios_vendor": "ok"}


def test_sparse_huge_file_costs_no_memory(root: Path, use_openat2: bool) -> None:
    cpuinfo = root / "proc" / "cpuinfo"
    cpuinfo.parent.mkdir(parents=True)
    with open(cpuinfo, "wb") as fh:
        fh.truncate(1 << 30)  # 1 GiB of holes
    _put(root, "etc/os-release", "ID=debian\n")
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    tracemalloc.start()
    try:
        result = discover(host, sources=["cpu", "system"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < host.limits.max_file_bytes * 2 + (8 << 20)
    assert result.features.attributes["system.osrelease"] == {"ID": "debian"}
    assert HostFS(str(root)).stat("/proc/cpuinfo").st_size == 1 << 30


def test_every_read_is_capped_whatever_st_size_says(root: Path, use_openat2: bool) -> None:
    _put(root, f"{DMI}/product_name", "x" * 5000)
    _put(root, f"{DMI}/bios_vendor", "small\n")
    host = HostPaths(root=str(root), limits=HostLimits(max_file_bytes=4096),
                     use_openat2=use_openat2)
    assert discover_system(host, {}).attributes["dmiid"] == {"bios_vendor": "small"}


def test_gzip_bomb_config_is_refused(root: Path, use_openat2: bool) -> None:
    _put(root, "proc/sys/kernel/osrelease", "6.1.0\n")
    cap = HostLimits().max_file_bytes
    bomb = gzip.compress(b"CONFIG_X=y\n" + b"\0" * (cap + 1), compresslevel=1)
    assert len(bomb) < cap // 100  # a small file that inflates past the cap
    (root / "proc" / "config.gz").write_bytes(bomb)
    _put(root, "boot/config-6.1.0", "CONFIG_NEXT=y\n")  # the next candidate still counts
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    assert discover_kernel(host).attributes["config"] == {"NEXT": "y"}


def test_multi_member_gzip_is_read_whole(root: Path, use_openat2: bool) -> None:
    _put(root, "proc/sys/kernel/osrelease", "6.1.0\n")
    (root / "proc" / "config.gz").write_bytes(gzip.compress(b"CONFIG_A=y\n")
                                              + gzip.compress(b"CONFIG_B=m\n"))
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    assert discover_kernel(host).attributes["config"] == {"A": "y", "B": "m"}


def test_huge_directories_are_cut_off_with_a_clear_error(root: Path, use_openat2: bool) -> None:
    net = root / "sys" / "class" / "net"
    net.mkdir(parents=True)
    for i in range(65):
        (net / f"veth{i}").mkdir()
    host = HostPaths(root=str(root), limits=HostLimits(max_dir_entries=64),
                     use_openat2=use_openat2)
    with pytest.raises(DiscoveryError, match="more than 64 directory entries"):
        discover(host, sources=["network"])
    roomy = HostPaths(root=str(root), limits=HostLimits(max_dir_entries=65),
                      use_openat2=use_openat2)
    assert len(discover(roomy, sources=["network"]).features.instances["network.virtual"]) == 65


def test_nul_in_a_path_from_a_file_is_refused(root: Path, use_openat2: bool) -> None:
    _put(root, "proc/sys/kernel/osrelease", "6.1.0\0/../../x\n")
    host = HostPaths(root=str(root), use_openat2=use_openat2)
    kernel = discover_kernel(host)
    assert "enabledmodule" not in kernel.flags
    assert kernel.attributes["version"]["full"].startswith("6.1.0")


def test_prefix_mode_has_the_same_fifo_safety_and_caps(tmp_path: Path,
                                                       blocked_writer: tuple[Path, threading.Event],
                                                       root: Path) -> None:
    """``--host-prefix`` reads the live filesystem at prefix+name; FIFOs and caps still hold."""
    _, opened = blocked_writer
    prefix = str(tmp_path / "h") + "/host-"
    os.makedirs(prefix + "sys/devices/virtual", exist_ok=True)
    os.symlink(root / "sys" / "devices" / "virtual" / "dmi", prefix + "sys/devices/virtual/dmi")
    _put(root, f"{DMI}/bios_vendor", "x" * 100)
    _put(root, f"{DMI}/board_name", "board\n")
    host = HostPaths(prefix=prefix, limits=HostLimits(max_file_bytes=64))
    assert discover_system(host, {}).attributes["dmiid"] == {"board_name": "board"}
    assert not opened.wait(0.2)
