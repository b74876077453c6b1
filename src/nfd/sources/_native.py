"""Reading CPU identification straight from the processor or the kernel.

NFD reads ``cpu.cpuid`` from the CPUID instruction on x86-64 (through its
cpuid library) and from ``getauxval(AT_HWCAP/AT_HWCAP2)`` elsewhere. Python has
neither, so on x86-64 a few bytes of machine code are placed in an executable
anonymous mapping and called through ctypes (the technique py-cpuinfo uses);
on other architectures the same HWCAP words are read from ``/proc/self/auxv``.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import sys

from nfd.sources._hostfs import HostFS
from nfd.sources._x86 import Regs

# void cpuid(uint32 leaf (edi), uint32 subleaf (esi), uint32 out[4] (rdx))
_CPUID_CODE = bytes.fromhex(
    "53"          # push rbx        (callee-saved, CPUID clobbers it)
    "4989d0"      # mov r8, rdx
    "89f8"        # mov eax, edi
    "89f1"        # mov ecx, esi
    "0fa2"        # cpuid
    "418900"      # mov [r8], eax
    "41895804"    # mov [r8+4], ebx
    "41894808"    # mov [r8+8], ecx
    "4189500c"    # mov [r8+12], edx
    "5b"          # pop rbx
    "c3"          # ret
)
# uint64 xgetbv(uint32 index (edi)): edx:eax of XGETBV
_XGETBV_CODE = bytes.fromhex(
    "89f9"        # mov ecx, edi
    "0f01d0"      # xgetbv
    "48c1e220"    # shl rdx, 32
    "4809d0"      # or rax, rdx
    "c3"          # ret
)

X86_64_MACHINES = frozenset({"x86_64", "amd64", "AMD64"})


class CpuidUnavailable(Exception):
    """The CPUID instruction cannot be executed from this process."""


class CpuidInstruction:
    """Executes CPUID and XGETBV on the CPU this process runs on.

    Results are memoised per (leaf, subleaf): NFD also takes one snapshot.
    Call :meth:`close` (or use as a context manager) to unmap the code page.
    """

    def __init__(self) -> None:
        if os.uname().machine not in X86_64_MACHINES or sys.maxsize <= 2**32:
            raise CpuidUnavailable(f"not an x86-64 process ({os.uname().machine})")
        code = _CPUID_CODE + b"\x90" * (32 - len(_CPUID_CODE)) + _XGETBV_CODE
        try:
            self._page = mmap.mmap(-1, mmap.PAGESIZE,
                                   prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        except (OSError, ValueError) as exc:  # W^X policies refuse RWX mappings
            raise CpuidUnavailable(f"cannot map executable memory: {exc}") from exc
        self._page.write(code)
        self._anchor = ctypes.c_char.from_buffer(self._page)
        base = ctypes.addressof(self._anchor)
        self._cpuid = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32,
                                       ctypes.POINTER(ctypes.c_uint32))(base)
        self._xgetbv = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint32)(base + 32)
        self._cache: dict[tuple[int, int], Regs] = {}

    def cpuid(self, leaf: int, subleaf: int = 0) -> Regs:
        """EAX, EBX, ECX, EDX of CPUID(leaf, subleaf)."""
        key = (leaf, subleaf)
        hit = self._cache.get(key)
        if hit is None:
            out = (ctypes.c_uint32 * 4)()
            self._cpuid(leaf, subleaf, out)
            hit = self._cache[key] = (out[0], out[1], out[2], out[3])
        return hit

    def xgetbv(self, index: int) -> int:
        """XCR ``index``; only call when CPUID.1:ECX.OSXSAVE is set (else #UD)."""
        if not self.cpuid(1, 0)[2] >> 27 & 1:
            return 0  # never fault: the caller's gating makes this unreachable
        return int(self._xgetbv(index))

    def close(self) -> None:
        """Release the executable page."""
        del self._cpuid, self._xgetbv, self._anchor
        self._page.close()

    def __enter__(self) -> CpuidInstruction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


AT_HWCAP = 16
AT_HWCAP2 = 26


def parse_auxv(data: bytes) -> dict[int, int]:
    """The (type -> value) pairs of an ``auxv`` blob of native-width words."""
    fmt = "@QQ" if struct.calcsize("P") == 8 else "@II"
    size = struct.calcsize(fmt)
    out: dict[int, int] = {}
    for off in range(0, len(data) - size + 1, size):
        kind, value = struct.unpack_from(fmt, data, off)
        if kind == 0:
            break
        out[kind] = value
    return out


def read_hwcaps(path: str = "/proc/self/auxv") -> tuple[int, int] | None:
    """AT_HWCAP and AT_HWCAP2 of this process, or None if auxv cannot be read."""
    try:
        aux = parse_auxv(HostFS().read_bytes(path))
    except OSError:
        return None
    return aux.get(AT_HWCAP, 0), aux.get(AT_HWCAP2, 0)
