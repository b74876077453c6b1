"""Discovery of the two real host trees, checked against what standard tools printed there.

The ``truth/`` folder of each tarball holds the output of ``lsmod``, ``lsblk``,
``ip link``/``ls -l /sys/class/net``, ``ls -l /sys/bus/pci/devices``, ``uname``,
``swapon`` and py-cpuinfo taken on the machine itself.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from nfd.api import Features
from nfd.sources import HostPaths, discover

pytestmark = pytest.mark.usefixtures("host_trees")
HOST_NAMES = ("gpu-h100-ubuntu2404", "amd-epyc-debian12")


@pytest.fixture(scope="module")
def discovered(host_trees: dict[str, Path]) -> dict[str, Features]:
    return {name: discover(HostPaths(root=str(root)), environ={"NODE_NAME": "n1"}).features
            for name, root in host_trees.items()}


def _truth(tree: Path, name: str) -> list[str]:
    lines = (tree / "truth" / f"{name}.txt").read_text().splitlines()
    return [line for line in lines if not line.startswith(("sh: ", "ls: ", "total "))]


def _ls_targets(lines: list[str]) -> dict[str, str]:
    """``ls -l`` symlink lines -> {name: target}."""
    out = {}
    for line in lines:
        if " -> " in line:
            left, target = line.split(" -> ")
            out[left.split()[-1]] = target
    return out


@pytest.mark.parametrize("host", HOST_NAMES)
def test_every_pci_device_with_its_sysfs_ids(host: str, host_trees: dict[str, Path],
                                             discovered: dict[str, Features]) -> None:
    tree = host_trees[host]
    addresses = sorted(_ls_targets(_truth(tree, "lspci")))
    devices = discovered[host].instances["pci.device"]
    assert devices is not None and len(devices) == len(addresses)
    for address, device in zip(addresses, devices, strict=True):
        base = tree / "sys/bus/pci/devices" / address
        for attr in ("vendor", "device", "subsystem_vendor", "subsystem_device"):
            assert int(device[attr], 16) == int((base / attr).read_text(), 16)
            assert len(device[attr]) == 4 and device[attr] == device[attr].lower()
        assert device["class"] == f"{int((base / 'class').read_text(), 16):06x}"[:4]
        assert "iommu_group/type" not in device  # these VMs have no IOMMU groups


def test_h100_gpu_is_reported_as_a_3d_controller(discovered: dict[str, Features]) -> None:
    devices = discovered["gpu-h100-ubuntu2404"].instances["pci.device"] or []
    gpus = [d for d in devices if d["vendor"] == "10de"]
    assert [(g["device"], g["class"]) for g in gpus] == [("2330", "0302")]


@pytest.mark.parametrize("host", HOST_NAMES)
def test_loaded_and_enabled_modules(host: str, host_trees: dict[str, Path],
                                    discovered: dict[str, Features]) -> None:
    lsmod = [line.split()[0] for line in _truth(host_trees[host], "lsmod")]
    flags = discovered[host].flags
    if (host_trees[host] / "proc/modules").exists():
        assert flags["kernel.loadedmodule"] == set(lsmod)
    else:  # the EPYC VM has no loadable modules: NFD leaves the feature out
        assert lsmod == [] and "kernel.loadedmodule" not in flags
    # No /lib/modules/<ver>/modules.builtin on either machine (truth/ls_modules.txt):
    # NFD drops kernel.enabledmodule entirely even with loaded modules.
    assert "No such file" in (host_trees[host] / "truth/ls_modules.txt").read_text()
    assert "kernel.enabledmodule" not in flags


@pytest.mark.parametrize("host", HOST_NAMES)
def test_block_devices_and_rotational(host: str, host_trees: dict[str, Path],
                                      discovered: dict[str, Features]) -> None:
    blocks = {b["name"]: b for b in discovered[host].instances["storage.block"] or []}
    assert sorted(blocks) == sorted(p.name for p in (host_trees[host] / "sys/block").iterdir())
    lsblk = _truth(host_trees[host], "lsblk")[1:]
    assert lsblk
    for line in lsblk:
        name, rota, kind = line.split()[:3]
        assert kind == "disk" and blocks[name]["rotational"] == rota
        assert blocks[name]["zoned"] == "none" and blocks[name]["dax"] == "0"


def _interfaces(tree: Path) -> dict[str, dict[str, str]]:
    """Interfaces from ``ip link`` (name, mtu, state) or from ``ls -l /sys/class/net``."""
    lines = _truth(tree, "ip_link")
    found: dict[str, dict[str, str]] = {}
    for line in lines:
        m = re.match(r"\d+: ([^:@]+)[^:]*: <[^>]*> mtu (\d+) .* state (\S+)", line)
        if m:
            found[m.group(1)] = {"mtu": m.group(2), "operstate": m.group(3).lower()}
    for name, target in _ls_targets(lines).items():
        found[name] = {"virtual": str("/virtual/" in target)}
    return found


@pytest.mark.parametrize("host", HOST_NAMES)
def test_every_interface_physical_or_virtual(host: str, host_trees: dict[str, Path],
                                             discovered: dict[str, Features]) -> None:
    tree = host_trees[host]
    truth = _interfaces(tree)
    feats = discovered[host].instances
    devices = {i["name"]: i for i in feats["network.device"] or []}
    virtual = {i["name"]: i for i in feats["network.virtual"] or []}
    assert set(devices) | set(virtual) == set(truth) and not set(devices) & set(virtual)
    targets = {p.name: str(p.readlink()) for p in (tree / "sys/class/net").iterdir()}
    for name, facts in truth.items():
        found = devices.get(name) or virtual[name]
        assert (name in virtual) == ("/virtual/" in targets[name])
        for key in ("mtu", "operstate"):
            if key in facts:
                assert found[key] == facts[key]
        assert "sriov_totalvfs" not in found  # virtio NICs have no SR-IOV


@pytest.mark.parametrize("host", HOST_NAMES)
def test_kernel_version_parts_match_uname(host: str, host_trees: dict[str, Path],
                                          discovered: dict[str, Features]) -> None:
    release = _truth(host_trees[host], "uname")[0].split()[2]
    numbers = release.split("-", 1)[0].split(".")
    assert discovered[host].attributes["kernel.version"] == {
        "full": release, "major": numbers[0], "minor": numbers[1], "revision": numbers[2]}


@pytest.mark.parametrize("host", HOST_NAMES)
def test_kconfig_from_proc_config_gz(host: str, host_trees: dict[str, Path],
                                     discovered: dict[str, Features]) -> None:
    assert "/proc/config.gz" in (host_trees[host] / "truth/kconfig_where.txt").read_text()
    text = gzip.decompress((host_trees[host] / "proc/config.gz").read_bytes()).decode()
    set_lines = [line for line in text.splitlines() if re.match(r"CONFIG_\w+=", line)]
    config = discovered[host].attributes["kernel.config"] or {}
    assert len(config) == len(set_lines)
    for line in set_lines:
        key, value = line[len("CONFIG_"):].split("=", 1)
        assert config[key] == value.strip('"')
    not_set = [line.split()[1][7:] for line in text.splitlines() if line.endswith("is not set")]
    assert not_set and not any(name in config for name in not_set)


@pytest.mark.parametrize("host", HOST_NAMES)
def test_numa_swap_hugepages_topology(host: str, host_trees: dict[str, Path],
                                      discovered: dict[str, Features]) -> None:
    tree = host_trees[host]
    attrs = discovered[host].attributes
    nodes = sorted(p.name for p in (tree / "sys/bus/node/devices").iterdir())
    assert nodes == [f"node{i}" for i in range(len(nodes))]
    assert attrs["memory.numa"] == {"is_numa": str(len(nodes) > 1).lower(),
                                    "node_count": str(len(nodes))}
    swapon = _truth(tree, "swapon")
    assert attrs["memory.swap"] == {"enabled": str(len(swapon) > 1).lower()}
    assert attrs["memory.hugepages"] == {"enabled": "false", "hugepages-1Gi": "0",
                                         "hugepages-2Mi": "0"}
    nproc = int(_truth(tree, "nproc")[0])
    assert len(list((tree / "sys/bus/cpu/devices").iterdir())) == nproc
    assert attrs["cpu.topology"] == {"hardware_multithreading": "false", "socket_count": "1"}
    assert discovered[host].instances["memory.nv"] == []


@pytest.mark.parametrize("host", HOST_NAMES)
def test_os_release_every_field(host: str, host_trees: dict[str, Path],
                                discovered: dict[str, Features]) -> None:
    expected = {}
    for line in (host_trees[host] / "etc/os-release").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and value and key.isidentifier():
            expected[key] = value.strip("\"'")
    major, _, minor = expected["VERSION_ID"].partition(".")
    expected["VERSION_ID.major"] = major
    if minor:
        expected["VERSION_ID.minor"] = minor
    assert discovered[host].attributes["system.osrelease"] == expected
    assert expected["ID"] == {"gpu-h100-ubuntu2404": "ubuntu",
                              "amd-epyc-debian12": "debian"}[host]
    assert discovered[host].attributes["system.name"] == {"nodename": "n1"}


# Linux flag -> NFD name pairs whose meaning py-cpuinfo and the cpuid library share.
_SAME_MEANING = {"avx": "AVX", "avx2": "AVX2", "avx512f": "AVX512F", "avx512bw": "AVX512BW",
                 "avx512vl": "AVX512VL", "aes": "AESNI", "sha_ni": "SHA", "sse4_2": "SSE42",
                 "bmi2": "BMI2", "adx": "ADX", "gfni": "GFNI", "vaes": "VAES",
                 "amx_tile": "AMXTILE", "amx_bf16": "AMXBF16", "avx512_fp16": "AVX512FP16",
                 "sse4a": "SSE4A", "clzero": "CLZERO", "serialize": "SERIALIZE",
                 "movbe": "MOVBE", "f16c": "F16C", "hypervisor": "HYPERVISOR"}


@pytest.mark.parametrize("host", HOST_NAMES)
def test_cpu_model_and_flags_match_py_cpuinfo(host: str, host_trees: dict[str, Path],
                                              discovered: dict[str, Features]) -> None:
    truth = json.loads((host_trees[host] / "truth/cpuinfo_py.txt").read_text())
    model = discovered[host].attributes["cpu.model"] or {}
    vendor = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}[truth["vendor_id_raw"]]
    assert (model["vendor_id"], model["family"], model["id"]) == (
        vendor, str(truth["family"]), str(truth["model"]))
    flags = discovered[host].flags["cpu.cpuid"] or set()
    for linux, nfd_name in _SAME_MEANING.items():
        assert (linux in truth["flags"]) == (nfd_name in flags), linux
    # Both CPUs have AVX-512 F/BW/CD/DQ/VL with OS support: microarchitecture level 4.
    assert {"X86_64_V1", "X86_64_V2", "X86_64_V3", "X86_64_V4"} <= flags
    assert discovered[host].attributes["cpu.cpuid"] == {}
