"""Driver facts under NVIDIA GPU Feature Discovery's (GFD) label names, read from the host.

NFD has no driver-version feature: ``kernel.loadedmodule`` says the ``nvidia`` module is
loaded, not which release. In clusters that run GFD, the facts reach NFD another way: GFD
writes ``KEY=VALUE`` lines into NFD's ``features.d`` directory (its default
``--output-file`` is ``/etc/kubernetes/node-feature-discovery/features.d/gfd``), and NFD's
``local`` source turns every line into a ``local.label`` and a ``local.feature`` element.

This module derives the same lines from what the host itself reveals, so a spec written
against a GFD cluster evaluates on a bare node too. Names and value formats follow GFD's
labelers (NVIDIA/k8s-device-plugin ``internal/lm/nvml.go`` ``newVersionLabeler``,
``internal/lm/resource.go`` ``NewGPUResourceLabeler`` and ``getArchFamily``); the sources:

- driver version: ``/proc/driver/nvidia/version`` (the ``NVRM version`` line), else
  ``/sys/module/nvidia/version``;
- CUDA driver version (GFD's ``cuda.runtime-version``, which is ``cuDriverGetVersion``):
  from the driver version through NVIDIA's table of minimum drivers per CUDA release
  (:data:`CUDA_MINIMUM_DRIVERS`);
- GPU product: the ``Model:`` line of ``/proc/driver/nvidia/gpus/*/information``, which is
  the name NVML reports to GFD; else the ``pci.ids`` database's name of the PCI id;
- count and mode: NVIDIA display controllers on the bus (PCI class 0300 is GFD's
  ``graphics``, 0302 its ``compute``);
- compute capability and family: from the PCI device id's chip (:data:`CHIP_COMPUTE`).

GFD's memory, MIG, MPS, sharing and timestamp labels need NVML and are not derived.
Kernel module versions (``/sys/module/*/version``, e.g. ``mlx5_core``, ``ice``, ``efa``)
are offered under :data:`MODULE_VERSION_PREFIX` in the same way.
"""

from __future__ import annotations

import re

from nfd.sources._hostpaths import HostPaths

GFD_PREFIX = "nvidia.com/"
MODULE_VERSION_PREFIX = "kmod.nfd-client.io/"

# GFD's names: NVIDIA/k8s-device-plugin internal/lm. The deprecated cuda.driver.* and
# cuda.runtime.* twins are written too, as GFD still writes them.
GFD_VERSION_LABELS = (
    "cuda.driver.major", "cuda.driver.minor", "cuda.driver.rev",
    "cuda.runtime.major", "cuda.runtime.minor",
    "cuda.driver-version.major", "cuda.driver-version.minor", "cuda.driver-version.revision",
    "cuda.driver-version.full",
    "cuda.runtime-version.major", "cuda.runtime-version.minor", "cuda.runtime-version.full",
)
GFD_GPU_LABELS = (
    "gpu.product", "gpu.count", "gpu.family", "gpu.compute.major", "gpu.compute.minor",
    "gpu.machine", "gpu.memory", "gpu.replicas", "gpu.sharing-strategy", "gpu.mode",
    "mig.capable", "mps.capable", "gfd.timestamp", "mig.strategy",
)
# Names that hold versions: compare them with ``type: version``, not as integers.
GFD_NAMES = frozenset(GFD_PREFIX + name for name in GFD_VERSION_LABELS + GFD_GPU_LABELS)
GFD_VERSION_NAMES = frozenset(GFD_PREFIX + name for name in (
    "cuda.driver-version.full", "cuda.runtime-version.full"))

# CUDA Toolkit Release Notes, table 3 "CUDA Toolkit and Corresponding Driver Versions"
# (Linux x86_64 minimum driver of each release's GA). A driver reports (nvidia-smi's
# "CUDA Version", cuDriverGetVersion) the newest release whose minimum it meets.
CUDA_MINIMUM_DRIVERS: tuple[tuple[tuple[int, ...], str], ...] = (
    ((410, 48), "10.0"), ((418, 39), "10.1"), ((440, 33), "10.2"),
    ((450, 36, 6), "11.0"), ((455, 23), "11.1"), ((460, 27, 3), "11.2"),
    ((465, 19, 1), "11.3"), ((470, 42, 1), "11.4"), ((495, 29, 5), "11.5"),
    ((510, 39, 1), "11.6"), ((515, 43, 4), "11.7"), ((520, 61, 5), "11.8"),
    ((525, 60, 13), "12.0"), ((530, 30, 2), "12.1"), ((535, 54, 3), "12.2"),
    ((545, 23, 6), "12.3"), ((550, 54, 14), "12.4"), ((555, 42, 2), "12.5"),
    ((560, 28, 3), "12.6"), ((565, 57, 1), "12.7"), ((570, 26), "12.8"),
    ((575, 51, 3), "12.9"), ((580, 65, 6), "13.0"), ((590, 44, 1), "13.1"),
)

# NVIDIA PCI device-id ranges of one chip generation, as the pci.ids database names the
# chips (GV100, TU1xx, GA100, GA10x, GH100, AD10x, GB100, GB20x), and the CUDA compute
# capability of that chip. Ids outside every range get no compute labels.
CHIP_COMPUTE: tuple[tuple[int, int, int, int], ...] = (
    (0x1DB0, 0x1DBF, 7, 0),   # GV100 (V100)
    (0x1E00, 0x1FFF, 7, 5),   # TU102, TU104, TU106, TU117
    (0x2180, 0x21FF, 7, 5),   # TU116
    (0x20B0, 0x20FF, 8, 0),   # GA100 (A100, A30)
    (0x2200, 0x22FF, 8, 6),   # GA102
    (0x2300, 0x23FF, 9, 0),   # GH100 (H100, H200, H800)
    (0x2400, 0x25FF, 8, 6),   # GA103, GA104, GA106, GA107
    (0x2680, 0x28FF, 8, 9),   # AD102, AD103, AD104, AD106, AD107 (L4, L40)
    (0x2900, 0x29FF, 10, 0),  # GB100 (B100, B200)
    (0x2B00, 0x2FFF, 12, 0),  # GB202, GB203, GB205, GB206, GB207
)

_NVIDIA_VENDOR = "10de"
_GPU_CLASSES = ("0300", "0302")
_NVRM = re.compile(r"NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)\s", re.ASCII)
_VERSION_TEXT = re.compile(r"\d+\.\d+(?:\.\d+)?", re.ASCII)
# A Kubernetes label value: at most 63 characters, alphanumeric at both ends.
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?", re.ASCII)
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", re.ASCII)
_PCI_IDS_PATHS = ("/usr/share/hwdata/pci.ids", "/usr/share/misc/pci.ids")


def gfd_family(major: int, minor: int) -> str:
    """GFD's ``getArchFamily``: the architecture family of a compute capability."""
    families = {1: "tesla", 2: "fermi", 3: "kepler", 5: "maxwell", 6: "pascal", 9: "hopper",
                10: "blackwell", 12: "blackwell", 13: "rubin"}
    if major == 7:
        return "volta" if minor < 5 else "turing"
    if major == 8:
        return "ampere" if minor < 9 else "ada-lovelace"
    return families.get(major, "undefined")


def gfd_sanitise(text: str) -> str:
    """GFD's ``sanitise``: drop characters outside ``[A-Za-z0-9-_. ]``, join words with ``-``."""
    kept = re.sub(r"[^A-Za-z0-9\-_. ]", "", text)
    return "-".join(kept.split())


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def cuda_version_for_driver(driver: str) -> str | None:
    """The CUDA version a driver reports (nvidia-smi's "CUDA Version"), from NVIDIA's table."""
    if not _VERSION_TEXT.fullmatch(driver):
        return None
    version = _version_tuple(driver)
    found = None
    for minimum, cuda in CUDA_MINIMUM_DRIVERS:
        if version >= minimum:
            found = cuda
    return found


def compute_capability(device_id: str) -> tuple[int, int] | None:
    """The compute capability of an NVIDIA PCI device id's chip, where the id says it."""
    try:
        number = int(device_id, 16)
    except ValueError:
        return None
    for low, high, major, minor in CHIP_COMPUTE:
        if low <= number <= high:
            return major, minor
    return None


def driver_version(host: HostPaths) -> str | None:
    """The loaded NVIDIA kernel driver's version, e.g. ``580.159.04``."""
    text = host.read_text(host.proc("driver/nvidia/version"))
    if text:
        match = _NVRM.search(text)
        if match:
            return match.group(1)
    module = host.read_trimmed(host.sys("module/nvidia/version"))
    if module and _VERSION_TEXT.fullmatch(module):
        return module
    return None


def _nvidia_gpus(host: HostPaths) -> list[tuple[str, str, str]]:
    """(PCI address, device id, class) of every NVIDIA display controller, in address order."""
    base = host.sys("bus/pci/devices")
    try:
        names = host.list_dir(base)
    except OSError:
        return []
    found = []
    for name in names:
        path = f"{base}/{name}"
        vendor = host.read_trimmed(f"{path}/vendor")
        pci_class = host.read_trimmed(f"{path}/class")
        device = host.read_trimmed(f"{path}/device")
        if (vendor and device and pci_class and vendor.removeprefix("0x") == _NVIDIA_VENDOR
                and pci_class.removeprefix("0x")[:4] in _GPU_CLASSES):
            found.append((name, device.removeprefix("0x").lower(),
                          pci_class.removeprefix("0x")[:4]))
    return found


def _proc_model(host: HostPaths, address: str) -> str | None:
    """NVML's product name, as the driver prints it for one GPU."""
    text = host.read_text(host.proc(f"driver/nvidia/gpus/{address}/information"))
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Model":
            return value.strip() or None
    return None


def _pci_ids_name(host: HostPaths, device_id: str) -> str | None:
    """The ``pci.ids`` name of NVIDIA device ``device_id``, from the host's database."""
    for path in _PCI_IDS_PATHS:
        text = host.read_text(host.literal(path))
        if text is None:
            continue
        in_vendor = False
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            if not line.startswith("\t"):
                in_vendor = line.startswith(_NVIDIA_VENDOR + " ")
            elif in_vendor and not line.startswith("\t\t"):
                ident, _, name = line.strip().partition(" ")
                if ident.lower() == device_id:
                    return name.strip()
    return None


def _version_facts(driver: str) -> dict[str, str]:
    parts = driver.split(".")
    major, minor = parts[0], parts[1]
    revision = parts[2] if len(parts) > 2 else ""
    facts = {
        "cuda.driver.major": major, "cuda.driver.minor": minor, "cuda.driver.rev": revision,
        "cuda.driver-version.major": major, "cuda.driver-version.minor": minor,
        "cuda.driver-version.revision": revision, "cuda.driver-version.full": driver,
    }
    cuda = cuda_version_for_driver(driver)
    if cuda is not None:
        cuda_major, cuda_minor = cuda.split(".")
        facts.update({
            "cuda.runtime.major": cuda_major, "cuda.runtime.minor": cuda_minor,
            "cuda.runtime-version.major": cuda_major, "cuda.runtime-version.minor": cuda_minor,
            "cuda.runtime-version.full": cuda,
        })
    return facts


def _gpu_facts(host: HostPaths, gpus: list[tuple[str, str, str]]) -> dict[str, str]:
    address, device_id, _ = gpus[0]  # GFD labels one product per node, that of its devices
    classes = {pci_class for _, _, pci_class in gpus}
    # GFD's newGPUModeLabeler: one class for all GPUs, VGA 0300 or 3D controller 0302.
    mode = {"0300": "graphics", "0302": "compute"}.get(classes.pop()) if len(classes) == 1 else None
    facts = {"gpu.count": str(len(gpus)), "gpu.mode": mode or "unknown"}
    product = _proc_model(host, address) or _pci_ids_name(host, device_id)
    if product:
        facts["gpu.product"] = gfd_sanitise(product)
    capability = compute_capability(device_id)
    if capability is not None and all(compute_capability(d) == capability for _, d, _ in gpus):
        major, minor = capability
        facts.update({"gpu.compute.major": str(major), "gpu.compute.minor": str(minor),
                      "gpu.family": gfd_family(major, minor)})
    machine = host.read_trimmed(host.sys("class/dmi/id/product_name"))
    facts["gpu.machine"] = gfd_sanitise(machine) if machine else "unknown"
    return facts


def gfd_facts(host: HostPaths) -> dict[str, str]:
    """GFD's labels that the host reveals, keyed by GFD's full names (``nvidia.com/...``).

    Empty on a host without an NVIDIA GPU or driver; never an error.
    """
    facts: dict[str, str] = {}
    driver = driver_version(host)
    if driver is not None:
        facts.update(_version_facts(driver))
    gpus = _nvidia_gpus(host)
    if gpus:
        facts.update(_gpu_facts(host, gpus))
    return {GFD_PREFIX + name: value for name, value in facts.items()
            if _LABEL_VALUE.fullmatch(value)}


def module_versions(host: HostPaths) -> dict[str, str]:
    """``/sys/module/*/version`` of every module that has one, as label-safe elements."""
    base = host.sys("module")
    try:
        names = host.list_dir(base)
    except OSError:
        return {}
    found = {}
    for name in names:
        version = host.read_trimmed(f"{base}/{name}/version")
        key = f"{name}.version"
        if version and _LABEL_VALUE.fullmatch(version) and _LABEL_NAME.fullmatch(key):
            found[MODULE_VERSION_PREFIX + key] = version
    return found


def driver_facts(host: HostPaths) -> dict[str, str]:
    """Every fact this module derives: GFD's names, then kernel module versions."""
    return {**gfd_facts(host), **module_versions(host)}


def features_d_text(facts: dict[str, str]) -> str:
    """The facts as a ``features.d`` file that NFD's ``local`` source reads (``KEY=VALUE``)."""
    header = ("# Driver facts derived by nfd-client (GFD's label names); NFD's local source\n"
              "# publishes each line as a local.label and a local.feature element.\n")
    return header + "".join(f"{key}={value}\n" for key, value in sorted(facts.items()))

