"""The ``kernel`` source: version, config, loaded/enabled modules, SELinux, KVM.

Mirrors NFD ``source/kernel`` (kernel.go, version.go, kconfig.go, modules.go,
selinux.go, kvm.go). The kernel release always comes from the literal
``/proc/sys/kernel/osrelease``; config and built-in module lists go through
the host prefix (``/usr``, ``/boot``, ``/lib``) except the literal
``/proc/config.gz`` and ``/lib/modules/<ver>/build/.config``.
"""

from __future__ import annotations

import errno
import re

from nfd.api import Features
from nfd.sources._hostpaths import HostPaths, decode, go_trim_space

_VERSION_CHARS = re.compile(r"[^-A-Za-z0-9_.]", re.ASCII)
_VERSION_PARTS = re.compile(r"(\d+)(\.(\d+))?(\.(\d+))?(-.*)?", re.ASCII | re.DOTALL)


def kernel_release(host: HostPaths) -> str | None:
    """``getVersion()``: trimmed ``/proc/sys/kernel/osrelease`` (literal path)."""
    text = host.read_text(host.literal("/proc/sys/kernel/osrelease"))
    return None if text is None else go_trim_space(text)


def parse_kernel_version(raw: str) -> dict[str, str]:
    """``parseVersion``: sanitised ``full`` plus major/minor/revision when the pattern fits."""
    full = _VERSION_CHARS.sub("_", raw).strip("-_.")
    out = {"full": full}
    m = _VERSION_PARTS.fullmatch(full)
    if m:
        out.update(major=m.group(1), minor=m.group(3) or "", revision=m.group(5) or "")
    return out


def kconfig_candidates(host: HostPaths, release: str | None) -> list[str]:
    """NFD's kconfig search order (first readable wins)."""
    if release is None:
        return [host.literal("/proc/config.gz"), host.usr("src/linux/.config")]
    v = release
    return [
        host.literal("/proc/config.gz"),
        host.usr(f"src/linux-{v}/.config"),
        host.usr(f"src/linux-rt-{v}/.config"),
        host.usr("src/linux/.config"),
        host.usr(f"lib/modules/{v}/config"),
        host.usr(f"lib/ostree-boot/config-{v}"),
        host.usr(f"lib/kernel/config-{v}"),
        host.usr(f"src/linux-headers-{v}/.config"),
        host.literal(f"/lib/modules/{v}/build/.config"),
        host.usr(f"src/linux-rt-headers-{v}/.config"),
        host.boot(f"config-{v}"),
    ]


def _read_kconfig_file(host: HostPaths, path: str) -> bytes | None:
    return host.read_gzip(path) if path.endswith(".gz") else host.read_bytes(path)


def parse_kconfig(raw: bytes) -> dict[str, str]:
    """``CONFIG_<name>=<value>`` lines; value with surrounding ``"`` removed, nothing else."""
    out: dict[str, str] = {}
    for line in decode(raw).split("\n"):
        if line.startswith("CONFIG_"):
            name, sep, value = line.partition("=")
            if sep:
                out[name[7:]] = value.strip('"')
    return out


def loaded_modules(host: HostPaths) -> list[str] | None:
    """First field of each non-empty line of the literal ``/proc/modules``."""
    text = host.read_text(host.literal("/proc/modules"))
    if text is None:
        return None
    return [line.split()[0] for line in text.split("\n") if line.strip()]


def builtin_modules(host: HostPaths, release: str | None) -> list[str] | None:
    """Base names of the ``.ko`` lines of ``LibDir/modules/<ver>/modules.builtin``."""
    if release is None:
        return None
    text = host.read_text(host.lib(f"modules/{release}/modules.builtin"))
    if text is None:
        return None
    out = []
    for line in text.split("\n"):
        line = go_trim_space(line)
        if line.endswith(".ko"):
            out.append(line.rsplit("/", 1)[-1][:-3])
    return out


def selinux_enabled(host: HostPaths) -> bool | None:
    """``SelinuxEnabled``: None when NFD would log an error and omit the feature."""
    if host.stat_error(host.sys("fs")) is not None:
        return None
    try:
        first = host.read_file(host.sys("fs/selinux/enforce"))[:1]
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return first == b"1"


def kvm_enabled(host: HostPaths) -> bool | None:
    """``KvmEnabled``: does ``/sys/devices/virtual/misc/kvm`` exist (None on other errors)."""
    err = host.stat_error(host.sys("devices/virtual/misc/kvm"))
    if err is None:
        return True
    return False if err.errno == errno.ENOENT else None


def discover_kernel(host: HostPaths) -> Features:
    """The kernel source's features (short names, e.g. ``version``)."""
    features = Features()
    release = kernel_release(host)
    if release is not None:
        features.attributes["version"] = parse_kernel_version(release)
    for path in kconfig_candidates(host, release):
        raw = _read_kconfig_file(host, path)
        if raw is not None:
            features.attributes["config"] = parse_kconfig(raw)
            break
    loaded = loaded_modules(host)
    if loaded is not None:
        features.flags["loadedmodule"] = set(loaded)
    builtin = builtin_modules(host, release)
    if builtin is not None:
        # Absent as a whole when modules.builtin is unreadable, even with loaded modules.
        features.flags["enabledmodule"] = set(loaded or []) | set(builtin)
    selinux = selinux_enabled(host)
    if selinux is not None:
        features.attributes["selinux"] = {"enabled": "true" if selinux else "false"}
    kvm = kvm_enabled(host)
    if kvm is not None:
        features.attributes["kvm"] = {"enabled": "true" if kvm else "false"}
    return features
