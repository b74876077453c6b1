"""x86 CPU facts from raw CPUID results, exactly as NFD's cpuid library reports them.

NFD (``source/cpu``) takes ``cpu.cpuid`` and ``cpu.model`` from
``github.com/klauspost/cpuid/v2`` (v2.4.0 in NFD's go.mod). This module
re-derives that library's ``support()``, ``X64Level()``, vendor, family/model,
hypervisor and SGX logic from register values, so the names and the gating
(XCR0 checks, vendor checks) match NFD bit for bit. Two quirks are kept on
purpose because NFD has them too:

* ``XSAVE`` and ``OSXSAVE`` test ``c&1<<26`` which Go parses as ``(c&1)<<26``,
  i.e. CPUID.1:ECX bit 0 (SSE3); ``XSAVEOPT``... follow ``XSAVE``.
* ``AMXFP8`` is read from CPUID.(7,0):ECX bit 3 (architecturally PKU).

The register source is a callable, so the same code serves the live CPUID
instruction and recorded dumps.
"""

from __future__ import annotations

from collections.abc import Callable

from nfd._record import FrozenRecord, set_field

Regs = tuple[int, int, int, int]
CpuidFn = Callable[[int, int], Regs]
XgetbvFn = Callable[[int], int]

# klauspost Vendor constants by the vendor string of leaf 0 / leaf 0x40000000.
VENDOR_BY_STRING = {
    "AMDisbetter!": "AMD", "AuthenticAMD": "AMD", "CentaurHauls": "VIA",
    "GenuineIntel": "Intel", "TransmetaCPU": "Transmeta", "GenuineTMx86": "Transmeta",
    "Geode by NSC": "NSC", "VIA VIA VIA ": "VIA", "KVMKVMKVM": "KVM", "Linux KVM Hv": "KVM",
    "TCGTCGTCGTCG": "QEMU", "Microsoft Hv": "MSVM", "VMwareVMware": "VMware",
    "XenVMMXenVMM": "XenHVM", "bhyve bhyve ": "Bhyve", "HygonGenuine": "Hygon",
    "Vortex86 SoC": "SiS", "SiS SiS SiS ": "SiS", "RiseRiseRise": "SiS",
    "Genuine  RDC": "RDC", "QNXQVMBSQG": "QNX", "ACRNACRNACRN": "ACRN",
    "SRESRESRESRE": "SRE", "Apple VZ": "Apple",
}
VENDOR_UNKNOWN = "VendorUnknown"

_LEVEL1 = {"CMOV", "CMPXCHG8", "X87", "FXSR", "MMX", "SSE", "SSE2"}
_LEVEL2 = _LEVEL1 | {"CX16", "LAHF", "POPCNT", "SSE3", "SSE4", "SSE42", "SSSE3"}
_LEVEL3 = _LEVEL2 | {"AVX", "AVX2", "BMI1", "BMI2", "F16C", "FMA3", "LZCNT", "MOVBE", "OSXSAVE"}
_LEVEL4 = _LEVEL3 | {"AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL"}

# (register index, bit, name) tables for plain bit tests. Register index: 0 eax .. 3 edx.
_LEAF1 = [
    (3, 0, "X87"), (3, 8, "CMPXCHG8"), (3, 11, "SYSEE"), (3, 15, "CMOV"), (3, 23, "MMX"),
    (3, 24, "FXSR"), (3, 25, "FXSROPT"), (3, 25, "SSE"), (3, 26, "SSE2"), (2, 0, "SSE3"),
    (2, 5, "VMX"), (2, 9, "SSSE3"), (2, 19, "SSE4"), (2, 20, "SSE42"), (2, 25, "AESNI"),
    (2, 1, "CLMUL"), (2, 22, "MOVBE"), (2, 23, "POPCNT"), (2, 30, "RDRAND"),
    (2, 31, "HYPERVISOR"), (2, 29, "F16C"), (2, 13, "CX16"),
    # Go's `c&1<<26 != 0` is `(c&1)<<26 != 0`: both follow bit 0.
    (2, 0, "XSAVE"), (2, 0, "OSXSAVE"),
]
_LEAF7_0 = [
    (1, 2, "SGX"), (1, 4, "HLE"), (1, 9, "ERMS"), (1, 11, "RTM"), (1, 14, "MPX"),
    (1, 18, "RDSEED"), (1, 19, "ADX"), (1, 29, "SHA"),
    (2, 5, "WAITPKG"), (2, 7, "CETSS"), (2, 8, "GFNI"), (2, 9, "VAES"), (2, 10, "VPCLMULQDQ"),
    (2, 13, "TME"), (2, 25, "CLDEMOTE"), (2, 23, "KEYLOCKER"), (2, 27, "MOVDIRI"),
    (2, 28, "MOVDIR64B"), (2, 29, "ENQCMD"), (2, 30, "SGXLC"),
    (3, 4, "FSRM"), (3, 9, "SRBDS_CTRL"), (3, 10, "MD_CLEAR"), (3, 11, "RTM_ALWAYS_ABORT"),
    (3, 14, "SERIALIZE"), (3, 15, "HYBRID_CPU"), (3, 16, "TSXLDTRK"), (3, 18, "PCONFIG"),
    (3, 20, "CETIBT"), (3, 26, "IBPB"), (3, 27, "STIBP"), (3, 28, "FLUSH_L1D"),
    (3, 29, "IA32_ARCH_CAP"), (3, 30, "IA32_CORE_CAP"), (3, 31, "SPEC_CTRL_SSBD"),
]
_LEAF7_1 = [
    (0, 1, "SM3_X86"), (0, 2, "SM4_X86"), (0, 7, "CMPCCXADD"), (0, 10, "MOVSB_ZL"),
    (0, 11, "STOSB_SHORT"), (0, 12, "CMPSB_SCADBS_SHORT"),
    # FRED is in the cpuid release NFD pins (v2.4.0), ungated.
    (0, 17, "FRED"),
    (0, 22, "HRESET"), (0, 23, "AVXIFMA"), (0, 26, "LAM"),
    (3, 4, "AVXVNNIINT8"), (3, 5, "AVXNECONVERT"), (3, 6, "AMXTRANSPOSE"), (3, 7, "AMXTF32"),
    (3, 8, "AMXCOMPLEX"), (3, 10, "AVXVNNIINT16"), (3, 14, "PREFETCHI"), (3, 19, "AVX10"),
    (3, 21, "APX_F"),
]
_AVX512 = [  # (leaf: 0 = (7,0), 1 = (7,1)), register, bit, name
    (0, 1, 16, "AVX512F"), (0, 1, 17, "AVX512DQ"), (0, 1, 21, "AVX512IFMA"),
    (0, 1, 26, "AVX512PF"), (0, 1, 27, "AVX512ER"), (0, 1, 28, "AVX512CD"),
    (0, 1, 30, "AVX512BW"), (0, 1, 31, "AVX512VL"), (0, 2, 1, "AVX512VBMI"),
    (0, 2, 3, "AMXFP8"), (0, 2, 6, "AVX512VBMI2"), (0, 2, 11, "AVX512VNNI"),
    (0, 2, 12, "AVX512BITALG"), (0, 2, 14, "AVX512VPOPCNTDQ"), (0, 3, 8, "AVX512VP2INTERSECT"),
    (0, 3, 22, "AMXBF16"), (0, 3, 23, "AVX512FP16"), (0, 3, 24, "AMXTILE"),
    (0, 3, 25, "AMXINT8"), (1, 0, 5, "AVX512BF16"), (1, 0, 19, "WRMSRNS"),
    (1, 0, 21, "AMXFP16"), (1, 0, 27, "MSRLIST"),
]
_LEAF7_2 = [(3, 0, "PSFD"), (3, 1, "IDPRED_CTRL"), (3, 2, "RRSBA_CTRL"), (3, 4, "BHI_CTRL"),
            (3, 5, "MCDT_NO")]
_LEAF_D_1 = [(0, 0, "XSAVEOPT"), (0, 1, "XSAVEC"), (0, 2, "XGETBV1"), (0, 3, "XSAVES")]
_EXT1 = [
    (2, 0, "LAHF"), (2, 2, "SVM"), (2, 6, "SSE4A"), (2, 10, "IBS"), (2, 22, "TOPEXT"),
    (3, 11, "SYSCALL"), (3, 20, "NX"), (3, 22, "MMXEXT"), (3, 23, "MMX"), (3, 24, "FXSR"),
    (3, 25, "FXSROPT"), (3, 27, "RDTSCP"), (3, 30, "AMD3DNOWEXT"), (3, 31, "AMD3DNOW"),
]
_EXT7 = [(1, 0, "MCAOVERFLOW"), (1, 1, "SUCCOR"), (1, 2, "HWA"), (3, 9, "CPBOOST")]
_EXT8 = [
    (1, 28, "PSFD"), (1, 27, "CPPC"), (1, 24, "SPEC_CTRL_SSBD"), (1, 23, "PPIN"),
    (1, 21, "TLB_FLUSH_NESTED"), (1, 20, "EFER_LMSLE_UNS"), (1, 19, "IBRS_PROVIDES_SMP"),
    (1, 18, "IBRS_PREFERRED"), (1, 17, "STIBP_ALWAYSON"), (1, 15, "STIBP"), (1, 14, "IBRS"),
    (1, 13, "INT_WBINVD"), (1, 12, "IBPB"), (1, 9, "WBNOINVD"), (1, 8, "MCOMMIT"),
    (1, 4, "RDPRU"), (1, 3, "INVLPGB"), (1, 1, "MSRIRC"), (1, 0, "CLZERO"),
]
_EXT_A = [(3, 0, "SVMNP"), (3, 1, "LBRVIRT"), (3, 2, "SVML"), (3, 3, "NRIPS"),
          (3, 4, "TSCRATEMSR"), (3, 5, "VMCBCLEAN"), (3, 6, "SVMFBASID"), (3, 7, "SVMDA"),
          (3, 10, "SVMPF"), (3, 12, "SVMPFT")]
_EXT_1A = [(0, 0, "FP128"), (0, 1, "MOVU"), (0, 2, "FP256")]
_EXT_1B = [(0, i, n) for i, n in enumerate(
    ["IBSFFV", "IBSFETCHSAM", "IBSOPSAM", "IBSRDWROPCNT", "IBSOPCNT", "IBSBRNTRGT",
     "IBSOPCNTEXT", "IBSRIPINVALIDCHK", "IBS_OPFUSE", "IBS_FETCH_CTLX", "IBS_OPDATA4",
     "IBS_ZEN4"])]
_EXT_1F = [(0, 0, "SME"), (0, 1, "SEV"), (0, 2, "MSR_PAGEFLUSH"), (0, 3, "SEV_ES"),
           (0, 4, "SEV_SNP"), (0, 5, "VMPL"), (0, 10, "SME_COHERENT"), (0, 11, "SEV_64BIT"),
           (0, 12, "SEV_RESTRICTED"), (0, 13, "SEV_ALTERNATIVE"), (0, 14, "SEV_DEBUGSWAP"),
           (0, 15, "IBS_PREVENTHOST"), (0, 16, "VTE"), (0, 24, "VMSA_REGPROT")]
_EXT_21 = [(0, 31, "SRSO_MSR_FIX"), (0, 30, "SRSO_USER_KERNEL_NO"), (0, 29, "SRSO_NO"),
           (0, 28, "IBPB_BRTYPE"), (0, 27, "SBPB"), (0, 23, "AVX512BMM"), (2, 1, "TSA_L1_NO"),
           (2, 2, "TSA_SQ_NO"), (0, 5, "TSA_VERW_CLEAR")]


class X86Info(FrozenRecord):
    """What NFD's cpu source takes from the cpuid library on amd64."""

    __slots__ = (
        "avx10_level", "family", "features", "hypervisor_string", "hypervisor_vendor", "model",
        "sgx_epc_bytes", "vendor",
    )
    features: frozenset[str]
    vendor: str  # klauspost Vendor name: Intel, AMD, ... or VendorUnknown
    family: int
    model: int
    hypervisor_vendor: str  # Vendor name, or VendorUnknown
    hypervisor_string: str  # raw leaf 0x40000000 string
    avx10_level: int
    sgx_epc_bytes: int

    def __init__(
        self,
        features: frozenset[str],
        vendor: str,
        family: int,
        model: int,
        hypervisor_vendor: str,
        hypervisor_string: str,
        avx10_level: int,
        sgx_epc_bytes: int,
    ) -> None:
        set_field(self, "features", features)
        set_field(self, "vendor", vendor)
        set_field(self, "family", family)
        set_field(self, "model", model)
        set_field(self, "hypervisor_vendor", hypervisor_vendor)
        set_field(self, "hypervisor_string", hypervisor_string)
        set_field(self, "avx10_level", avx10_level)
        set_field(self, "sgx_epc_bytes", sgx_epc_bytes)

    def x64_level(self) -> int:
        """``CPUInfo.X64Level()``: 0 without SYSCALL/SYSEE, else the highest full level."""
        if not {"SYSEE", "SYSCALL"} & self.features:
            return 0
        for level, need in ((4, _LEVEL4), (3, _LEVEL3), (2, _LEVEL2), (1, _LEVEL1)):
            if need <= self.features:
                return level
        return 0


def vendor_string(*regs: int) -> str:
    """``valAsString``: little-endian bytes of the registers, cut at the first NUL."""
    raw = b"".join(r.to_bytes(4, "little") for r in regs)
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _set_bits(out: set[str], regs: Regs, table: list[tuple[int, int, str]]) -> None:
    for reg, bit, name in table:
        if regs[reg] >> bit & 1:
            out.add(name)


def family_model(cpuid: CpuidFn, max_leaf: int) -> tuple[int, int]:
    """``familyModel()``: family with extended family for 0xF, model extended for 6 and 0xF."""
    if max_leaf < 1:
        return 0, 0
    eax = cpuid(1, 0)[0]
    family = eax >> 8 & 0xF
    ext = family == 6
    if family == 0xF:
        family += eax >> 20 & 0xFF
        ext = True
    model = eax >> 4 & 0xF
    if ext:
        model += eax >> 12 & 0xF0
    return family, model


def _threads_per_core(cpuid: CpuidFn, max_leaf: int, vendor: str, family: int) -> int:
    if max_leaf < 4 or vendor not in ("Intel", "AMD"):
        return 1
    if max_leaf < 0xB:
        if vendor != "Intel":
            return 1
        _, b, _, d = cpuid(1, 0)
        if d >> 28 & 1:
            logical = b >> 16 & 0xFF
            if logical > 1:
                return logical // ((cpuid(4, 0)[0] >> 26) + 1)
        return 1
    b = cpuid(0xB, 0)[1]
    if b & 0xFFFF == 0:
        if vendor == "AMD" and cpuid(1, 0)[3] >> 28 & 1 and family >= 23:
            if cpuid(0x80000000, 0)[0] >= 0x8000001E:
                return (cpuid(0x8000001E, 0)[1] >> 8 & 0xFF) + 1
            return 2
        return 1
    return b & 0xFFFF


def _support(cpuid: CpuidFn, xgetbv: XgetbvFn, max_leaf: int, vendor: str,
             family: int, model: int) -> set[str]:
    fs: set[str] = set()
    if max_leaf < 1:
        return fs
    leaf1 = cpuid(1, 0)
    c, d = leaf1[2], leaf1[3]
    _set_bits(fs, leaf1, _LEAF1)
    if vendor in ("Intel", "AMD") and d >> 28 & 1 and max_leaf >= 4 and \
            _threads_per_core(cpuid, max_leaf, vendor, family) > 1:
        fs.add("HTT")
    avx_check = 1 << 26 | 1 << 27 | 1 << 28
    if c & avx_check == avx_check and xgetbv(0) & 0x6 == 0x6:
        fs.add("AVX")
        if (vendor == "Intel" and family == 6 and model < 60) or (
                vendor == "AMD" and (family < 23 or (family == 23 and model < 49))):
            fs.add("AVXSLOW")
    if c & (1 << 12 | 1 << 27) == 1 << 12 | 1 << 27:
        fs.add("FMA3")
    if max_leaf >= 7:
        l70 = cpuid(7, 0)
        ebx = l70[1]
        if "AVX" in fs and ebx & 0x20:
            fs.add("AVX2")
        if ebx & 0x8:
            fs.add("BMI1")
            if ebx & 0x100:
                fs.add("BMI2")
        _set_bits(fs, l70, _LEAF7_0)
        l71 = cpuid(7, 1)
        if "AVX" in fs and l71[0] >> 4 & 1:
            fs.add("AVXVNNI")
        _set_bits(fs, l71, _LEAF7_1)
        if c & (1 << 26 | 1 << 27) == 1 << 26 | 1 << 27:
            xcr0 = xgetbv(0)
            if xcr0 >> 5 & 7 == 7 and xcr0 >> 1 & 3 == 3:
                for leaf, reg, bit, name in _AVX512:
                    if (l70 if leaf == 0 else l71)[reg] >> bit & 1:
                        fs.add(name)
        _set_bits(fs, cpuid(7, 2), _LEAF7_2)
        if "SGX" in fs and cpuid(0x12, 0)[0] >> 12 & 1:
            fs.add("SGXPQC")
        if "KEYLOCKER" in fs and max_leaf >= 0x19 and cpuid(0x19, 0)[1] & 5 == 5:
            fs.add("KEYLOCKERW")
        if "AVX10" in fs and max_leaf >= 0x24:
            _set_bits(fs, cpuid(0x24, 0), [(1, 16, "AVX10_128"), (1, 17, "AVX10_256"),
                                           (1, 18, "AVX10_512")])
    if max_leaf >= 0xD and "XSAVE" in fs:
        _set_bits(fs, cpuid(0xD, 1), _LEAF_D_1)
    _support_extended(cpuid, fs, vendor, family, model)
    if max_leaf >= 0x20 and cpuid(0x4000000C, 0)[1] == 0xBE3:
        fs.add("TDX_GUEST")  # Hyper-V hides TDX behind its own leaf
    if max_leaf >= 0x21:
        _, b, c21, d21 = cpuid(0x21, 0)
        if vendor_string(b, d21, c21) == "IntelTDX    ":
            fs.add("TDX_GUEST")
    return fs


def _support_extended(cpuid: CpuidFn, fs: set[str], vendor: str, family: int,
                      model: int) -> None:
    max_ext = cpuid(0x80000000, 0)[0]
    if max_ext >= 0x80000001:
        ext1 = cpuid(0x80000001, 0)
        if ext1[2] >> 5 & 1:
            fs.update(("LZCNT", "POPCNT"))
        _set_bits(fs, ext1, _EXT1)
        if "AVX" in fs:
            _set_bits(fs, ext1, [(2, 11, "XOP"), (2, 16, "FMA4")])
    for leaf, table in ((0x80000007, _EXT7), (0x80000008, _EXT8), (0x8000001A, _EXT_1A)):
        if max_ext >= leaf:
            _set_bits(fs, cpuid(leaf, 0), table)
    if "SVM" in fs and max_ext >= 0x8000000A:
        _set_bits(fs, cpuid(0x8000000A, 0), _EXT_A)
    if max_ext >= 0x8000001B and "IBS" in fs:
        _set_bits(fs, cpuid(0x8000001B, 0), _EXT_1B)
    if vendor == "AMD":
        if max_ext >= 0x8000001F:
            _set_bits(fs, cpuid(0x8000001F, 0), _EXT_1F)
        if max_ext >= 0x80000021:
            _set_bits(fs, cpuid(0x80000021, 0), _EXT_21)
        if family < 0x19 or (family == 0x1A and (model <= 0x4F or 0x60 <= model <= 0x7F)):
            fs.update(("TSA_L1_NO", "TSA_SQ_NO"))


def _pmu(cpuid: CpuidFn, max_leaf: int, fs: set[str]) -> None:
    """``parseLeaf0AH``: fixed-counter flags (note the EBX bit order differs from the names)."""
    if max_leaf < 0xA:
        return
    eax, ebx, _, edx = cpuid(0xA, 0)
    version = eax & 0xFF
    fixed = edx & 0x1F if version > 1 else 0
    if version == 0:
        return
    names = ("PMU_FIXEDCOUNTER_INSTRUCTIONS", "PMU_FIXEDCOUNTER_CYCLES",
             "PMU_FIXEDCOUNTER_REFCYCLES", "PMU_FIXEDCOUNTER_TOPDOWN_SLOTS")
    if ebx == 0:
        if fixed in (3, 4):
            fs.update(names[:fixed])
    else:
        fs.update(name for bit, name in enumerate(names) if not ebx >> bit & 1)


def _sgx_epc(cpuid: CpuidFn) -> int:
    total = 0
    for sub in range(2, 10):
        eax, _, ecx, edx = cpuid(0x12, sub)
        kind = eax & 0xF
        if kind == 0:
            break
        if kind == 1:
            total += (ecx & 0xFFFFF000) + ((edx & 0xFFFFF) << 32)
    return total


def x86_info(cpuid: CpuidFn, xgetbv: XgetbvFn) -> X86Info:
    """Everything ``addInfo`` computes that NFD uses, from a CPUID implementation."""
    max_leaf = cpuid(0, 0)[0]
    _, b0, c0, d0 = cpuid(0, 0)
    vendor = VENDOR_BY_STRING.get(vendor_string(b0, d0, c0), VENDOR_UNKNOWN)
    family, model = family_model(cpuid, max_leaf)
    fs = _support(cpuid, xgetbv, max_leaf, vendor, family, model)
    _, hb, hc, hd = cpuid(0x40000000, 0)
    hv_string = vendor_string(hb, hc, hd)
    avx10 = cpuid(0x24, 0)[1] & 0xFF if max_leaf >= 0x24 and "AVX10" in fs else 0
    epc = _sgx_epc(cpuid) if "SGX" in fs else 0
    _pmu(cpuid, max_leaf, fs)
    return X86Info(
        features=frozenset(fs), vendor=vendor, family=family, model=model,
        hypervisor_vendor=VENDOR_BY_STRING.get(hv_string, VENDOR_UNKNOWN),
        hypervisor_string=hv_string, avx10_level=avx10, sgx_epc_bytes=epc,
    )
