"""Which CPU is described, and how its identification was obtained.

On the live host NFD executes CPUID (x86-64) or reads HWCAP (elsewhere); a
tree captured on another machine only has its ``/proc/cpuinfo``. The two are
never mixed: :class:`CpuFacts` records the method, and discovery reports it.
"""

from __future__ import annotations

import os
import re

from nfd._record import Record
from nfd.sources._cpuinfo import (
    CpuInfoText,
    arm64_flags_from_cpuinfo,
    hwcap_flags,
    nominal_mhz_from_brand,
    parse_cpuinfo,
    x86_info_from_cpuinfo,
)
from nfd.sources._hostpaths import HostPaths
from nfd.sources._native import CpuidInstruction, CpuidUnavailable, read_hwcaps
from nfd.sources._x86 import VENDOR_UNKNOWN, CpuidFn, X86Info, x86_info

METHOD_CPUID = "cpuid-instruction"
METHOD_CPUINFO = "proc-cpuinfo"
METHOD_AUXV = "auxv-hwcap"
METHOD_NONE = "unavailable"

_MACHINE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                 "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}
_ARM_IMPLEMENTERS = {0x41: "ARM", 0x42: "Broadcom", 0x43: "Cavium", 0x44: "DEC",
                     0x46: "Fujitsu", 0x49: "Infineon", 0x4D: "Motorola", 0x4E: "NVIDIA",
                     0x50: "AMCC", 0x51: "Qualcomm", 0x56: "Marvell", 0x69: "Intel",
                     0xC0: "Ampere"}
_FORBIDDEN_RUNS = re.compile(r"[^-A-Za-z0-9_.]+")


class CpuFacts(Record):
    """What the cpu source needs to know about the processor."""

    __slots__ = (
        "arch", "family", "flags", "hypervisor", "method", "model", "nominal_mhz", "notes",
        "rdt", "vendor", "x86",
    )
    arch: str
    method: str
    flags: set[str]
    x86: X86Info | None
    vendor: str
    family: int
    model: int
    hypervisor: str | None
    rdt: dict[str, str]  # without RDTL3CA_NUM_CLOSID
    nominal_mhz: int  # CPUID leaf 0x16 EAX
    notes: dict[str, str]

    def __init__(
        self,
        arch: str,
        method: str,
        flags: set[str] | None = None,
        x86: X86Info | None = None,
        vendor: str = VENDOR_UNKNOWN,
        family: int = 0,
        model: int = 0,
        hypervisor: str | None = "none",
        rdt: dict[str, str] | None = None,
        nominal_mhz: int = 0,
        notes: dict[str, str] | None = None,
    ) -> None:
        self.arch = arch
        self.method = method
        self.flags = set() if flags is None else flags
        self.x86 = x86
        self.vendor = vendor
        self.family = family
        self.model = model
        self.hypervisor = hypervisor
        self.rdt = {} if rdt is None else rdt
        self.nominal_mhz = nominal_mhz
        self.notes = {} if notes is None else notes


def sanitize(text: str) -> str:
    """NFD's ``[^-A-Za-z0-9_.]+`` -> ``_`` replacement."""
    return _FORBIDDEN_RUNS.sub("_", text)


def _rdt_from_cpuid(cpuid: CpuidFn) -> dict[str, str]:
    """``discoverRDT`` from register values (leaves 7, 0xF and 0x10)."""
    out: dict[str, str] = {}
    ebx7 = cpuid(7, 0)[1]
    if ebx7 >> 12 & 1 and cpuid(0xF, 0)[3] >> 1 & 1:
        out["RDTMON"] = "true"
        l3 = cpuid(0xF, 1)[3]
        if l3 & 1:
            out["RDTCMT"] = "true"
        if l3 & 0b110 == 0b110:
            out["RDTMBM"] = "true"
    if ebx7 >> 15 & 1:
        alloc = cpuid(0x10, 0)[1]
        for bit, name in ((1, "RDTL3CA"), (2, "RDTL2CA"), (3, "RDTMBA")):
            if alloc >> bit & 1:
                out[name] = "true"
    return out


def _rdt_from_flags(flags: set[str]) -> dict[str, str]:
    """The same from Linux's flags (``cqm*``, ``cat_l3``, ``cat_l2``, ``mba``)."""
    out: dict[str, str] = {}
    if "cqm" in flags and "cqm_llc" in flags:
        out["RDTMON"] = "true"
        if "cqm_occup_llc" in flags:
            out["RDTCMT"] = "true"
        if {"cqm_mbm_total", "cqm_mbm_local"} <= flags:
            out["RDTMBM"] = "true"
    if "rdt_a" in flags:
        for flag, name in (("cat_l3", "RDTL3CA"), ("cat_l2", "RDTL2CA"), ("mba", "RDTMBA")):
            if flag in flags:
                out[name] = "true"
    return out


def _x86_hypervisor(info: X86Info) -> str:
    """``getHypervisor`` on x86: none, the lower-cased vendor, or the sanitised raw string."""
    if "HYPERVISOR" not in info.features:
        return "none"
    if info.hypervisor_vendor != VENDOR_UNKNOWN:
        return info.hypervisor_vendor.lower()
    return sanitize(info.hypervisor_string) or "unknown"


def _tree_hypervisor(host: HostPaths, flags: set[str]) -> tuple[str, str]:
    """Best guess of the CPUID hypervisor vendor for a captured tree: (value, how)."""
    if "hypervisor" not in flags:
        return "none", "no hypervisor flag"
    if (host.read_trimmed(host.sys("hypervisor/type")) or "") == "xen":
        return "xenhvm", "sys/hypervisor/type"
    clocks = host.read_text(host.sys(
        "devices/system/clocksource/clocksource0/available_clocksource")) or ""
    if "kvm-clock" in clocks.split():
        return "kvm", "kvm-clock clocksource"
    idle_driver = host.read_trimmed(host.sys("devices/system/cpu/cpuidle/current_driver"))
    if idle_driver == "haltpoll":
        return "kvm", "haltpoll cpuidle driver (KVM guests only)"
    vendor = host.read_trimmed(host.sys("devices/virtual/dmi/id/sys_vendor")) or ""
    for needle, value in (("Microsoft", "msvm"), ("VMware", "vmware"), ("Xen", "xenhvm"),
                          ("QEMU", "kvm"), ("bhyve", "bhyve")):
        if needle in vendor:
            return value, "DMI sys_vendor"
    return "unknown", "not derivable from the tree"


def _arm_model(info: CpuInfoText) -> tuple[str, int, int]:
    """arm64 vendor/family/id from the MIDR fields Linux prints in cpuinfo."""
    def num(key: str) -> int:
        try:
            return int(info.fields.get(key, ""), 0)
        except ValueError:
            return -1
    implementer, variant = num("CPU implementer"), num("CPU variant")
    part, revision = num("CPU part"), num("CPU revision")
    if min(implementer, variant, part, revision) < 0:
        return VENDOR_UNKNOWN, 0, 0
    # MIDR_EL1 architecture field is 0xF on every ARMv8 part.
    family = variant << 4 | 0xF
    return _ARM_IMPLEMENTERS.get(implementer, VENDOR_UNKNOWN), family, part << 4 | revision


def _tree_arch(info: CpuInfoText) -> str:
    fields = info.fields
    if fields.get("vendor_id", "").startswith("IBM/S390"):
        return "s390x"
    if "flags" in fields and "vendor_id" in fields:
        return "amd64"
    if "Features" in fields:
        return "arm" if fields.get("CPU architecture", "") == "7" else "arm64"
    if "POWER" in fields.get("cpu", ""):
        return "ppc64le"
    return "unknown"


def _from_cpuinfo(host: HostPaths, arch: str | None = None) -> CpuFacts:
    text = host.read_text(host.literal("/proc/cpuinfo"))
    if text is None:
        return CpuFacts(arch=arch or "unknown", method=METHOD_NONE)
    info = parse_cpuinfo(text)
    facts = CpuFacts(arch=arch or _tree_arch(info), method=METHOD_CPUINFO)
    if facts.arch == "amd64":
        x86 = x86_info_from_cpuinfo(info)
        facts.x86, facts.flags = x86, set(x86.features)
        facts.vendor, facts.family, facts.model = x86.vendor, x86.family, x86.model
        facts.rdt = _rdt_from_flags(info.flags)
        facts.nominal_mhz = nominal_mhz_from_brand(info)
        facts.hypervisor, how = _tree_hypervisor(host, info.flags)
        facts.notes["hypervisor"] = how
    elif facts.arch == "arm64":
        facts.flags = arm64_flags_from_cpuinfo(info)
        facts.vendor, facts.family, facts.model = _arm_model(info)
    return facts


def _from_cpuid(cpu: CpuidInstruction) -> CpuFacts:
    x86 = x86_info(cpu.cpuid, cpu.xgetbv)
    return CpuFacts(
        arch="amd64", method=METHOD_CPUID, flags=set(x86.features), x86=x86,
        vendor=x86.vendor, family=x86.family, model=x86.model,
        hypervisor=_x86_hypervisor(x86), rdt=_rdt_from_cpuid(cpu.cpuid),
        nominal_mhz=cpu.cpuid(0x16, 0)[0],
    )


def cpu_facts(host: HostPaths) -> CpuFacts:
    """The processor's facts: executed on the live host, else read from the tree."""
    if not host.is_live:
        return _from_cpuinfo(host)
    machine = os.uname().machine
    arch = _MACHINE_ARCH.get(machine, machine)
    if arch == "amd64":
        try:
            with CpuidInstruction() as cpu:
                return _from_cpuid(cpu)
        except CpuidUnavailable as exc:
            facts = _from_cpuinfo(host, arch)
            facts.notes["cpuid-unavailable"] = str(exc)
            return facts
    if arch in ("arm64", "arm", "ppc64le", "s390x"):
        facts = _from_cpuinfo(host, arch)  # model fields come from cpuinfo
        hwcaps = read_hwcaps()
        if hwcaps is not None:
            facts.flags, facts.method = hwcap_flags(arch, *hwcaps), METHOD_AUXV
        return facts
    return CpuFacts(arch=arch, method=METHOD_NONE)
