"""NodeFeature objects for tests and the benchmark: from the real host trees, and synthetic.

Synthetic nodes are deterministic (seeded) and shaped like a worker's output:
CPUID flags, CPU model, kernel version and config, loaded modules, PCI devices,
OS release. Some nodes also get a second object from another publisher, so
merging is exercised.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests._fixtures import unpack_host

from nfd.api import NFD_API_VERSION, NODE_NAME_LABEL, Features, features_to_obj

HOSTS = ("amd-epyc-debian12", "gpu-h100-ubuntu2404")
NFD_NAMESPACE = "node-feature-discovery"

CPU_FLAGS = (
    "ADX", "AESNI", "AVX", "AVX2", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512F",
    "AVX512VL", "AVX512VNNI", "AMXBF16", "AMXINT8", "AMXTILE", "BMI1", "BMI2", "CLMUL",
    "CMPXCHG8", "CX16", "ERMS", "F16C", "FMA3", "FSRM", "FXSR", "HYPERVISOR", "LAHF",
    "LZCNT", "MOVBE", "MOVDIRI", "OSXSAVE", "POPCNT", "RDRAND", "RDSEED", "SHA", "SSE",
    "SSE2", "SSE3", "SSE4", "SSE42", "SSSE3", "VAES", "VPCLMULQDQ", "X87", "XSAVE",
    "XSAVEC", "XSAVEOPT",
)
MODULES = (
    "nvidia", "nvidia_uvm", "nvidia_drm", "ixgbe", "mlx5_core", "i40e", "kvm", "kvm_intel",
    "kvm_amd", "overlay", "br_netfilter", "nf_conntrack", "xfs", "ext4", "dm_mod", "nvme",
    "vfio_pci",
)


def unpack_hosts(dest: Path) -> dict[str, Path]:
    """Unpack the real host trees under ``dest``; the root of each by host name."""
    roots: dict[str, Path] = {}
    for host in HOSTS:
        root = dest / host
        if not root.exists():
            unpack_host(host, root)
        roots[host] = root
    return roots


def node_feature(node: str, features: Features, *, name: str | None = None,
                 namespace: str = NFD_NAMESPACE, labelled: bool = True) -> dict[str, Any]:
    """A NodeFeature object as the API returns it."""
    meta: dict[str, Any] = {"name": name or node, "namespace": namespace}
    if labelled:
        meta["labels"] = {NODE_NAME_LABEL: node}
    return {"apiVersion": NFD_API_VERSION, "kind": "NodeFeature", "metadata": meta,
            "spec": {"features": features_to_obj(features), "labels": {}}}


def synthetic_features(rng: random.Random) -> Features:
    """One plausible node."""
    flags = set(rng.sample(CPU_FLAGS, rng.randint(20, len(CPU_FLAGS))))
    major = rng.choice(["4", "5", "6"])
    minor = str(rng.randint(0, 19))
    pci = [{"class": rng.choice(["0200", "0300", "0302", "0108"]),
            "vendor": rng.choice(["8086", "10de", "15b3", "1af4"]),
            "device": f"{rng.randint(0, 0xffff):04x}", "sriov_totalvfs": str(rng.randint(0, 8))}
           for _ in range(rng.randint(2, 8))]
    kconfig = {f"CONFIG_{i}": rng.choice(["y", "m"]) for i in range(40)}
    return Features(
        flags={"cpu.cpuid": flags,
               "kernel.loadedmodule": set(rng.sample(MODULES, rng.randint(3, len(MODULES))))},
        attributes={
            "cpu.model": {"vendor_id": rng.choice(["Intel", "AMD"]),
                          "family": rng.choice(["6", "25"]), "id": str(rng.randint(1, 210))},
            "kernel.version": {"full": f"{major}.{minor}.0", "major": major, "minor": minor,
                               "revision": "0"},
            "kernel.config": kconfig,
            "system.osrelease": {"ID": rng.choice(["ubuntu", "debian", "rhel"]),
                                 "VERSION_ID": rng.choice(["22.04", "24.04", "12", "9.4"])},
        },
        instances={"pci.device": pci},
    )


def synthetic_list(count: int, seed: int = 1, extra_every: int = 10) -> dict[str, Any]:
    """A ``kubectl get nodefeatures -A -o json``-shaped list of ``count`` objects.

    Every ``extra_every``-th object is a second publisher's object for an earlier node.
    """
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    node_index = 0
    while len(items) < count:
        if extra_every and items and len(items) % extra_every == 0:
            extra = Features(attributes={"vendor.example.com": {"gpu-driver": "550.1"}})
            items.append(node_feature(f"node-{node_index - 1:05d}", extra, name="third-party",
                                      namespace=f"vendor-{rng.randint(0, 3)}"))
            continue
        items.append(node_feature(f"node-{node_index:05d}", synthetic_features(rng)))
        node_index += 1
    return {"apiVersion": "v1", "kind": "List", "items": items,
            "metadata": {"resourceVersion": ""}}
