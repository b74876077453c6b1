"""CPU flags from ``/proc/cpuinfo`` text and from HWCAP words, named as NFD names them.

Used when the CPU to describe is not the one running this process (a host
tree captured elsewhere), and on non-x86 hosts where NFD itself reads HWCAP.
The x86 mapping follows feature-sources.md §4.3/§4.6; it cannot produce the
flags Linux hides (§4.4), which is why discovery reports the method used.
"""

from __future__ import annotations

from nfd._record import Record
from nfd.sources._x86 import VENDOR_BY_STRING, VENDOR_UNKNOWN, X86Info

# Linux /proc/cpuinfo flag -> cpuid library name (one-to-one entries only).
_LINUX_TO_NFD = dict(pair.split(":") for pair in [
    "fpu:X87", "cx8:CMPXCHG8", "sep:SYSEE", "cmov:CMOV", "mmx:MMX", "fxsr:FXSR", "sse:SSE",
    "sse2:SSE2", "pni:SSE3", "pclmulqdq:CLMUL", "vmx:VMX", "ssse3:SSSE3", "cx16:CX16",
    "sse4_1:SSE4", "sse4_2:SSE42", "movbe:MOVBE", "popcnt:POPCNT", "aes:AESNI", "avx:AVX",
    "f16c:F16C", "rdrand:RDRAND", "hypervisor:HYPERVISOR", "syscall:SYSCALL", "nx:NX",
    "mmxext:MMXEXT", "fxsr_opt:FXSROPT", "rdtscp:RDTSCP", "3dnowext:AMD3DNOWEXT", "3dnow:AMD3DNOW",
    "lahf_lm:LAHF", "svm:SVM", "sse4a:SSE4A", "ibs:IBS", "topoext:TOPEXT", "cpb:CPBOOST",
    "sme:SME", "sev:SEV", "sev_es:SEV_ES", "sev_snp:SEV_SNP", "debug_swap:SEV_DEBUGSWAP",
    "ibrs:IBRS", "ibpb:IBPB", "stibp:STIBP", "tdx_guest:TDX_GUEST", "bmi1:BMI1", "hle:HLE",
    "bmi2:BMI2", "erms:ERMS", "rtm:RTM", "mpx:MPX", "sgx:SGX", "rdseed:RDSEED", "adx:ADX",
    "sha_ni:SHA", "xsaveopt:XSAVEOPT", "xsavec:XSAVEC", "xgetbv1:XGETBV1", "xsaves:XSAVES",
    "fred:FRED", "lam:LAM", "clzero:CLZERO", "irperf:MSRIRC", "rdpru:RDPRU", "wbnoinvd:WBNOINVD",
    "amd_ppin:PPIN", "cppc:CPPC", "npt:SVMNP", "lbrv:LBRVIRT", "svm_lock:SVML", "nrip_save:NRIPS",
    "tsc_scale:TSCRATEMSR", "vmcb_clean:VMCBCLEAN", "flushbyasid:SVMFBASID", "decodeassists:SVMDA",
    "pausefilter:SVMPF", "pfthreshold:SVMPFT", "waitpkg:WAITPKG", "gfni:GFNI", "vaes:VAES",
    "vpclmulqdq:VPCLMULQDQ", "tme:TME", "cldemote:CLDEMOTE", "movdiri:MOVDIRI",
    "movdir64b:MOVDIR64B", "enqcmd:ENQCMD", "sgx_lc:SGXLC", "overflow_recov:MCAOVERFLOW",
    "succor:SUCCOR", "fsrm:FSRM", "md_clear:MD_CLEAR", "serialize:SERIALIZE", "tsxldtrk:TSXLDTRK",
    "pconfig:PCONFIG", "ibt:CETIBT", "flush_l1d:FLUSH_L1D", "arch_capabilities:IA32_ARCH_CAP",
    "user_shstk:CETSS", "ssbd:SPEC_CTRL_SSBD",
])
# Need AVX (the library checks OS support for them).
_NEEDS_AVX = dict(pair.split(":") for pair in [
    "avx2:AVX2", "avx_vnni:AVXVNNI", "xop:XOP", "fma4:FMA4",
])
# Need OS-enabled AVX-512 state; Linux hides them without it, so the flag is the test.
_AVX512 = dict(pair.split(":") for pair in [
    "avx512f:AVX512F", "avx512dq:AVX512DQ", "avx512ifma:AVX512IFMA", "avx512pf:AVX512PF",
    "avx512er:AVX512ER", "avx512cd:AVX512CD", "avx512bw:AVX512BW", "avx512vl:AVX512VL",
    "avx512vbmi:AVX512VBMI", "avx512_vbmi2:AVX512VBMI2", "avx512_vnni:AVX512VNNI",
    "avx512_bitalg:AVX512BITALG", "avx512_vpopcntdq:AVX512VPOPCNTDQ",
    "avx512_vp2intersect:AVX512VP2INTERSECT", "amx_bf16:AMXBF16", "avx512_fp16:AVX512FP16",
    "amx_tile:AMXTILE", "amx_int8:AMXINT8", "avx512_bf16:AVX512BF16",
])


class CpuInfoText(Record):
    """The first processor's fields of a ``/proc/cpuinfo`` and the processor count."""

    __slots__ = ("fields", "processors")
    fields: dict[str, str]
    processors: int

    def __init__(self, fields: dict[str, str] | None = None, processors: int = 0) -> None:
        self.fields = {} if fields is None else fields
        self.processors = processors

    @property
    def flags(self) -> set[str]:
        """x86 ``flags`` or arm ``Features`` words."""
        return set((self.fields.get("flags") or self.fields.get("Features") or "").split())


def parse_cpuinfo(text: str) -> CpuInfoText:
    """Fields of the first processor block (later blocks only counted)."""
    info = CpuInfoText()
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "processor":
            info.processors += 1
        if info.processors <= 1:
            info.fields.setdefault(key, value.strip())
    return info


def _int(value: str | None) -> int:
    try:
        return int(value or "0", 0)
    except ValueError:
        return 0


def x86_info_from_cpuinfo(info: CpuInfoText) -> X86Info:
    """Approximate the cpuid library's view from Linux's flags (feature-sources.md §4.6)."""
    flags = info.flags
    vendor = VENDOR_BY_STRING.get(info.fields.get("vendor_id", ""), VENDOR_UNKNOWN)
    family, model = _int(info.fields.get("cpu family")), _int(info.fields.get("model"))
    out = {name for linux, name in _LINUX_TO_NFD.items() if linux in flags}
    if "abm" in flags:
        out.update(("LZCNT", "POPCNT"))
    if "sse" in flags:
        out.add("FXSROPT")  # the library reads the SSE bit as FXSROPT too
    if "pni" in flags:
        out.update(("XSAVE", "OSXSAVE"))  # the library's (c&1)<<26 quirk, see _x86.py
    else:
        out -= {"XSAVEOPT", "XSAVEC", "XGETBV1", "XSAVES"}
    if "fma" in flags and "xsave" in flags:
        out.add("FMA3")
    if "avx" in flags:
        out.update(name for linux, name in _NEEDS_AVX.items() if linux in flags)
        if (vendor == "Intel" and family == 6 and model < 60) or (
                vendor == "AMD" and (family < 23 or (family == 23 and model < 49))):
            out.add("AVXSLOW")
    out.update(name for linux, name in _AVX512.items() if linux in flags)
    if "pku" in flags and "avx512f" in flags:
        out.add("AMXFP8")  # the library reads the PKU bit as AMXFP8
    siblings, cores = _int(info.fields.get("siblings")), _int(info.fields.get("cpu cores"))
    if "ht" in flags and vendor in ("Intel", "AMD") and siblings > cores > 0:
        out.add("HTT")
    if vendor == "AMD" and (family < 0x19 or (
            family == 0x1A and (model <= 0x4F or 0x60 <= model <= 0x7F))):
        out.update(("TSA_L1_NO", "TSA_SQ_NO"))
    if vendor != "AMD":
        # The library reads these from AMD-only leaves (IBRS: 0x80000008 EBX bit 14).
        out -= {"SME", "SEV", "SEV_ES", "SEV_SNP", "SEV_DEBUGSWAP", "IBRS"}
    return X86Info(features=frozenset(out), vendor=vendor, family=family, model=model,
                   hypervisor_vendor=VENDOR_UNKNOWN, hypervisor_string="",
                   avx10_level=0, sgx_epc_bytes=0)


def nominal_mhz_from_brand(info: CpuInfoText) -> int:
    """Base frequency in MHz from a model name like ``... @ 2.10GHz`` (0 if absent)."""
    name = info.fields.get("model name", "")
    at = name.rfind("@")
    if at < 0:
        return 0
    text = name[at + 1:].strip().lower()
    for unit, scale in (("ghz", 1000), ("mhz", 1)):
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * scale)
            except ValueError:
                return 0
    return 0


# HWCAP bit -> NFD name, per architecture (source/cpu/cpuid_linux_<arch>.go).
_ARM64_HWCAP = [
    "FP", "ASIMD", "EVTSTRM", "AES", "PMULL", "SHA1", "SHA2", "CRC32", "ATOMICS", "FPHP",
    "ASIMDHP", "CPUID", "ASIMDRDM", "JSCVT", "FCMA", "LRCPC", "DCPOP", "SHA3", "SM3", "SM4",
    "ASIMDDP", "SHA512", "SVE", "ASIMDFHM", "DIT", "USCAT", "ILRCPC", "FLAGM", "SSBS", "SB",
    "PACA", "PACG",
]
_ARM64_HWCAP2 = [
    "DCPODP", "SVE2", "SVEAES", "SVEPMULL", "SVEBITPERM", "SVESHA3", "SVESM4", "FLAGM2", "FRINT",
    "SVEI8MM", "SVEF32MM", "SVEF64MM", "SVEBF16", "I8MM", "BF16", "DGH", "RNG", "BTI", "MTE",
    "ECV", "AFP", "RPRES", "MTE3", "SME", "SMEI16I64", "SMEF64F64", "SMEI8I32", "SMEF16F32",
    "SMEB16F32", "SMEF32F32", "SMEFA64", "WFXT", "EBF16", "SVEEBF16",
]
_ARM_HWCAP = [
    "SWP", "HALF", "THUMB", "26BIT", "FASTMUL", "FPA", "VFP", "EDSP", "JAVA", "IWMMXT", "CRUNCH",
    "THUMBEE", "NEON", "VFPv3", "VFPv3D16", "TLS", "VFPv4", "IDIVA", "IDIVT", "VFPD32", "LPAE",
    "EVTSTRM",
]
_ARM_HWCAP2 = ["AES", "PMULL", "SHA1", "SHA2", "CRC32"]
_PPC_HWCAP = [
    "PPC32", "PPC64", "PPC601", "ALTIVEC", "FPU", "MMU", "4xxMAC", "UCACHE", "SPE", "EFPFLOAT",
    "EFPDOUBLE", "NOTB", "POWER4", "POWER5", "POWER5+", "CELLBE", "BOOKE", "SMT", "IC_SNOOP",
    "ARCH_2_05", "PA6T", "DFP", "POWER6X", "ARCH_2_06", "VSX", "ARCHPMU",
]
_PPC_HWCAP2 = [
    "ARCH_2_07", "HTM", "DSCR", "EBB", "ISEL", "TAR", "VCRYPTO", "HTM-NOSC", "ARCH_3_00",
    "IEEE128", "DARN", "SCV", "HTM-NO-SUSPEND", "ARCH_3_1", "MMA",
]
_S390_HWCAP = [
    "ESAN3", "ZARCH", "STFLE", "MSA", "LDISP", "EIMM", "DFP", "EDAT", "ETF3EH", "HIGHGPRS", "TE",
    "VX", "VXD", "VXE", "GS", "VXE2", "VXP", "SORT", "DFLT", "VXP2", "NNPA", "PCIMIO", "SIE",
]


def _low_first(names: list[str]) -> dict[int, str]:
    return {1 << i: n for i, n in enumerate(names)}


def _high_first(names: list[str]) -> dict[int, str]:
    return {1 << (31 - i): n for i, n in enumerate(names)}


HWCAP_TABLES: dict[str, tuple[dict[int, str], dict[int, str]]] = {
    "arm64": (_low_first(_ARM64_HWCAP), _low_first(_ARM64_HWCAP2)),
    "arm": (_low_first(_ARM_HWCAP), _low_first(_ARM_HWCAP2)),
    # ppc64le: bits counted from the top; TRUE_LE and PPC_LE are bits 1 and 0.
    "ppc64le": ({**_high_first(_PPC_HWCAP), 2: "TRUE_LE", 1: "PPCLE"}, _high_first(_PPC_HWCAP2)),
    "s390x": (_low_first(_S390_HWCAP), {}),
}


def hwcap_flags(arch: str, hwcap: int, hwcap2: int) -> set[str]:
    """NFD's flag names for the set HWCAP/HWCAP2 bits that its table knows."""
    table1, table2 = HWCAP_TABLES[arch]
    out = {name for bit, name in table1.items() if hwcap & bit}
    out.update(name for bit, name in table2.items() if hwcap2 & bit)
    return out


def arm64_flags_from_cpuinfo(info: CpuInfoText) -> set[str]:
    """arm64 ``Features`` words are NFD's names, lower-cased; keep the ones NFD knows."""
    known = set(_ARM64_HWCAP) | set(_ARM64_HWCAP2)
    return {w.upper() for w in info.flags if w.upper() in known}
