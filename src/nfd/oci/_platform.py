"""Platforms (``os/arch[/variant]``) and picking one manifest out of an image index.

The text form follows NFD's ``--platform`` (``os[/arch[/variant]][:os_version]``);
matching follows containerd's normalisation (``aarch64`` is ``arm64``, whose
default variant ``v8`` may be left out).
"""

from __future__ import annotations

import platform as _host
import sys
from dataclasses import dataclass
from typing import Any

from nfd.errors import UsageError

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


@dataclass(frozen=True)
class Platform:
    """An OCI platform: operating system, architecture, optional variant and OS version."""

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os[/arch[/variant]][:os_version]``; a missing arch means this host's."""
        base, _, os_version = text.partition(":")
        parts = base.split("/")
        if len(parts) > 3:
            raise UsageError(
                f"invalid platform {text!r}: expected os[/arch[/variant]]"
            )
        os_name = parts[0].strip().lower()
        host = host_platform()
        # A missing arch is this host's, variant included (an armv7l host is arm/v7).
        arch = parts[1].strip().lower() if len(parts) > 1 else host.architecture
        variant = parts[2].strip().lower() if len(parts) > 2 else (
            None if len(parts) > 1 else host.variant)
        if not os_name:
            raise UsageError(f"invalid platform {text!r}: OS cannot be empty")
        if not arch:
            raise UsageError(f"invalid platform {text!r}: architecture cannot be empty")
        arch, implied = _MACHINE_TO_GO.get(arch, (arch, None))
        return cls(os_name, arch, variant or implied or None, os_version or None)

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


def host_platform() -> Platform:
    """This machine's platform, spelled as OCI (Go) spells it."""
    os_name = "windows" if sys.platform.startswith("win") else sys.platform
    if os_name.startswith("linux"):
        os_name = "linux"
    machine = _host.machine().lower()
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
