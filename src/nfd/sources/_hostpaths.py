"""Where host files are read from, and the small readers every source shares.

NFD (``pkg/utils/hostpath``) has one link-time prefix, ``/`` for host builds
and ``/host-`` in its container image, applied to exactly seven directories:
``sys``, ``proc`` (only ``swaps`` is read through it), ``etc``, ``boot``,
``lib``, ``usr`` and ``var``. Everything else (``/proc/modules``,
``/proc/sys/kernel/osrelease``, ``/proc/config.gz``, ``features.d``, ...) is
read at its literal path. :class:`HostPaths` reproduces that with ``prefix``
and adds ``root``, which maps *every* path (literal ones too) under a
directory holding a captured tree, a chroot or a mounted image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from nfd.errors import UsageError

HOST_DIRS = ("sys", "proc", "etc", "boot", "lib", "usr", "var")

# Go's unicode.IsSpace set: str.strip() would also drop \x1c-\x1f, which Go keeps.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@dataclass(frozen=True)
class HostPaths:
    """Where each host directory is read from.

    ``root``: every path, literal ones and ``/proc`` included, maps under it.
    ``prefix``: NFD's hostpath prefix (``/`` or ``/host-``), for the seven NFD dirs only.
    """

    root: str = "/"
    prefix: str = "/"

    @classmethod
    def from_options(cls, host_root: str | None, host_prefix: str | None) -> HostPaths:
        """Validate ``--host-root`` / ``--host-prefix`` (at most one; the target must exist)."""
        if host_root is not None and host_prefix is not None:
            raise UsageError("`host_root` and `host_prefix` cannot be used together",
                             arguments=("host_root", "host_prefix"))
        if host_root is not None:
            if not host_root:
                raise UsageError("`host_root`: empty path", arguments=("host_root",))
            if not os.path.isdir(host_root):
                raise UsageError(f"`host_root` {host_root}: not a directory",
                                 arguments=("host_root",))
            return cls(root=os.path.abspath(host_root))
        if host_prefix is not None:
            if not host_prefix.startswith("/"):
                raise UsageError(f"`host_prefix` {host_prefix!r}: must start with '/' "
                                 "(NFD's container convention is /host-)",
                                 arguments=("host_prefix",))
            if not os.path.isdir(host_prefix + "sys"):
                raise UsageError(f"`host_prefix` {host_prefix}: {host_prefix}sys is not a "
                                 "directory (mount the host's /sys there)",
                                 arguments=("host_prefix",))
            return cls(prefix=host_prefix)
        return cls()

    def literal(self, path: str) -> str:
        """A path NFD opens as written (``/proc/modules``), mapped under ``root``."""
        if self.root == "/":
            return path
        return self.root + path

    def _host(self, name: str, rel: str) -> str:
        base = self.literal(self.prefix + name)
        return f"{base}/{rel}" if rel else base

    def sys(self, rel: str = "") -> str:
        """``SysfsDir.Path(rel)``."""
        return self._host("sys", rel)

    def proc(self, rel: str = "") -> str:
        """``ProcDir.Path(rel)``: NFD reads only ``swaps`` this way."""
        return self._host("proc", rel)

    def etc(self, rel: str = "") -> str:
        """``EtcDir.Path(rel)``."""
        return self._host("etc", rel)

    def boot(self, rel: str = "") -> str:
        """``BootDir.Path(rel)``."""
        return self._host("boot", rel)

    def lib(self, rel: str = "") -> str:
        """``LibDir.Path(rel)``."""
        return self._host("lib", rel)

    def usr(self, rel: str = "") -> str:
        """``UsrDir.Path(rel)``."""
        return self._host("usr", rel)

    @property
    def is_live(self) -> bool:
        """True when the CPU running this process is the host's CPU (no ``root``)."""
        return self.root == "/"


def go_trim_space(text: str) -> str:
    """``strings.TrimSpace``."""
    return text.strip(_GO_SPACE)


def decode(data: bytes) -> str:
    """Bytes from sysfs/procfs as text (invalid UTF-8 becomes U+FFFD, as Go's JSON does)."""
    return data.decode("utf-8", errors="replace")


def read_bytes(path: str) -> bytes | None:
    """``os.ReadFile``; None on any error (the callers omit what they cannot read)."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def read_text(path: str) -> str | None:
    """The file as text, or None when unreadable."""
    data = read_bytes(path)
    return None if data is None else decode(data)


def read_trimmed(path: str) -> str | None:
    """The file's text with Go's TrimSpace applied, or None when unreadable."""
    text = read_text(path)
    return None if text is None else go_trim_space(text)


def list_dir(path: str) -> list[str]:
    """``os.ReadDir`` names: sorted byte-wise; raises OSError like Go returns it."""
    return sorted(os.listdir(path), key=os.fsencode)


def exists(path: str) -> bool:
    """``os.Stat`` succeeds (symlinks followed)."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def stat_error(path: str) -> OSError | None:
    """The error ``os.Stat`` would give, or None."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc
    return None


def read_attrs(base: str, names: tuple[str, ...], attrs: dict[str, str]) -> dict[str, str]:
    """Trimmed contents of the readable files, keyed by base name (unreadable ones left out)."""
    for name in names:
        text = read_text(f"{base}/{name}")
        if text is not None:
            attrs[name.rsplit("/", 1)[-1]] = go_trim_space(text)
    return attrs


def listing_error(exc: OSError) -> str:
    """``path: reason`` of a failed directory listing."""
    return f"{exc.filename}: {exc.strerror or exc}"
