"""kernel and memory sources on synthetic trees: SELinux, kvm, modules, NVDIMM, hugepages."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from nfd.sources import HostPaths, discover_kernel, discover_memory, parse_kernel_version

TreeWriter = Callable[[dict[str, str | bytes]], Path]
VER = "6.8.0-45-generic"


@pytest.mark.parametrize(("raw", "expected"), [
    ("6.8.0-45-generic", {"full": "6.8.0-45-generic", "major": "6", "minor": "8",
                          "revision": "0"}),
    ("5.14.0-427.el9.x86_64", {"full": "5.14.0-427.el9.x86_64", "major": "5", "minor": "14",
                               "revision": "0"}),
    ("6.0.10-100+123.x86_64~", {"full": "6.0.10-100_123.x86_64", "major": "6", "minor": "0",
                                "revision": "10"}),
    ("6.10", {"full": "6.10", "major": "6", "minor": "10", "revision": ""}),
    ("6.6.12+rpt-rpi-v8", {"full": "6.6.12_rpt-rpi-v8"}),
    ("6.1.0.foo", {"full": "6.1.0.foo"}),
])
def test_version_parsing(raw: str, expected: dict[str, str]) -> None:
    assert parse_kernel_version(raw) == expected


def test_kernel_features_from_a_full_tree(make_tree: TreeWriter) -> None:
    root = make_tree({
        "proc/sys/kernel/osrelease": VER + "\n",
        "proc/modules": "kvm_intel 409600 0 - Live 0x0\nkvm 1 1 kvm_intel, Live 0x0\n\n",
        f"lib/modules/{VER}/modules.builtin": "kernel/drivers/hid/hid-generic.ko\n"
                                              "kernel/fs/ext4/ext4.ko\nnot-a-module.txt\n",
        f"boot/config-{VER}": 'CONFIG_X86_64=y\nCONFIG_LOCALVERSION="-generic"\n'
                              "# CONFIG_DEBUG is not set\nCONFIG_HZ=250\nCONFIG_BAD\n",
        "sys/fs/selinux/enforce": "1",
        "sys/devices/virtual/misc/kvm/dev": "10:232\n",
    })
    f = discover_kernel(HostPaths(root=str(root)))
    assert f.flags["loadedmodule"] == {"kvm_intel", "kvm"}
    # names kept as written: hyphen from modules.builtin, underscores from /proc/modules
    assert f.flags["enabledmodule"] == {"kvm_intel", "kvm", "hid-generic", "ext4"}
    assert f.attributes["config"] == {"X86_64": "y", "LOCALVERSION": "-generic", "HZ": "250"}
    assert f.attributes["selinux"] == {"enabled": "true"}
    assert f.attributes["kvm"] == {"enabled": "true"}
    assert (f.attributes["version"] or {})["full"] == VER


def test_proc_config_gz_wins_and_permissive_selinux(make_tree: TreeWriter) -> None:
    root = make_tree({
        "proc/sys/kernel/osrelease": VER,
        "proc/config.gz": gzip.compress(b"CONFIG_FROM_PROC=m\n"),
        f"boot/config-{VER}": "CONFIG_FROM_BOOT=y\n",
        "sys/fs/selinux/enforce": "0",
    })
    f = discover_kernel(HostPaths(root=str(root)))
    assert f.attributes["config"] == {"FROM_PROC": "m"}
    assert f.attributes["selinux"] == {"enabled": "false"}
    assert f.attributes["kvm"] == {"enabled": "false"}
    assert "loadedmodule" not in f.flags and "enabledmodule" not in f.flags


def test_nothing_readable_omits_everything_but_kvm(make_tree: TreeWriter) -> None:
    root = make_tree({"etc/.keep": ""})
    f = discover_kernel(HostPaths(root=str(root)))
    # no /sys/fs: selinux absent; /sys missing: kvm "false" (ENOENT)
    assert f.attributes == {"kvm": {"enabled": "false"}} and f.flags == {}


def test_host_prefix_reads_boot_and_lib_but_not_proc(make_tree: TreeWriter) -> None:
    root = make_tree({
        "proc/sys/kernel/osrelease": VER,
        f"host-boot/config-{VER}": "CONFIG_PREFIXED=y\n",
        f"boot/config-{VER}": "CONFIG_UNPREFIXED=y\n",
        f"host-lib/modules/{VER}/modules.builtin": "kernel/a.ko\n",
        "host-proc/modules": "wrong 1 0 - Live 0x0\n",
        "proc/modules": "right 1 0 - Live 0x0\n",
        "host-sys/fs/selinux/.keep": "",
    })
    host = HostPaths(root=str(root), prefix="/host-")
    f = discover_kernel(host)
    assert f.attributes["config"] == {"PREFIXED": "y"}
    assert f.flags["loadedmodule"] == {"right"}  # /proc/modules is a literal path
    assert f.flags["enabledmodule"] == {"right", "a"}
    assert f.attributes["selinux"] == {"enabled": "false"}


def test_nvdimm_hugepages_swap_numa(make_tree: TreeWriter) -> None:
    nd = "sys/bus/nd/devices"
    root = make_tree({
        f"{nd}/ndbus0/devtype": "nd_bus\n",
        f"{nd}/namespace0.0/devtype": "nd_namespace_io\n", f"{nd}/namespace0.0/mode": "fsdax\n",
        f"{nd}/region0/devtype": "nd_pmem\n",
        "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages": "512\n",
        "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages": "0\n",
        "sys/kernel/mm/hugepages/hugepages-1536kB/.keep": "",
        "sys/kernel/mm/hugepages/README": "a file is not a page size\n",
        "proc/swaps": "Filename Type Size Used Priority\n/swap.img file 4194300 0 -2\n\n",
        "sys/bus/node/devices/node0/.keep": "", "sys/bus/node/devices/node1/.keep": "",
    })
    f = discover_memory(HostPaths(root=str(root)))
    assert f.instances["nv"] == [
        {"name": "namespace0.0", "devtype": "nd_namespace_io", "mode": "fsdax"},
        {"name": "ndbus0", "devtype": "nd_bus"},
        {"name": "region0", "devtype": "nd_pmem"},
    ]
    assert f.attributes["hugepages"] == {"enabled": "true", "hugepages-2Mi": "512",
                                         "hugepages-1Gi": "0", "hugepages-1536Ki": ""}
    assert f.attributes["swap"] == {"enabled": "true"}
    assert f.attributes["numa"] == {"is_numa": "true", "node_count": "2"}


def test_memory_missing_vs_empty(make_tree: TreeWriter) -> None:
    root = make_tree({"sys/.keep": ""})
    f = discover_memory(HostPaths(root=str(root)))
    assert f.instances == {"nv": []}  # missing bus/nd: present and empty
    assert f.attributes == {"hugepages": {"enabled": "false"}}  # numa and swap absent
