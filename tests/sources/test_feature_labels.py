"""NFD's default label rules per source, on the real host trees and on synthetic ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nfd.api import Features
from nfd.sources import HostPaths, discover, feature_labels
from nfd.sources._feature_labels import (
    CPUID_LABEL_BLACKLIST,
    custom_rule_files,
    is_qualified_name,
    is_valid_label_value,
)
from tests._cli import nfd
from tests.sources.conftest import TreeWriter

NS = "feature.node.kubernetes.io"


def _labels(root: Path) -> dict[str, str]:
    host = HostPaths(root=str(root))
    return feature_labels(discover(host, environ={}).features, host).labels


def _minimal(extra: dict[str, str | bytes]) -> dict[str, str | bytes]:
    """The three listable dirs NFD insists on, plus ``extra``."""
    base: dict[str, str | bytes] = {"sys/bus/pci/devices/.keep": "", "sys/class/net/.keep": "",
                                    "sys/block/.keep": ""}
    return {**base, **extra}


def _uname_release(tree: Path) -> str:
    return (tree / "truth" / "uname.txt").read_text().split()[2]


def test_h100_tree_labels(host_trees: dict[str, Path]) -> None:
    tree = host_trees["gpu-h100-ubuntu2404"]
    labels = _labels(tree)
    assert labels[f"{NS}/pci-0302_10de.present"] == "true"  # the H100 (nvidia-smi in truth/)
    assert "NVIDIA H100" in (tree / "truth" / "nvidia_smi.txt").read_text()
    assert labels[f"{NS}/system-os_release.ID"] == "ubuntu"
    release = _uname_release(tree)
    assert labels[f"{NS}/kernel-version.full"] == release
    assert labels[f"{NS}/kernel-version.major"] == release.split(".")[0]
    assert labels[f"{NS}/cpu-cpuid.AVX512F"] == "true"


@pytest.mark.parametrize("host", ["gpu-h100-ubuntu2404", "amd-epyc-debian12"])
def test_real_trees_follow_each_rule(host: str, host_trees: dict[str, Path]) -> None:
    tree = host_trees[host]
    features = discover(HostPaths(root=str(tree)), environ={}).features
    labels = feature_labels(features, HostPaths(root=str(tree))).labels
    # pci: exactly the devices of classes 03, 0b40, 12, read straight from sysfs
    expected_pci = set()
    for dev in (tree / "sys/bus/pci/devices").iterdir():
        cls = (dev / "class").read_text().strip()[2:6]
        vendor = (dev / "vendor").read_text().strip()[2:]
        if cls.startswith(("03", "0b40", "12")):
            expected_pci.add(f"{NS}/pci-{cls}_{vendor}.present")
    assert {k for k in labels if k.startswith(f"{NS}/pci-")} == expected_pci
    # storage: lsblk's ROTA column decides
    rota = [line.split()[1] for line in (tree / "truth/lsblk.txt").read_text().splitlines()[1:]]
    assert (f"{NS}/storage-nonrotationaldisk" in labels) == ("0" in rota)
    # cpu: every cpuid flag but the blacklisted ones; the blacklisted ones stay features
    flags = features.flags["cpu.cpuid"] or set()
    cpuid = {k.rsplit(".", 1)[1] for k in labels if k.startswith(f"{NS}/cpu-cpuid.")}
    assert cpuid == flags - CPUID_LABEL_BLACKLIST and flags & CPUID_LABEL_BLACKLIST
    assert labels[f"{NS}/kernel-version.full"] == _uname_release(tree)
    for name, value in labels.items():
        assert is_qualified_name(name) and is_valid_label_value(value), (name, value)


def test_export_labels_prints_nfd_json(host_trees: dict[str, Path], tmp_path: Path) -> None:
    root = str(host_trees["gpu-h100-ubuntu2404"])
    out = nfd("export", "labels", "--host-root", root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('{\n    "feature.node.kubernetes.io/') and out.stdout.endswith(
        '"\n}\n')
    doc = json.loads(out.stdout)
    assert list(doc) == sorted(doc) and doc[f"{NS}/pci-0302_10de.present"] == "true"
    target = tmp_path / "labels.json"
    written = nfd("export", "labels", "--host-root", root, "--path", str(target))
    assert written.returncode == 0 and written.stdout == ""
    assert target.read_text() == out.stdout[:-1]


def test_export_labels_empty_is_an_empty_object(make_tree: TreeWriter) -> None:
    root = make_tree(_minimal({}))
    out = nfd("export", "labels", "--host-root", str(root))
    assert out.returncode == 0, out.stderr
    labels = json.loads(out.stdout)
    assert not [k for k in labels if not k.startswith(f"{NS}/cpu-")]


def test_pci_and_usb_rules(make_tree: TreeWriter) -> None:
    pci, usb = "sys/bus/pci/devices", "sys/bus/usb/devices"

    def pci_dev(addr: str, cls: str, vendor: str, sriov: bool = False) -> dict[str, str | bytes]:
        files: dict[str, str | bytes] = {f"{pci}/{addr}/class": f"0x{cls}\n",
                                         f"{pci}/{addr}/vendor": f"0x{vendor}\n"}
        for attr in ("device", "subsystem_vendor", "subsystem_device"):
            files[f"{pci}/{addr}/{attr}"] = "0x0001\n"
        if sriov:
            files[f"{pci}/{addr}/sriov_totalvfs"] = "8\n"
        return files

    root = make_tree(_minimal({
        **pci_dev("0000:00:01.0", "0b4000", "8086", sriov=True),
        **pci_dev("0000:00:02.0", "120000", "1da3"),
        **pci_dev("0000:00:03.0", "020000", "15b3", sriov=True),  # NIC: no label, but RDMA
        f"{usb}/1-1/idProduct": "0042\n", f"{usb}/1-1/idVendor": "1a2b\n",
        f"{usb}/1-1/bDeviceClass": "ff\n",
        f"{usb}/1-2/idProduct": "0001\n", f"{usb}/1-2/idVendor": "1d6b\n",
        f"{usb}/1-2/bDeviceClass": "09\n",  # a hub: not whitelisted
        f"{usb}/1-3/idProduct": "0777\n", f"{usb}/1-3/idVendor": "0c45\n",
        f"{usb}/1-3/bDeviceClass": "00\n", f"{usb}/1-3/1-3:1.0/bInterfaceClass": "0e\n",
    }))
    labels = {k: v for k, v in _labels(root).items() if not k.startswith(f"{NS}/cpu-")}
    assert labels == {
        f"{NS}/pci-0b40_8086.present": "true",
        f"{NS}/pci-0b40_8086.sriov.capable": "true",
        f"{NS}/pci-1200_1da3.present": "true",
        f"{NS}/usb-ff_1a2b_0042.present": "true",
        f"{NS}/usb-0e_0c45_0777.present": "true",
        "rdma.capable": "true",  # custom's static rule: any Mellanox (15b3) PCI device
    }


def test_memory_network_storage_kernel_rules(make_tree: TreeWriter) -> None:
    root = make_tree(_minimal({
        "sys/bus/node/devices/node0": "->.", "sys/bus/node/devices/node1": "->.",
        "proc/swaps": "Filename Type\n/swapfile file\n",
        "sys/bus/nd/devices/dax0.0/devtype": "nd_dax\n",
        "sys/class/net/ens1/device": "->.", "sys/class/net/ens1/device/sriov_totalvfs": "4\n",
        "sys/class/net/ens1/device/sriov_numvfs": "0\n",
        "sys/class/net/ens2/device": "->.", "sys/class/net/ens2/device/sriov_totalvfs": "x\n",
        "sys/block/nvme0n1/queue/rotational": "0\n", "sys/block/sda/queue/rotational": "1\n",
        "proc/sys/kernel/osrelease": "6.1.0-rt7\n",
        "boot/config-6.1.0-rt7": 'CONFIG_PREEMPT=y\nCONFIG_NO_HZ_FULL=m\nCONFIG_NO_HZ="n"\n'
                                 "CONFIG_HZ=1000\n",
        "sys/fs/selinux/enforce": "1",
        "proc/modules": "ib_uverbs 1 0 - Live 0x0\nrdma_ucm 1 0 - Live 0x0\n",
    }))
    labels = {k: v for k, v in _labels(root).items() if not k.startswith(f"{NS}/cpu-")}
    assert labels == {
        f"{NS}/memory-numa": "true", f"{NS}/memory-swap": "true",
        f"{NS}/memory-nv.present": "true", f"{NS}/memory-nv.dax": "true",
        f"{NS}/network-sriov.capable": "true",
        f"{NS}/storage-nonrotationaldisk": "true",
        f"{NS}/kernel-version.full": "6.1.0-rt7", f"{NS}/kernel-version.major": "6",
        f"{NS}/kernel-version.minor": "1", f"{NS}/kernel-version.revision": "0",
        f"{NS}/kernel-config.PREEMPT": "true", f"{NS}/kernel-config.NO_HZ_FULL": "true",
        f"{NS}/kernel-config.NO_HZ": "n",
        f"{NS}/kernel-selinux.enabled": "true",
        "rdma.available": "true",
    }


def test_local_labels_are_unmangled_validated_and_win(make_tree: TreeWriter) -> None:
    features_d = "etc/kubernetes/node-feature-discovery/features.d"
    root = make_tree(_minimal({
        f"{features_d}/mine": "vendor.example.com/accel=yes\nplain\nbad name=x\n"
                              f"long={'v' * 64}\nrdma.capable=false\n",
        "proc/modules": "",
        "sys/bus/pci/devices/0000:00:03.0/class": "0x020000\n",
        "sys/bus/pci/devices/0000:00:03.0/vendor": "0x15b3\n",
        "sys/bus/pci/devices/0000:00:03.0/device": "0x1017\n",
        "sys/bus/pci/devices/0000:00:03.0/subsystem_vendor": "0x15b3\n",
        "sys/bus/pci/devices/0000:00:03.0/subsystem_device": "0x0001\n",
    }))
    host = HostPaths(root=str(root))
    result = feature_labels(discover(host, environ={}).features, host)
    labels = {k: v for k, v in result.labels.items() if not k.startswith(f"{NS}/cpu-")}
    assert labels == {"vendor.example.com/accel": "yes", "plain": "true",
                      "rdma.capable": "false"}  # local (priority 20) overrides custom (10)
    assert sorted(result.skipped) == [("bad name", "x"), ("long", "v" * 64)]
    out = nfd("export", "labels", "--host-root", str(root))
    assert out.returncode == 0
    notes = [line for line in out.stderr.splitlines() if "left out" in line]
    assert len(notes) == 1 and "'bad name'='x'" in notes[0]


def test_cpu_rules_from_features() -> None:
    features = Features(
        flags={"cpu.cpuid": {"AVX512F", "SSE42", "X86_64_V4"}},
        attributes={"cpu.cpuid": {"AVX10_VERSION": "2"},
                    "cpu.model": {"vendor_id": "Intel", "family": "6", "id": "143"},
                    "cpu.cstate": {"enabled": "true"},
                    "cpu.pstate": {"status": "active", "turbo": "false"},
                    "cpu.security": {"sgx.enabled": "true", "sgx.epc": "1024",
                                     "tdx.total_keys": "3"},
                    "cpu.sst": {"bf.enabled": "true"},
                    "cpu.topology": {"hardware_multithreading": "true", "socket_count": "2"},
                    "cpu.coprocessor": {"nx_gzip": "true"}})
    labels = feature_labels(features, HostPaths(root="/nonexistent")).labels
    short = {k.removeprefix(f"{NS}/cpu-"): v for k, v in labels.items()}
    assert short == {
        "cpuid.AVX512F": "true", "cpuid.X86_64_V4": "true", "cpuid.AVX10_VERSION": "2",
        "model.vendor_id": "Intel", "model.family": "6", "model.id": "143",
        "cstate.enabled": "true", "pstate.status": "active", "pstate.turbo": "false",
        "security.sgx.enabled": "true", "power.sst_bf.enabled": "true",
        "hardware_multithreading": "true", "coprocessor.nx_gzip": "true",
    }


def test_cpu_hybrid_labels_read_nfds_doubled_sys_path(make_tree: TreeWriter) -> None:
    """NFD reads SysfsDir.Path("sys/devices/cpu_atom/cpus"): /sys/sys/..., kept as is."""
    root = make_tree({"sys/devices/cpu_atom/cpus": "0-7\n", "sys/sys/devices/cpu_core/cpus":
                      "8-15\n"})
    labels = feature_labels(Features(), HostPaths(root=str(root))).labels
    assert labels == {f"{NS}/cpu-cpu_core": "true"}


@pytest.mark.parametrize(("name", "ok"), [
    ("a", True), ("feature.node.kubernetes.io/cpu-cpuid.AVX", True), ("x/y/z", False),
    ("/x", False), ("Upper.Case/x", False), ("-x", False), ("x-", False), ("a" * 63, True),
    ("a" * 64, False), ("p/" + "a" * 63, True), ("a" * 254 + "/x", False), ("a_b.c-d", True),
    ("", False), ("a b", False),
])
def test_label_names_follow_kubernetes(name: str, ok: bool) -> None:
    assert is_qualified_name(name) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("", True), ("true", True), ("6.8.0-45-generic", True), ("-x", False), ("x.", False),
    ("v" * 63, True), ("v" * 64, False), ("a/b", False), ("é", False),
])
def test_label_values_follow_kubernetes(value: str, ok: bool) -> None:
    assert is_valid_label_value(value) is ok
    assert re.fullmatch(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", value, re.ASCII) or not ok


def test_custom_d_rules_are_named_as_not_evaluated(make_tree: TreeWriter) -> None:
    custom = "etc/kubernetes/node-feature-discovery/custom.d"
    root = make_tree(_minimal({f"{custom}/gpu.yaml": "- name: x\n", f"{custom}/.hidden": "",
                               f"{custom}/team/more.yaml": "[]\n",
                               f"{custom}/team/deeper/no.yaml": "[]\n"}))
    host = HostPaths(root=str(root))
    assert custom_rule_files(host) == [f"/{custom}/gpu.yaml", f"/{custom}/team/more.yaml"]
    out = nfd("export", "labels", "--host-root", str(root))
    assert out.returncode == 0
    assert "note: 2 custom.d rule file(s) not evaluated" in out.stderr
