"""network, pci, storage and usb sources on synthetic sysfs trees (what the real trees lack)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nfd.errors import DiscoveryError
from nfd.sources import (
    HostPaths,
    discover,
    discover_network,
    discover_pci,
    discover_storage,
    discover_usb,
)

TreeWriter = Callable[[dict[str, str | bytes]], Path]
PF = "sys/devices/pci0000:00/0000:3b:00.0"
VF = "sys/devices/pci0000:00/0000:3b:00.2"


def _pci_dev(path: str, cls: str, vendor: str, device: str) -> dict[str, str | bytes]:
    return {f"{path}/class": f"0x{cls}\n", f"{path}/vendor": f"0x{vendor}\n",
            f"{path}/device": f"0x{device}\n", f"{path}/subsystem_vendor": "0x15b3\n",
            f"{path}/subsystem_device": "0x0001\n"}


@pytest.fixture
def sriov_root(make_tree: TreeWriter) -> Path:
    files: dict[str, str | bytes] = {
        **_pci_dev(PF, "020000", "15b3", "101d"), **_pci_dev(VF, "020000", "15b3", "101e"),
        f"{PF}/sriov_totalvfs": "8\n", f"{PF}/sriov_numvfs": "2\n",
        f"{PF}/iommu_group/type": "DMA-FQ\n", f"{PF}/iommu/intel-iommu/version": "1:0\n",
        "sys/bus/pci/devices/0000:3b:00.0": "->../../../devices/pci0000:00/0000:3b:00.0",
        "sys/bus/pci/devices/0000:3b:00.2": "->../../../devices/pci0000:00/0000:3b:00.2",
        f"{PF}/net/ens1f0/operstate": "up\n", f"{PF}/net/ens1f0/mtu": "9000\n",
        f"{PF}/net/ens1f0/speed": "100000\n", f"{PF}/net/ens1f0/device": "->../../../0000:3b:00.0",
        "sys/class/net/ens1f0": "->../../devices/pci0000:00/0000:3b:00.0/net/ens1f0",
        "sys/devices/virtual/net/br0/operstate": "down\n",
        "sys/devices/virtual/net/br0/mtu": "1500\n",
        "sys/class/net/br0": "->../../devices/virtual/net/br0",
        "sys/class/net/bonding_masters": "bond0\n",
        # a device missing a mandatory attribute is skipped, not fatal
        "sys/bus/pci/devices/0000:00:1f.0/vendor": "0x8086\n",
        "sys/block/sda/queue/rotational": "1\n", "sys/block/sda/queue/zoned": "none\n",
        "sys/block/nvme0n1/queue/rotational": "0\n",
        "sys/block/nvme0n1/queue/nr_zones": "0\n", "sys/block/nvme0n1/queue/dax": "0\n",
    }
    return make_tree(files)


def test_sriov_pf_and_vf_with_iommu(sriov_root: Path) -> None:
    devices = discover_pci(HostPaths(root=str(sriov_root))).instances["device"]
    assert devices == [
        {"class": "0200", "vendor": "15b3", "device": "101d", "subsystem_vendor": "15b3",
         "subsystem_device": "0001", "sriov_totalvfs": "8", "iommu_group/type": "DMA-FQ",
         "iommu/intel-iommu/version": "1:0"},
        {"class": "0200", "vendor": "15b3", "device": "101e", "subsystem_vendor": "15b3",
         "subsystem_device": "0001"},
    ]


def test_sriov_nic_counts_and_virtual_split(sriov_root: Path) -> None:
    net = discover_network(HostPaths(root=str(sriov_root))).instances
    assert net["device"] == [{"name": "ens1f0", "operstate": "up", "speed": "100000",
                              "sriov_numvfs": "2", "sriov_totalvfs": "8", "mtu": "9000"}]
    # bonding_masters is not an interface; br0 has no device link; its speed is unreadable
    assert net["virtual"] == [{"name": "br0", "operstate": "down", "mtu": "1500"}]


def test_rotational_and_ssd_disks(sriov_root: Path) -> None:
    blocks = discover_storage(HostPaths(root=str(sriov_root))).instances["block"]
    assert blocks == [
        {"name": "nvme0n1", "dax": "0", "rotational": "0", "nr_zones": "0"},
        {"name": "sda", "rotational": "1", "zoned": "none"},
    ]


@pytest.mark.parametrize(("missing", "source"), [
    ("sys/bus/pci/devices", "pci"), ("sys/class/net", "network"), ("sys/block", "storage")])
def test_unlistable_dir_fails_the_run_like_nfd(make_tree: TreeWriter, missing: str,
                                               source: str) -> None:
    keeps = ("sys/bus/pci/devices/.keep", "sys/class/net/.keep", "sys/block/.keep")
    files: dict[str, str | bytes] = {d: "" for d in keeps if not d.startswith(missing)}
    files[missing] = "a file where a directory is expected\n"
    root = make_tree(files)
    with pytest.raises(DiscoveryError) as info:
        discover(HostPaths(root=str(root)), sources=[source])
    assert info.value.source_name == source and missing in str(info.value)
    # another source on the same broken tree still works
    assert discover(HostPaths(root=str(root)), sources=["memory"]).features.attributes


def test_usb_devices_and_per_interface_classes(make_tree: TreeWriter) -> None:
    usb = "sys/bus/usb/devices"
    root = make_tree({
        f"{usb}/usb1/idProduct": "0002\n", f"{usb}/usb1/idVendor": "1d6b\n",
        f"{usb}/usb1/bDeviceClass": "09\n", f"{usb}/usb1/serial": "0000:00:14.0\n",
        # class 00: one instance per interface, duplicates kept, serial empty -> omitted
        f"{usb}/1-1/idProduct": "c52b\n", f"{usb}/1-1/idVendor": "046d\n",
        f"{usb}/1-1/bDeviceClass": "00\n", f"{usb}/1-1/serial": "\n",
        f"{usb}/1-1/1-1:1.0/bInterfaceClass": "03\n",
        f"{usb}/1-1/1-1:1.1/bInterfaceClass": "03\n",
        f"{usb}/1-1/1-1:1.2/bInterfaceClass": "ff\n",
        # class 00 with an unreadable interface class: device dropped
        f"{usb}/1-2/idProduct": "0001\n", f"{usb}/1-2/bDeviceClass": "00\n",
        f"{usb}/1-2/1-2:1.0/bInterfaceClass/oops": "dir, not file\n",
        # no bDeviceClass: emitted without class
        f"{usb}/2-1/idProduct": "5678\n", f"{usb}/2-1/idVendor": "abcd\n",
        f"{usb}/1-1:1.0/bInterfaceClass": "03\n",  # interface dir at top level: no idProduct
    })
    devices = discover_usb(HostPaths(root=str(root))).instances["device"]
    hid = {"vendor": "046d", "device": "c52b"}
    assert devices == [{**hid, "class": "03"}, {**hid, "class": "03"}, {**hid, "class": "ff"},
                       {"vendor": "abcd", "device": "5678"},
                       {"class": "09", "vendor": "1d6b", "device": "0002",
                        "serial": "0000:00:14.0"}]


def test_usb_without_bus_is_empty_not_an_error(make_tree: TreeWriter) -> None:
    root = make_tree({"sys/.keep": ""})
    assert discover_usb(HostPaths(root=str(root))).instances == {"device": []}


def test_unreadable_attribute_is_left_out(make_tree: TreeWriter) -> None:
    root = make_tree({"sys/class/net/eth9/device/.keep": "", "sys/class/net/eth9/mtu": "1500\n",
                      "sys/class/net/eth9/operstate": "up\n"})
    speed = root / "sys/class/net/eth9/speed"
    speed.write_text("1000\n")
    os.chmod(speed, 0)
    if os.access(speed, os.R_OK):  # root reads mode-000 files: use a directory instead
        speed.unlink()
        speed.mkdir()
    net = discover_network(HostPaths(root=str(root))).instances
    assert net["device"] == [{"name": "eth9", "operstate": "up", "mtu": "1500"}]
