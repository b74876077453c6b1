"""The cpu source: live CPUID against the live /proc/cpuinfo, and synthetic trees."""

from __future__ import annotations

import mmap
import platform
from collections.abc import Callable
from pathlib import Path

import pytest

from nfd.sources import HostPaths, cpu_facts, discover_cpu
from nfd.sources._cpuinfo import hwcap_flags, parse_cpuinfo, x86_info_from_cpuinfo
from nfd.sources._native import CpuidInstruction, parse_auxv, read_hwcaps
from nfd.sources._x86 import x86_info

TreeWriter = Callable[[dict[str, str | bytes]], Path]
X86 = platform.machine() in ("x86_64", "AMD64")
needs_x86 = pytest.mark.skipif(not X86, reason="CPUID exists on x86-64 only")

# Flags Linux (6.x) hides or derives differently from the cpuid library (feature-sources.md
# §4.2/§4.4): they may appear on one side only.
_MAY_DIFFER = {
    "MOVU", "PSFD", "STIBP_ALWAYSON", "CETSS", "HTT", "IBRS", "IBPB", "STIBP", "SPEC_CTRL_SSBD",
    "AMXFP8", "AVXSLOW", "TSA_L1_NO", "TSA_SQ_NO", "SRSO_NO", "SBPB", "IBPB_BRTYPE",
    "SRSO_USER_KERNEL_NO", "SRSO_MSR_FIX", "INVLPGB", "MSR_PAGEFLUSH", "SME_COHERENT",
    "IA32_CORE_CAP", "RTM_ALWAYS_ABORT", "SRBDS_CTRL", "BHI_CTRL", "RRSBA_CTRL", "HYBRID_CPU",
    "RDSEED", "TSA_VERW_CLEAR", "IDPRED_CTRL", "MCDT_NO", "IBRS_PREFERRED", "FLUSH_L1D",
    "IBRS_PROVIDES_SMP", "MD_CLEAR", "PREFETCHI", "AVXVNNIINT8", "AVXVNNIINT16", "AVXIFMA",
    "CMPCCXADD", "MOVSB_ZL", "STOSB_SHORT", "CMPSB_SCADBS_SHORT", "WRMSRNS", "AMXFP16",
    "IA32_ARCH_CAP", "FXSROPT", "SGX", "SGXLC", "SME", "SEV", "SEV_ES", "SEV_SNP", "LAM",
    "PMU_FIXEDCOUNTER_CYCLES", "PMU_FIXEDCOUNTER_REFCYCLES", "PMU_FIXEDCOUNTER_INSTRUCTIONS",
    "PMU_FIXEDCOUNTER_TOPDOWN_SLOTS", "AVX10", "AVX10_128", "AVX10_256", "AVX10_512", "APX_F",
    "SM3_X86", "SM4_X86", "HRESET", "KEYLOCKER", "KEYLOCKERW", "HWA", "FP128", "FP256",
}


@needs_x86
def test_live_cpuid_agrees_with_live_proc_cpuinfo() -> None:
    with CpuidInstruction() as cpu:
        live = x86_info(cpu.cpuid, cpu.xgetbv)
        leaf0 = cpu.cpuid(0, 0)
    text = Path("/proc/cpuinfo").read_text()
    linux = x86_info_from_cpuinfo(parse_cpuinfo(text))
    assert (live.vendor, live.family, live.model) == (linux.vendor, linux.family, linux.model)
    assert (live.features ^ linux.features) <= _MAY_DIFFER
    assert len(live.features & linux.features) > 20
    assert leaf0[0] >= 1 and live.x64_level() >= 1


@needs_x86
def test_live_discovery_uses_cpuid_and_reports_hidden_flags() -> None:
    facts = cpu_facts(HostPaths())
    assert facts.method == "cpuid-instruction"
    features = discover_cpu(HostPaths(), facts)
    flags = features.flags["cpuid"] or set()
    assert "OSXSAVE" in flags  # hidden by /proc/cpuinfo, set by NFD's library
    level = max(int(f[-1]) for f in flags if f.startswith("X86_64_V"))
    assert {f"X86_64_V{i}" for i in range(1, level + 1)} <= flags
    model = features.attributes["model"] or {}
    assert model["vendor_id"] in ("Intel", "AMD", "Hygon", "VendorUnknown")
    cpuinfo_hv = "hypervisor" in Path("/proc/cpuinfo").read_text()
    assert (model["hypervisor"] != "none") == cpuinfo_hv
    assert features.attributes["cpuid"] is not None


def test_auxv_of_this_process() -> None:
    aux = parse_auxv(Path("/proc/self/auxv").read_bytes())
    assert aux[6] == mmap.PAGESIZE  # AT_PAGESZ
    assert read_hwcaps() is not None


def test_hwcap_tables() -> None:
    assert hwcap_flags("arm64", 1 << 0 | 1 << 1 | 1 << 22, 1 << 1) == {"FP", "ASIMD", "SVE",
                                                                       "SVE2"}
    assert hwcap_flags("arm64", 1 << 40, 1 << 40) == set()  # bits NFD does not know
    assert hwcap_flags("ppc64le", 0x80000000 | 0x80 | 0x1, 0x00020000) == {
        "PPC32", "VSX", "PPCLE", "MMA"}
    assert hwcap_flags("s390x", 1 << 11 | 1 << 22, 0) == {"VX", "SIE"}
    assert hwcap_flags("arm", 1 << 13 | 1 << 4, 1) == {"VFPv3", "FASTMUL", "AES"}


INTEL_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
siblings\t: 4
cpu cores\t: 2
flags\t\t: fpu cx8 sep cmov mmx fxsr sse sse2 ht syscall lahf_lm pni ssse3 cx16 sse4_1 \
sse4_2 popcnt movbe xsave avx f16c fma abm bmi1 avx2 bmi2 avx512f avx512bw avx512cd avx512dq \
avx512vl pku ibrs cqm cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local rdt_a cat_l3 mba \
hypervisor

processor\t: 1
vendor_id\t: GenuineIntel
"""


def _intel_tree(make_tree: TreeWriter, extra: dict[str, str | bytes]) -> Path:
    cpu = "sys/devices/system/cpu"
    return make_tree({
        "proc/cpuinfo": INTEL_CPUINFO,
        "sys/bus/cpu/devices/cpu0/topology/thread_siblings_list": "0-1\n",
        "sys/bus/cpu/devices/cpu0/topology/physical_package_id": "0\n",
        "sys/bus/cpu/devices/cpu1/topology/thread_siblings_list": "0-1\n",
        "sys/bus/cpu/devices/cpu1/topology/physical_package_id": "1\n",
        "sys/bus/cpu/devices/cpu1/cpufreq/base_frequency": "2700000\n",
        f"{cpu}/cpuidle/current_driver": "intel_idle\n",
        "sys/module/intel_idle/parameters/max_cstate": "9\n",
        f"{cpu}/intel_pstate/status": "active\n", f"{cpu}/intel_pstate/no_turbo": "0\n",
        f"{cpu}/cpufreq/policy0/affected_cpus": "0\n",
        f"{cpu}/cpufreq/policy0/scaling_governor": "performance\n",
        f"{cpu}/cpufreq/policy1/affected_cpus": "\n",
        f"{cpu}/cpufreq/policy1/scaling_governor": "powersave\n",
        "sys/devices/system/clocksource/clocksource0/available_clocksource": "kvm-clock tsc\n",
        "sys/module/kvm_intel/parameters/tdx": "Y\n",
        "sys/fs/cgroup/misc.capacity": "tdx 31\n",
        "sys/fs/resctrl/info/L3/num_closids": "16\n",
        "proc/self/mountinfo": "30 1 0:26 / /sys/fs/resctrl rw - resctrl resctrl rw\n",
        **extra,
    })


def test_intel_tree_from_cpuinfo(make_tree: TreeWriter) -> None:
    root = _intel_tree(make_tree, {})
    facts = cpu_facts(HostPaths(root=str(root)))
    assert facts.method == "proc-cpuinfo" and facts.notes["hypervisor"]
    f = discover_cpu(HostPaths(root=str(root)), facts)
    flags = f.flags["cpuid"] or set()
    assert {"SSE3", "XSAVE", "OSXSAVE", "FMA3", "LZCNT", "POPCNT", "FXSROPT", "HTT", "AMXFP8",
            "AVX512F", "X86_64_V4", "HYPERVISOR"} <= flags
    assert "IBRS" not in flags  # the library reads IBRS from an AMD-only leaf
    assert f.attributes["model"] == {"vendor_id": "Intel", "family": "6", "id": "85",
                                     "hypervisor": "kvm"}
    assert f.attributes["cstate"] == {"enabled": "true"}
    assert f.attributes["pstate"] == {"status": "active", "turbo": "true",
                                      "scaling_governor": "performance"}
    assert f.attributes["rdt"] == {"RDTMON": "true", "RDTCMT": "true", "RDTMBM": "true",
                                   "RDTL3CA": "true", "RDTMBA": "true",
                                   "RDTL3CA_NUM_CLOSID": "15"}
    assert f.attributes["security"] == {"tdx.enabled": "true", "tdx.total_keys": "31"}
    assert f.attributes["sst"] == {"bf.enabled": "true"}  # 2700 MHz > nominal 2500
    assert f.attributes["topology"] == {"hardware_multithreading": "true", "socket_count": "2"}
    assert f.attributes["coprocessor"] == {} and f.attributes["cpuid"] == {}


def test_cpu_missing_pieces_follow_nfd(make_tree: TreeWriter) -> None:
    root = _intel_tree(make_tree, {
        "sys/devices/system/cpu/cpufreq/policy1/affected_cpus": "1\n",  # governors disagree
        "sys/module/intel_idle/parameters/max_cstate": "many\n",  # not an int: cstate absent
        "sys/bus/cpu/devices/cpu2/topology/.keep": "",  # offline CPU: topology {}
        "sys/fs/resctrl/info/L3/num_closids": "x\n",
        "sys/devices/system/cpu/intel_pstate/no_turbo": "1\n",
    })
    f = discover_cpu(HostPaths(root=str(root)))
    assert "cstate" not in f.attributes
    assert f.attributes["pstate"] == {"status": "active", "turbo": "false"}
    assert f.attributes["topology"] == {}
    assert "RDTL3CA_NUM_CLOSID" not in (f.attributes["rdt"] or {})


def test_amd_pstate_and_no_cpuidle(make_tree: TreeWriter) -> None:
    text = INTEL_CPUINFO.replace("GenuineIntel", "AuthenticAMD").replace(": 6\n", ": 23\n")
    root = make_tree({"proc/cpuinfo": text.replace(" hypervisor", ""),
                      "sys/devices/system/cpu/amd_pstate/status": "active\n"})
    f = discover_cpu(HostPaths(root=str(root)))
    assert f.attributes["cstate"] == {} and f.attributes["pstate"] == {}
    assert (f.attributes["model"] or {})["hypervisor"] == "none"
    assert {"TSA_L1_NO", "TSA_SQ_NO", "IBRS"} <= (f.flags["cpuid"] or set())


def test_tree_without_cpuinfo_still_reports_the_rest(make_tree: TreeWriter) -> None:
    root = make_tree({"sys/bus/cpu/devices/.keep": ""})
    facts = cpu_facts(HostPaths(root=str(root)))
    assert facts.method == "unavailable"
    f = discover_cpu(HostPaths(root=str(root)), facts)
    assert f.flags["cpuid"] == set() and f.attributes["coprocessor"] == {}
