"""Platforms (``os/arch[/variant]``) and picking one manifest out of an image index.

The text form follows NFD's ``--platform`` (``os[/arch[/variant]][:os_version]``),
checked as containerd's ``platforms.Parse`` checks it (components of
``[A-Za-z0-9_-]``; a lone word is an OS, else an architecture, else an error),
and stricter in one way: the OS and architecture must be ones Go knows
(``GOOS``/``GOARCH``, which OCI platforms use), so a typo fails at once instead
of as a registry error. Matching follows containerd's normalisation (``aarch64``
is ``arm64``, whose default variant ``v8`` may be left out).
"""

from __future__ import annotations

import os
import re
import sys

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.errors import UsageError

if TYPE_CHECKING:
    from typing import Any

# Python's machine names to Go's GOARCH (and variant), as OCI platforms use them.
_MACHINE_TO_GO: dict[str, tuple[str, str | None]] = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
    "mips64": ("mips64le", None),
}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
# Go's `go tool dist list` vocabulary (GOOS, GOARCH), as the OCI image spec asks for.
KNOWN_OS = frozenset({
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
    "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
})
KNOWN_ARCH = frozenset({
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips",
    "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le",
    "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
})
_COMPONENT = re.compile(r"[A-Za-z0-9_-]+")
MAX_PLATFORM_CHARS = 50  # containerd's bound on a specifier


class Platform(FrozenRecord):
    """An OCI platform: operating system, architecture, optional variant and OS version."""

    __slots__ = ("architecture", "os", "os_version", "variant")
    os: str
    architecture: str
    variant: str | None
    os_version: str | None

    def __init__(
        self,
        os: str,
        architecture: str,
        variant: str | None = None,
        os_version: str | None = None,
    ) -> None:
        set_field(self, "os", os)
        set_field(self, "architecture", architecture)
        set_field(self, "variant", variant)
        set_field(self, "os_version", os_version)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os[/arch[/variant]][:os_version]``; a lone architecture means this
        host's OS, a lone OS this host's architecture. Raises :class:`UsageError`."""
        if len(text) > MAX_PLATFORM_CHARS:
            raise UsageError(f"invalid platform {text[:MAX_PLATFORM_CHARS]!r}...: over "
                             f"{MAX_PLATFORM_CHARS} characters")
        base, _, os_version = text.partition(":")
        parts = [p.strip().lower() for p in base.split("/")]
        if len(parts) > 3:
            raise UsageError(f"invalid platform {text!r}: expected os[/arch[/variant]]")
        if not parts[0]:
            raise UsageError(f"invalid platform {text!r}: OS cannot be empty")
        if len(parts) > 1 and not parts[1]:
            raise UsageError(f"invalid platform {text!r}: architecture cannot be empty")
        for part in parts:
            if part and not _COMPONENT.fullmatch(part):
                raise UsageError(f"invalid platform {text!r}: {part!r} is not a platform "
                                 "component (letters, digits, '_' and '-')")
        if len(parts) == 1:
            return cls._from_one_word(text, parts[0], os_version)
        arch, implied = _MACHINE_TO_GO.get(parts[1], (parts[1], None))
        _check_known(text, parts[0], arch)
        variant = parts[2] if len(parts) > 2 else None
        return cls(parts[0], arch, variant or implied or None, os_version or None)

    @classmethod
    def _from_one_word(cls, text: str, word: str, os_version: str) -> Platform:
        host = host_platform()
        if word in KNOWN_OS:
            return cls(word, host.architecture, host.variant, os_version or None)
        arch, implied = _MACHINE_TO_GO.get(word, (word, None))
        if arch in KNOWN_ARCH:
            return cls(host.os, arch, implied, os_version or None)
        raise UsageError(f"invalid platform {text!r}: unknown operating system or "
                         "architecture (expected os[/arch[/variant]], e.g. linux/amd64)")

    @classmethod
    def from_obj(cls, obj: Any) -> Platform | None:
        """The ``platform`` object of an index entry, or ``None`` when absent or malformed."""
        if not isinstance(obj, dict):
            return None
        os_name, arch = obj.get("os"), obj.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str):
            return None
        variant = obj.get("variant")
        os_version = obj.get("os.version")
        return cls(
            os_name,
            arch,
            variant if isinstance(variant, str) and variant else None,
            os_version if isinstance(os_version, str) and os_version else None,
        )

    def matches(self, candidate: Platform) -> bool:
        """Whether an index entry's ``candidate`` platform satisfies this wanted one."""
        if (self.os, self.architecture) != (candidate.os, candidate.architecture):
            return False
        if self.variant is not None:
            default = _DEFAULT_VARIANT.get(self.architecture)
            have = candidate.variant or default
            if self.variant != have:
                return False
        return self.os_version is None or self.os_version == candidate.os_version

    def __str__(self) -> str:
        text = "/".join(p for p in (self.os, self.architecture, self.variant) if p)
        return f"{text}:{self.os_version}" if self.os_version else text


def _check_known(text: str, os_name: str, arch: str) -> None:
    if os_name not in KNOWN_OS:
        raise UsageError(f"invalid platform {text!r}: unknown operating system {os_name!r} "
                         "(expected one of Go's, e.g. linux, windows)")
    if arch not in KNOWN_ARCH:
        raise UsageError(f"invalid platform {text!r}: unknown architecture {arch!r} "
                         "(expected one of Go's, e.g. amd64, arm64)")


def _machine() -> str:
    """``platform.machine()`` without importing :mod:`platform` (a cold start's millisecond):
    on POSIX it is ``os.uname().machine``."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform

    return platform.machine()


def host_platform() -> Platform:
    """This machine's platform, spelled as OCI (Go) spells it."""
    os_name = "windows" if sys.platform.startswith("win") else sys.platform
    if os_name.startswith("linux"):
        os_name = "linux"
    machine = _machine().lower()
    arch, variant = _MACHINE_TO_GO.get(machine, (machine, None))
    return Platform(os_name, arch, variant)


def select_platform(manifests: list[dict[str, Any]], wanted: Platform) -> dict[str, Any] | None:
    """The first index entry whose platform satisfies ``wanted`` (OCI index order is preference).

    An exact variant match is preferred over one that only matches by default variant.
    """
    matching = [
        entry
        for entry in manifests
        if (have := Platform.from_obj(entry.get("platform"))) is not None and wanted.matches(have)
    ]
    if not matching:
        return None
    if wanted.variant is None:
        return matching[0]
    exact = [
        e for e in matching
        if (Platform.from_obj(e.get("platform")) or wanted).variant == wanted.variant
    ]
    return (exact or matching)[0]


def describe_platforms(manifests: list[dict[str, Any]]) -> str:
    """The platforms an index offers, for an error message."""
    names = sorted({str(p) for e in manifests if (p := Platform.from_obj(e.get("platform")))})
    return ", ".join(names) or "none"
