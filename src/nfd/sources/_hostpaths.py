"""Where host files are read from, and the bounded readers every source shares.

NFD (``pkg/utils/hostpath``) has one link-time prefix, ``/`` for host builds
and ``/host-`` in its container image, applied to exactly seven directories:
``sys``, ``proc`` (only ``swaps`` is read through it), ``etc``, ``boot``,
``lib``, ``usr`` and ``var``. Everything else (``/proc/modules``,
``/proc/sys/kernel/osrelease``, ``/proc/config.gz``, ``features.d``, ...) is
read at its literal path. :class:`HostPaths` reproduces that with ``prefix``
and adds ``root``, under which *every* path (literal ones too) is resolved as
a chroot would: a captured tree, a chroot or a mounted image.

Paths handed around by the sources are host paths (``/sys/bus/pci/devices``,
``/host-sys/...``); only the readers here turn them into files, through
:class:`~nfd.sources._hostfs.HostFS` (confined, non-blocking, capped).
"""

from __future__ import annotations

import os
import stat
from zlib import error as zlib_error

from nfd._go.strings import trim_space
from nfd._record import FrozenRecord, set_field
from nfd.errors import UsageError
from nfd.sources._hostfs import HostFS, HostLimits

HOST_DIRS = ("sys", "proc", "etc", "boot", "lib", "usr", "var")
go_trim_space = trim_space  # strings.TrimSpace, under the name the sources use


class _ReadingFor:
    # A class, not contextlib.contextmanager: contextlib would be the only reason a
    # registry command's cold start imports it.
    def __init__(self, fs: HostFS, source: str) -> None:
        self._fs, self._source = fs, source

    def __enter__(self) -> None:
        self._fs.reading_for = self._source

    def __exit__(self, *exc_info: object) -> None:
        self._fs.reading_for = None


class HostPaths(FrozenRecord):
    """Where each host directory is read from, and the readers that go there.

    ``root``: every path, literal ones and ``/proc`` included, resolves inside it.
    ``prefix``: NFD's hostpath prefix (``/`` or ``/host-``), for the seven NFD dirs only.
    ``limits``: the bounds of every read and listing.
    """

    __slots__ = ("_fs", "limits", "prefix", "root", "use_openat2")
    _derived = ("_fs",)  # the reader, made from the fields
    root: str
    prefix: str
    limits: HostLimits
    use_openat2: bool
    _fs: HostFS

    def __init__(
        self,
        root: str = "/",
        prefix: str = "/",
        limits: HostLimits | None = None,
        use_openat2: bool = True,
    ) -> None:
        set_field(self, "root", root)
        set_field(self, "prefix", prefix)
        set_field(self, "limits", HostLimits() if limits is None else limits)
        set_field(self, "use_openat2", use_openat2)
        set_field(self, "_fs", HostFS(root, self.limits, use_openat2=use_openat2))

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

    # -- where ---------------------------------------------------------------------------

    def literal(self, path: str) -> str:
        """A path NFD opens as written (``/proc/modules``); resolved inside ``root`` on read."""
        return path

    def _host(self, name: str, rel: str) -> str:
        base = self.prefix + name
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

    def display(self, path: str) -> str:
        """Where a host path really is (``root`` joined), for messages."""
        return self._fs.display(path)

    def begin_discovery(self) -> None:
        """Give one discovery the whole :attr:`HostLimits.max_total_bytes` budget."""
        self._fs.begin()

    def reading_for(self, source: str) -> _ReadingFor:
        """``with host.reading_for(source):`` reads within the block are ``source``'s: a
        failed one is recorded under its name (:meth:`failed_reads`)."""
        return _ReadingFor(self._fs, source)

    def failed_reads(self) -> dict[str, tuple[int, str]]:
        """Per source, since :meth:`begin_discovery`: how many reads or listings failed for
        another reason than an absent path, and the first as ``path: why``."""
        return dict(self._fs.failed_reads)

    def over_limit(self) -> tuple[int, list[str]]:
        """How many reads or listings a bound cut short so far, and the first few paths."""
        return self._fs.over_limit_count, list(self._fs.over_limit)

    # -- readers: every host read of every source goes through these ---------------------

    def read_file(self, path: str, limit: int | None = None) -> bytes:
        """Like :meth:`read_bytes`, but raising the OSError (callers that tell errors apart)."""
        try:
            return self._fs.read_bytes(path, limit)
        except ValueError as exc:
            raise OSError(22, str(exc), self.display(path)) from None

    def read_bytes(self, path: str, limit: int | None = None) -> bytes | None:
        """``os.ReadFile`` of a regular file within the bounds; None on any error or excess."""
        try:
            return self._fs.read_bytes(path, limit)
        except (OSError, ValueError):
            return None

    def read_gzip(self, path: str) -> bytes | None:
        """A gzip file's decompressed content within the bounds; None otherwise."""
        try:
            return self._fs.read_gzip(path)
        except (OSError, ValueError, zlib_error):
            return None

    def read_text(self, path: str) -> str | None:
        """The file as text, or None when unreadable."""
        data = self.read_bytes(path)
        return None if data is None else decode(data)

    def read_trimmed(self, path: str) -> str | None:
        """The file's text with Go's TrimSpace applied, or None when unreadable."""
        text = self.read_text(path)
        return None if text is None else go_trim_space(text)

    def read_attrs(self, base: str, names: tuple[str, ...],
                   attrs: dict[str, str]) -> dict[str, str]:
        """Trimmed contents of the readable files, keyed by base name (unreadable ones left out)."""
        for name in names:
            text = self.read_text(f"{base}/{name}")
            if text is not None:
                attrs[name.rsplit("/", 1)[-1]] = go_trim_space(text)
        return attrs

    def list_dir(self, path: str) -> list[str]:
        """``os.ReadDir`` names: sorted byte-wise, bounded; raises OSError like Go returns it."""
        return self._fs.list_dir(path)

    def stat_error(self, path: str) -> OSError | None:
        """The error ``os.Stat`` would give, or None."""
        try:
            self._fs.stat(path)
        except OSError as exc:
            return exc
        except ValueError as exc:  # NUL in a name taken from a file
            return OSError(22, str(exc), self.display(path))
        return None

    def exists(self, path: str) -> bool:
        """``os.Stat`` succeeds (symlinks followed)."""
        return self.stat_error(path) is None

    def lexists(self, path: str) -> bool:
        """``os.Lstat`` succeeds (the last component is not followed)."""
        try:
            self._fs.stat(path, follow=False)
        except (OSError, ValueError):
            return False
        return True

    def is_dir(self, path: str, *, follow: bool = True) -> bool:
        """A directory (``follow=False``: as Go's ``DirEntry.IsDir()``, a link is not one)."""
        try:
            return stat.S_ISDIR(self._fs.stat(path, follow=follow).st_mode)
        except (OSError, ValueError):
            return False


def decode(data: bytes) -> str:
    """Bytes from sysfs/procfs as text (invalid UTF-8 becomes U+FFFD, as Go's JSON does)."""
    return data.decode("utf-8", errors="replace")


def listing_error(exc: OSError) -> str:
    """``path: reason`` of a failed directory listing."""
    return f"{exc.filename}: {exc.strerror or exc}"
