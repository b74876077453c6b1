"""Crafted host trees, tried as an attacker would: nothing outside the root is read, nothing hangs.

Every attack runs twice: through ``openat2(RESOLVE_IN_ROOT)`` and through the
portable component-wise walk used where the kernel (or seccomp) refuses it.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


_PARTS = st.sampled_from(["a", "b", "c", "f", "..", ".", "", "outside", "l1", "l2", "l3"])
_TARGETS = st.builds(lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
                     st.booleans(), st.lists(_PARTS, min_size=0, max_size=5))


@settings(max_examples=60, deadline=None)
@example(links=[], queries=[["f", "."], ["f", ""], ["a", ".", "..", "a"]])  # found by this test
@example(links=[("l1", "/../../outside"), ("a/l2", "../../../f")], queries=[["l1"], ["a", "l2"]])
@given(links=st.lists(st.tuples(st.sampled_from(["l1", "a/l2", "a/b/l3", "c/l1"]), _TARGETS),
                      max_size=4, unique_by=lambda item: item[0]),
       queries=st.lists(st.lists(_PARTS, min_size=1, max_size=6), min_size=1, max_size=8))
def test_walk_resolves_exactly_as_the_kernel_and_never_leaves(
        links: list[tuple[str, str]], queries: list[list[str]]) -> None:
    """Random symlink tangles: the walk agrees with openat2(RESOLVE_IN_ROOT), nothing escapes."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        for directory in ("a/b", "c"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        for rel in ("f", "a/f", "a/b/f", "c/f"):
            (root / rel).write_text(rel)
        (Path(tmp) / "outside").write_text("OUTSIDE")
        (Path(tmp) / "f").write_text("OUTSIDE")
        for where, target in links:
            (root / where).symlink_to(target or ".")
        kernel, walk = HostFS(str(root)), HostFS(str(root), use_openat2=False)
        fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
        has_openat2 = _openat2(fd, "/", os.O_PATH) is not None
        os.close(fd)
        for parts in queries:
            path = "/" + "/".join(parts)
            got = _outcome(walk, path)
            assert got != "OUTSIDE"
            if has_openat2:
                assert got == _outcome(kernel, path), (path, links)


def _outcome(fs: HostFS, path: str) -> str:
    try:
        return fs.read_bytes(path).decode()
    except OSError as exc:
        return "dir" if exc.errno == errno.EISDIR else "error"


# Runs in a child: deny openat2 with EPERM (as Docker's older seccomp profiles do), then run nfd.
_SECCOMP_DENY_OPENAT2 = r"""
import ctypes, sys
class Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]
insns = (Filter * 4)(Filter(0x20, 0, 0, 0),                # load seccomp_data.nr
                     Filter(0x15, 0, 1, 437),              # openat2?
                     Filter(0x06, 0, 0, 0x00050000 | 1),   # -> errno EPERM
                     Filter(0x06, 0, 0, 0x7FFF0000))       # everything else: allow
prog = Prog(4, insns)
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0                     # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0    # PR_SET_SECCOMP, FILTER
from nfd.sources._hostfs import _openat2
import os
fd = os.open(sys.argv[1], os.O_PATH)
print("openat2:", _openat2(fd, "/", os.O_PATH), file=sys.stderr)
sys.argv = ["nfd", "export", "features", "--host-root", sys.argv[1]]
from nfd.cli import main
sys.exit(main())
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"),
                    reason="the seccomp filter names openat2 by its x86-64/aarch64 number")
def test_seccomp_refusing_openat2_falls_back_to_the_walk(root: Path, tmp_path: Path) -> None:
    _put(root, f"{DMI}/product_name", link=str(tmp_path / "outside" / "shadow"))
    _put(root, f"{DMI}/sys_vendor", link="/etc/vendor")
    _put(root, "etc/vendor", "Inside Corp\n")
    for rel in ("sys/bus/pci/devices", "sys/class/net", "sys/block"):
        (root / rel).mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-c", _SECCOMP_DENY_OPENAT2, str(root)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "openat2: None" in proc.stderr  # refused by the filter, so the walk ran
    dmi = json.loads(proc.stdout)["attributes"]["system.dmiid"]["elements"]
    assert dmi == {"sys_vendor": "Inside Corp"}


def test_what_a_bound_left_out_is_reported(root: Path) -> None:
    with open(root / "etc-os-release-big", "wb") as fh:
        fh.truncate(HostLimits().max_file_bytes + 1)
    _put(root, "etc/os-release", link="/etc-os-release-big")
    for rel in ("sys/bus/pci/devices", "sys/class/net", "sys/block"):
        (root / rel).mkdir(parents=True)
    result = discover(HostPaths(root=str(root)), sources=["system"])
    assert "system.osrelease" not in result.features.attributes
    assert result.metadata["overLimitCount"] == "1"
    assert result.metadata["overLimitFirst"] == f"{root}/etc/os-release"
    proc = nfd("export", "features", "--host-root", str(root))
    assert proc.returncode == 0
    assert "note: 1 host file(s) or listing(s) over nfd-client's bounds were left out, e.g. " \
           f"'{root}/etc/os-release'" in proc.stderr


def test_many_files_cannot_add_up_past_the_total_budget(root: Path, use_openat2: bool) -> None:
    """65,536 PCI devices with 16 MiB ids each would be a TiB: one discovery reads a budget."""
    devices = root / "sys" / "bus" / "pci" / "devices"
    for i in range(6):
        dev = devices / f"0000:00:0{i}.0"
        dev.mkdir(parents=True)
        for attr in ("class", "vendor", "device", "subsystem_vendor", "subsystem_device"):
            (dev / attr).write_text(f"0x{i:04x}" + " " * 1000 + "\n")
    limits = HostLimits(max_file_bytes=4096, max_total_bytes=12_000)
    host = HostPaths(root=str(root), limits=limits, use_openat2=use_openat2)
    result = discover(host, sources=["pci"])
    assert len(result.features.instances["pci.device"] or []) == 2  # 10 files fit in 12,000
    assert int(result.metadata["overLimitCount"]) >= 1
    again = discover(host, sources=["pci"])  # the budget is per discovery, not per HostPaths
    assert again.features.instances == result.features.instances
    fs = HostFS(str(root), limits)
    with pytest.raises(OSError, match="more than 12000 bytes read in one discovery"):
        for _ in range(20):
            fs.read_bytes("/sys/bus/pci/devices/0000:00:00.0/vendor")


def test_long_dotdot_link_chains_end_quickly(root: Path, use_openat2: bool) -> None:
    """41 links of 4 KiB ``a/../`` targets: bounded steps, a clean failure, no minutes of walk."""
    (root / "a").mkdir()
    hop = "a/../" * 800
    for i in range(41):
        _put(root, f"l{i}", link=hop + f"l{i + 1}")
    _put(root, "l41", "end\n")
    fs = HostFS(str(root), use_openat2=use_openat2)
    with pytest.raises(OSError):
        fs.read_bytes("/l0")
