"""NFD's vocabulary: which features its sources publish, which element names each one can have,
and what their values look like. Lint uses it to warn about names and values that can never
match on any node (feature-sources.md is the reference, read from NFD's sources).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nfd._suggest import did_you_mean

# Element names of the features whose set NFD closes (every name its source can write).
# ``None``: the source's names are open (kconfig symbols, module names, os-release keys...).
CLOSED_ELEMENTS: dict[str, frozenset[str] | None] = {
    "cpu.coprocessor": frozenset({"nx_gzip"}),
    "cpu.cpuid": None,
    "cpu.cstate": frozenset({"enabled"}),
    "cpu.model": frozenset({"vendor_id", "family", "id", "hypervisor"}),
    "cpu.pstate": frozenset({"status", "turbo", "scaling_governor"}),
    "cpu.rdt": frozenset({"RDTMON", "RDTCMT", "RDTMBM", "RDTL3CA", "RDTL3CA_NUM_CLOSID",
                          "RDTL2CA", "RDTMBA"}),
    "cpu.security": frozenset({"sgx.enabled", "sgx.epc", "tdx.enabled", "tdx.total_keys",
                               "tdx.protected", "sev.enabled", "sev.asids", "sev.es.enabled",
                               "sev.encrypted_state_ids", "sev.snp.enabled", "se.enabled"}),
    "cpu.sst": frozenset({"bf.enabled"}),
    "cpu.topology": frozenset({"hardware_multithreading", "socket_count"}),
    "kernel.config": None,
    "kernel.enabledmodule": None,
    "kernel.kvm": frozenset({"enabled"}),
    "kernel.loadedmodule": None,
    "kernel.selinux": frozenset({"enabled"}),
    "kernel.version": frozenset({"full", "major", "minor", "revision"}),
    "local.feature": None,
    "local.label": None,
    "memory.hugepages": None,  # "enabled" and hugepages-<size>: checked by pattern below
    "memory.numa": frozenset({"is_numa", "node_count"}),
    "memory.nv": frozenset({"name", "devtype", "mode"}),
    "memory.swap": frozenset({"enabled"}),
    "network.device": frozenset({"name", "operstate", "speed", "sriov_numvfs",
                                 "sriov_totalvfs", "mtu"}),
    "network.virtual": frozenset({"name", "operstate", "speed", "mtu"}),
    "pci.device": frozenset({"class", "vendor", "device", "subsystem_vendor",
                             "subsystem_device", "sriov_totalvfs", "iommu_group/type",
                             "iommu/intel-iommu/version"}),
    "rule.matched": None,
    "storage.block": frozenset({"name", "dax", "rotational", "nr_zones", "zoned"}),
    "system.dmiid": frozenset({
        "bios_date", "bios_vendor", "bios_version", "board_asset_tag", "board_name",
        "board_vendor", "board_version", "chassis_asset_tag", "chassis_type", "chassis_vendor",
        "chassis_version", "product_family", "product_name", "product_sku", "product_version",
        "sys_vendor"}),
    "system.name": frozenset({"nodename"}),
    "system.osrelease": None,  # keys of os-release(5): checked by shape below
    "usb.device": frozenset({"class", "vendor", "device", "serial"}),
}
KNOWN_FEATURES = frozenset(CLOSED_ELEMENTS)
# How each feature is stored in a NodeFeature (feature-sources.md §1.1); the rest are
# attribute sets. cpu.cpuid is both a flag set and, on x86-64, an attribute set.
FLAG_SET_FEATURES = frozenset({"cpu.cpuid", "kernel.enabledmodule", "kernel.loadedmodule",
                               "local.feature"})
INSTANCE_FEATURES = frozenset({"memory.nv", "network.device", "network.virtual", "pci.device",
                               "storage.block", "usb.device"})
MODULE_FEATURES = frozenset({"kernel.enabledmodule", "kernel.loadedmodule"})
LOCAL_FEATURES = frozenset({"local.label", "local.feature"})
_ORDERED_OPS = frozenset({"Gt", "Ge", "Lt", "Le", "GtLt", "GeLe"})

# os-release(5) fields plus the two NFD derives from VERSION_ID; distributions add their own
# upper-case keys, so unknown upper-case keys are accepted.
OS_RELEASE_KEYS = frozenset({
    "ANSI_COLOR", "ARCHITECTURE", "BUG_REPORT_URL", "BUILD_ID", "CONFEXT_LEVEL", "CONFEXT_SCOPE",
    "CPE_NAME", "DEFAULT_HOSTNAME", "DOCUMENTATION_URL", "HOME_URL", "ID", "ID_LIKE", "IMAGE_ID",
    "IMAGE_VERSION", "LOGO", "NAME", "PORTABLE_PREFIXES", "PRETTY_NAME", "PRIVACY_POLICY_URL",
    "RELEASE_TYPE", "SUPPORT_END", "SUPPORT_URL", "SYSEXT_LEVEL", "SYSEXT_SCOPE", "VARIANT",
    "VARIANT_ID", "VENDOR_NAME", "VENDOR_URL", "VERSION", "VERSION_CODENAME", "VERSION_ID",
    "VERSION_ID.major", "VERSION_ID.minor",
})
_OS_RELEASE_KEY = re.compile(r"[A-Za-z0-9_]+")
_HUGEPAGES_KEY = re.compile(r"enabled|hugepages-[1-9][0-9]*(Ki|Mi|Gi|Ti|Pi|Ei)")

# cpu.cpuid names this tool's discovery can emit (klauspost/cpuid FeatureIDs on x86-64, NFD's
# HWCAP tables elsewhere, X86_64_V<level>). Used for did-you-mean only: new CPUs add names.
CPUID_NAMES = frozenset({
    "ADX", "AES", "AESNI", "AFP", "ALTIVEC", "AMD3DNOW", "AMD3DNOWEXT", "AMXBF16", "AMXCOMPLEX",
    "AMXFP16", "AMXFP8", "AMXINT8", "AMXTF32", "AMXTILE", "AMXTRANSPOSE", "APX_F", "ARCHPMU",
    "ARCH_2_05", "ARCH_2_06", "ARCH_2_07", "ARCH_3_00", "ARCH_3_1", "ASIMD", "ASIMDDP",
    "ASIMDFHM", "ASIMDHP", "ASIMDRDM", "ATOMICS", "AVX", "AVX10", "AVX10_128", "AVX10_256",
    "AVX10_512", "AVX2", "AVX512BF16", "AVX512BITALG", "AVX512BMM", "AVX512BW", "AVX512CD",
    "AVX512DQ", "AVX512ER", "AVX512F", "AVX512FP16", "AVX512IFMA", "AVX512PF", "AVX512VBMI",
    "AVX512VBMI2", "AVX512VL", "AVX512VNNI", "AVX512VP2INTERSECT", "AVX512VPOPCNTDQ", "AVXIFMA",
    "AVXNECONVERT", "AVXSLOW", "AVXVNNI", "AVXVNNIINT16", "AVXVNNIINT8", "BF16", "BHI_CTRL",
    "BMI1", "BMI2", "BOOKE", "BTI", "CELLBE", "CETIBT", "CETSS", "CLDEMOTE", "CLMUL", "CLZERO",
    "CMOV", "CMPCCXADD", "CMPSB_SCADBS_SHORT", "CMPXCHG8", "CPBOOST", "CPPC", "CRC32", "CRUNCH",
    "CX16", "DARN", "DCPODP", "DCPOP", "DFLT", "DFP", "DGH", "DIT", "DSCR", "EBB", "EBF16", "ECV",
    "EDAT", "EDSP", "EFER_LMSLE_UNS", "EFPDOUBLE", "EFPFLOAT", "EIMM", "ENQCMD", "ERMS", "ESAN3",
    "ETF3EH", "EVTSTRM", "F16C", "FASTMUL", "FCMA", "FLAGM", "FLAGM2", "FLUSH_L1D", "FMA3",
    "FMA4", "FP", "FP128", "FP256", "FPA", "FPHP", "FPU", "FRED", "FRINT", "FSRM", "FXSR",
    "FXSROPT", "GFNI", "GS", "HALF", "HIGHGPRS", "HLE", "HRESET", "HTM", "HTT", "HWA",
    "HYBRID_CPU", "HYPERVISOR", "I8MM", "IA32_ARCH_CAP", "IA32_CORE_CAP", "IBPB", "IBPB_BRTYPE",
    "IBRS", "IBRS_PREFERRED", "IBRS_PROVIDES_SMP", "IBS", "IBSBRNTRGT", "IBSFETCHSAM", "IBSFFV",
    "IBSOPCNT", "IBSOPCNTEXT", "IBSOPSAM", "IBSRDWROPCNT", "IBSRIPINVALIDCHK", "IBS_FETCH_CTLX",
    "IBS_OPDATA4", "IBS_OPFUSE", "IBS_PREVENTHOST", "IBS_ZEN4", "IC_SNOOP", "IDIVA", "IDIVT",
    "IDPRED_CTRL", "IEEE128", "ILRCPC", "INT_WBINVD", "INVLPGB", "ISEL", "IWMMXT", "JAVA",
    "JSCVT", "KEYLOCKER", "KEYLOCKERW", "LAHF", "LAM", "LBRVIRT", "LDISP", "LPAE", "LRCPC",
    "LZCNT", "MCAOVERFLOW", "MCDT_NO", "MCOMMIT", "MD_CLEAR", "MMA", "MMU", "MMX", "MMXEXT",
    "MOVBE", "MOVDIR64B", "MOVDIRI", "MOVSB_ZL", "MOVU", "MPX", "MSA", "MSRIRC", "MSRLIST",
    "MSR_PAGEFLUSH", "MTE", "MTE3", "NEON", "NNPA", "NOTB", "NRIPS", "NX", "OSXSAVE", "PA6T",
    "PACA", "PACG", "PCIMIO", "PCONFIG", "PMULL", "PMU_FIXEDCOUNTER_CYCLES",
    "PMU_FIXEDCOUNTER_INSTRUCTIONS", "PMU_FIXEDCOUNTER_REFCYCLES",
    "PMU_FIXEDCOUNTER_TOPDOWN_SLOTS", "POPCNT", "POWER", "POWER4", "POWER5", "POWER6X", "PPC32",
    "PPC601", "PPC64", "PPCLE", "PPIN", "PREFETCHI", "PSFD", "RDPRU", "RDRAND", "RDSEED",
    "RDTSCP", "RNG", "RPRES", "RRSBA_CTRL", "RTM", "RTM_ALWAYS_ABORT", "SB", "SBPB", "SCV",
    "SERIALIZE", "SEV", "SEV_64BIT", "SEV_ALTERNATIVE", "SEV_DEBUGSWAP", "SEV_ES",
    "SEV_RESTRICTED", "SEV_SNP", "SGX", "SGXLC", "SGXPQC", "SHA", "SHA1", "SHA2", "SHA3",
    "SHA512", "SIE", "SM3", "SM3_X86", "SM4", "SM4_X86", "SME", "SMEB16F32", "SMEF16F32",
    "SMEF32F32", "SMEF64F64", "SMEFA64", "SMEI16I64", "SMEI8I32", "SME_COHERENT", "SMT", "SORT",
    "SPE", "SPEC_CTRL_SSBD", "SRBDS_CTRL", "SRSO_MSR_FIX", "SRSO_NO", "SRSO_USER_KERNEL_NO",
    "SSBS", "SSE", "SSE2", "SSE3", "SSE4", "SSE42", "SSE4A", "SSSE3", "STFLE", "STIBP",
    "STIBP_ALWAYSON", "STOSB_SHORT", "SUCCOR", "SVE", "SVE2", "SVEAES", "SVEBF16", "SVEBITPERM",
    "SVEEBF16", "SVEF32MM", "SVEF64MM", "SVEI8MM", "SVEPMULL", "SVESHA3", "SVESM4", "SVM",
    "SVMDA", "SVMFBASID", "SVML", "SVMNP", "SVMPF", "SVMPFT", "SWP", "SYSCALL", "SYSEE", "TAR",
    "TDX_GUEST", "TE", "THUMB", "THUMBEE", "TLB_FLUSH_NESTED", "TLS", "TME", "TOPEXT", "TRUE_LE",
    "TSA_L1_NO", "TSA_SQ_NO", "TSA_VERW_CLEAR", "TSCRATEMSR", "TSXLDTRK", "UCACHE", "USCAT",
    "VAES", "VCRYPTO", "VFP", "VFPD32", "VMCBCLEAN", "VMPL", "VMSA_REGPROT", "VMX", "VPCLMULQDQ",
    "VSX", "VTE", "VX", "VXD", "VXE", "VXE2", "VXP", "VXP2", "WAITPKG", "WBNOINVD", "WFXT",
    "WRMSRNS", "X86_64_V1", "X86_64_V2", "X86_64_V3", "X86_64_V4", "X87", "XGETBV1", "XOP",
    "XSAVE", "XSAVEC", "XSAVEOPT", "XSAVES", "ZARCH",
})

_HEX4 = re.compile(r"[0-9a-f]{4}")
_HEX2 = re.compile(r"[0-9a-f]{2}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_BOOLEAN = frozenset({"true", "false"})
_X86_VENDORS = ("Intel", "AMD", "Hygon", "VIA", "Transmeta", "NSC", "SiS", "RDC")
_ARM_VENDORS = ("ARM", "Broadcom", "Cavium", "DEC", "Fujitsu", "Infineon", "Motorola",
                "NVIDIA", "AMCC", "Qualcomm", "Marvell", "Ampere")
CPU_VENDORS = frozenset((*_X86_VENDORS, *_ARM_VENDORS, "VendorUnknown"))
_VENDOR_STRINGS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon",
                   "CentaurHauls": "VIA"}


@dataclass(frozen=True, slots=True)
class ValueFormat:
    """What every value of one element looks like on a node, and how to say so."""

    pattern: re.Pattern[str] | None
    words: frozenset[str] | None
    description: str

    def accepts(self, value: str) -> bool:
        if self.words is not None:
            return value in self.words
        return self.pattern is not None and self.pattern.fullmatch(value) is not None


_PCI_ID = ValueFormat(_HEX4, None, "four lower-case hex digits")
_USB_ID = ValueFormat(_HEX4, None, "four lower-case hex digits")
_DEC = ValueFormat(_DECIMAL, None, "a decimal number")
_BOOL = ValueFormat(None, _BOOLEAN, '"true" or "false"')

VALUE_FORMATS: dict[tuple[str, str], ValueFormat] = {
    ("pci.device", "vendor"): _PCI_ID,
    ("pci.device", "device"): _PCI_ID,
    ("pci.device", "subsystem_vendor"): _PCI_ID,
    ("pci.device", "subsystem_device"): _PCI_ID,
    ("pci.device", "class"): ValueFormat(_HEX4, None,
                                         "four lower-case hex digits (class and subclass)"),
    ("usb.device", "vendor"): _USB_ID,
    ("usb.device", "device"): _USB_ID,
    ("usb.device", "class"): ValueFormat(_HEX2, None, "two lower-case hex digits"),
    ("cpu.model", "vendor_id"): ValueFormat(None, CPU_VENDORS, "a vendor name NFD reports"),
    ("cpu.model", "family"): _DEC,
    ("cpu.model", "id"): _DEC,
    ("kernel.version", "major"): _DEC,
    ("kernel.version", "minor"): _DEC,
    ("cpu.topology", "socket_count"): _DEC,
    ("cpu.topology", "hardware_multithreading"): _BOOL,
    ("memory.numa", "node_count"): _DEC,
    ("memory.numa", "is_numa"): _BOOL,
    ("memory.swap", "enabled"): _BOOL,
    ("kernel.kvm", "enabled"): _BOOL,
    ("kernel.selinux", "enabled"): _BOOL,
    ("cpu.cstate", "enabled"): _BOOL,
    ("cpu.pstate", "turbo"): _BOOL,
    ("storage.block", "rotational"): ValueFormat(None, frozenset({"0", "1"}), '"0" or "1"'),
    ("storage.block", "dax"): ValueFormat(None, frozenset({"0", "1"}), '"0" or "1"'),
}


@dataclass(frozen=True, slots=True)
class NameProblem:
    """Why an element name looks wrong; ``certain``: no node NFD discovers can have it (a
    closed set, or a spelling NFD's source never produces), not merely an unfamiliar name."""

    message: str
    certain: bool


def unknown_element(feature: str, name: str) -> NameProblem | None:
    """Why ``name`` is not an element of ``feature`` on any node, or ``None`` if it can be."""
    if feature in MODULE_FEATURES:
        return _module_name(feature, name)
    if feature == "cpu.cpuid":
        return _cpuid_name(name)
    if feature == "memory.hugepages":
        if _HUGEPAGES_KEY.fullmatch(name):
            return None
        return NameProblem(
            f"{feature} has no element {_q(name)}: its names are \"enabled\" and "
            "hugepages-<size> with a canonical size such as hugepages-2Mi or hugepages-1Gi",
            True)
    if feature == "system.osrelease":
        return _os_release_key(name)
    if feature in LOCAL_FEATURES:
        return _local_name(name)
    if feature == "kernel.config" and name.startswith("CONFIG_"):
        # NFD's kconfig source strips the prefix (source/kernel/kconfig.go).
        return NameProblem(f"kernel.config names drop the CONFIG_ prefix (did you mean "
                           f"{_q(name[len('CONFIG_'):])}?)", True)
    names = CLOSED_ELEMENTS.get(feature)
    if names is None or name in names:
        return None
    return NameProblem(f"{feature} has no element {_q(name)}{did_you_mean(name, names)}; "
                       f"NFD writes only {', '.join(sorted(names))}", True)


def _local_name(name: str) -> NameProblem | None:
    """``local.*`` keys are free-form, except the names GFD and our driver facts write
    (a features.d file of someone else's may still write others: never certain)."""
    if name.startswith("nvidia.com/"):
        from nfd.sources import GFD_NAMES

        if name in GFD_NAMES:
            return None
        return NameProblem(f"GPU Feature Discovery writes no label {_q(name)}"
                           f"{did_you_mean(name, GFD_NAMES)}", False)
    if name.startswith("kmod.nfd-client.io/") and not name.endswith(".version"):
        return NameProblem(f"driver facts name kernel module versions "
                           f"kmod.nfd-client.io/<module>.version (got {_q(name)})", False)
    return None


def comparison_problem(feature: str, name: str, op: str, value_type: str
                       ) -> NameProblem | None:
    """Why an integer comparison of a version-valued element can never hold (NFD's engine
    fails to parse the node's value as an integer, so the expression never matches)."""
    if feature not in LOCAL_FEATURES or value_type == "version" or op not in _ORDERED_OPS:
        return None
    from nfd.sources import GFD_VERSION_NAMES

    if name in GFD_VERSION_NAMES or (name.startswith("kmod.nfd-client.io/")
                                     and name.endswith(".version")):
        return NameProblem(f"{_q(name)} holds a version such as 580.159.04, never an "
                           f"integer: op {op} needs type: version", True)
    return None


def _module_name(feature: str, name: str) -> NameProblem | None:
    if "-" not in name:
        return None
    fixed = name.replace("-", "_")
    if feature == "kernel.loadedmodule":
        # NFD takes the first field of each /proc/modules line (source/kernel/modules.go),
        # and the kernel writes module names there with underscores.
        return NameProblem(f"module {_q(name)} can never be in {feature}: /proc/modules "
                           f"spells module names with underscores (did you mean {_q(fixed)}?)",
                           True)
    # kernel.enabledmodule also holds modules.builtin's file names, which may keep a hyphen.
    return NameProblem(f"module {_q(name)} matches only a built-in listed with a hyphen in "
                       f"modules.builtin; loaded modules are spelled with underscores (did you "
                       f"mean {_q(fixed)}?)", False)


def _cpuid_name(name: str) -> NameProblem | None:
    if name in CPUID_NAMES:
        return None
    if name.upper() in CPUID_NAMES or name != name.upper():
        # Every cpu.cpuid name NFD writes is upper case (klauspost/cpuid's FeatureID
        # strings, NFD's HWCAP tables, X86_64_V<level>).
        return NameProblem(f"cpu.cpuid names are upper case (did you mean "
                           f"{_q(name.upper())}?)", True)
    hint = did_you_mean(name, CPUID_NAMES)
    if hint:  # new CPUs add names: an unfamiliar one is only a warning
        return NameProblem(f"cpu.cpuid has no element {_q(name)}{hint}", False)
    return None


def _os_release_key(name: str) -> NameProblem | None:
    if name in OS_RELEASE_KEYS:
        return None
    hint = did_you_mean(name, OS_RELEASE_KEYS)
    if hint or not _OS_RELEASE_KEY.fullmatch(name) or name != name.upper():
        # NFD's osrelease parser keeps only keys of word characters (source/system).
        return NameProblem(
            f"system.osrelease has no element {_q(name)}{hint}; its names are os-release "
            "keys as written in the file (upper case), plus VERSION_ID.major and "
            "VERSION_ID.minor", not _OS_RELEASE_KEY.fullmatch(name))
    return None


def value_problem(feature: str, name: str, value: str) -> str | None:
    """Why ``value`` can never be the value of element ``name`` of ``feature``, or ``None``."""
    fmt = VALUE_FORMATS.get((feature, name))
    if fmt is None or fmt.accepts(value):
        return None
    hint = _value_hint(feature, name, value, fmt)
    return (f"{feature} {name} is {fmt.description} on every node, so {_q(value)} never "
            f"matches{hint}")


def _value_hint(feature: str, name: str, value: str, fmt: ValueFormat) -> str:
    if (feature, name) == ("cpu.model", "vendor_id"):
        if value in _VENDOR_STRINGS:
            return f' (did you mean "{_VENDOR_STRINGS[value]}"?)'
        return did_you_mean(value, CPU_VENDORS)
    candidates = [value.lower(), value.lower().removeprefix("0x")]
    if feature == "pci.device" and name == "class":
        candidates.append(candidates[-1][:4])
    for candidate in candidates:
        if candidate != value and fmt.accepts(candidate):
            return f" (did you mean {_q(candidate)}?)"
    return ""


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
