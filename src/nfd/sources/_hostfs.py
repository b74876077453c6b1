"""Opening host files as a chroot would, and reading them within bounds.

Host trees are hostile input: a captured or mounted tree may hold absolute
symlinks (``/etc/shadow``), ``../`` chains, FIFOs, device nodes, sparse
gigabyte files and directories with millions of entries. :class:`HostFS` is
the one way sources reach the host:

* every path is resolved inside ``root`` as a chroot would resolve it, with
  ``openat2(RESOLVE_IN_ROOT)`` where the kernel offers it and a component-wise
  walk otherwise (absolute link targets and ``..`` at the top are re-rooted);
* a file is first opened ``O_PATH`` (which never runs a device's open
  handler), checked to be a regular file, and only then reopened for reading,
  non-blocking: a FIFO cannot hang us and a watchdog device is never opened;
* reads stop at :attr:`HostLimits.max_file_bytes` whatever ``st_size``
  claims (sysfs and procfs files report 0 or 4096), listings at
  :attr:`HostLimits.max_dir_entries`.

The live host is the same code with ``root`` ``/``: there is nothing to
escape from, but the caps and the FIFO/device safety still apply.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import weakref
import zlib
from collections import deque
from collections.abc import Callable

from nfd._record import FrozenRecord, set_field

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # all reads of one discovery: what it may hold in memory
MAX_DIR_ENTRIES = 65536
MAX_SYMLINKS = 40  # Linux's MAXSYMLINKS
# Components one walk may step through: 40 links of 4 KiB "a/../a/.." would be 80,000 opens.
_MAX_WALK_STEPS = 4096

# openat2(2): the syscall number is the same on x86-64 and aarch64.
_OPENAT2_SYSCALLS = {"x86_64": 437, "aarch64": 437, "arm64": 437}
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_IN_ROOT = 0x10
_OPENAT2_RETRIES = 4  # EAGAIN: a concurrent rename or mount inside the root
_READ_CHUNK = 64 * 1024
_REMEMBERED_OVER_LIMIT = 10


class HostLimits(FrozenRecord):
    """Bounds on what one host read may cost."""

    __slots__ = ("max_dir_entries", "max_file_bytes", "max_symlinks", "max_total_bytes")
    max_file_bytes: int
    max_total_bytes: int
    max_dir_entries: int
    max_symlinks: int

    def __init__(
        self,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_dir_entries: int = MAX_DIR_ENTRIES,
        max_symlinks: int = MAX_SYMLINKS,
    ) -> None:
        set_field(self, "max_file_bytes", max_file_bytes)
        set_field(self, "max_total_bytes", max_total_bytes)
        set_field(self, "max_dir_entries", max_dir_entries)
        set_field(self, "max_symlinks", max_symlinks)


class HostLimitError(OSError):
    """A host file or directory is over its bound (treated like an unreadable one)."""

    def __init__(self, path: str, what: str, limit: int):
        super().__init__(errno.EFBIG, f"more than {limit} {what} (bound of nfd-client)", path)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def _libc_syscall() -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    func = libc.syscall
    func.restype = ctypes.c_long
    return func


_SYSCALL = _libc_syscall()
_OPENAT2 = _OPENAT2_SYSCALLS.get(os.uname().machine)
_OPENAT2_NUMBER = ctypes.c_long(_OPENAT2 or -1)
_OPEN_HOW_SIZE = ctypes.c_size_t(ctypes.sizeof(_OpenHow))
_RESOLVE = _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS


def _openat2(dirfd: int, rel: str, flags: int) -> int | None:
    """``openat2(dirfd, rel, flags, RESOLVE_IN_ROOT)``; None if the kernel or seccomp refuse it."""
    if _SYSCALL is None or _OPENAT2 is None:
        return None
    how = ctypes.byref(_OpenHow(flags=flags | os.O_CLOEXEC, mode=0, resolve=_RESOLVE))
    path = os.fsencode(rel)
    for _ in range(_OPENAT2_RETRIES):
        fd = _SYSCALL(_OPENAT2_NUMBER, dirfd, path, how, _OPEN_HOW_SIZE)
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err in (errno.ENOSYS, errno.EPERM, errno.E2BIG):
            return None  # old kernel, or a seccomp profile that answers EPERM
        if err != errno.EAGAIN:
            raise OSError(err, os.strerror(err), rel)
    return None


def _components(path: str) -> list[str]:
    """Path components; empty ones become ``.`` so that ``file/`` and ``file/.`` fail as in C."""
    return [part or "." for part in path.split("/")]


def _queue_link_target(stack: list[int], name: str, pending: deque[str]) -> None:
    """Put a link's target in place of the link; an absolute target restarts at the root."""
    target = os.readlink(name, dir_fd=stack[-1])
    if target.startswith("/"):
        while len(stack) > 1:
            os.close(stack.pop())
    pending.extendleft(reversed(_components(target)))


class HostFS:
    """Open and read files under ``root`` without ever leaving it.

    ``use_openat2=False`` forces the portable component-wise walk (tests run
    every attack through both).
    """

    def __init__(self, root: str = "/", limits: HostLimits | None = None, *,
                 use_openat2: bool = True):
        self.root = root
        self.limits = limits or HostLimits()
        self.use_openat2 = use_openat2
        self._root_fd: int | None = None
        self.over_limit: list[str] = []  # where a bound cut a read short (first few)
        self.over_limit_count = 0
        self.budget_left = self.limits.max_total_bytes
        #: The feature source reading now; its failed reads are recorded under its name.
        self.reading_for: str | None = None
        #: Per source: (how many reads failed, the first as ``path: why``).
        self.failed_reads: dict[str, tuple[int, str]] = {}

    def begin(self) -> None:
        """A new discovery starts: the whole ``max_total_bytes`` budget is available again."""
        self.budget_left = self.limits.max_total_bytes
        self.failed_reads = {}

    def _failed(self, exc: OSError) -> OSError:
        """Record a read or listing that failed for the source reading now, and return the
        error. An absent path (ENOENT) is not a failure: sysfs attributes and whole buses
        are optional, and NFD leaves them out silently. A file's own answer to read(2)
        (sysfs ``speed`` of a link that is down: EINVAL) never comes here either."""
        if self.reading_for is not None and exc.errno != errno.ENOENT:
            count, first = self.failed_reads.get(self.reading_for, (0, ""))
            why = f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc)
            self.failed_reads[self.reading_for] = (count + 1, first or why)
        return exc

    def _root(self) -> int:
        """The root directory's ``O_PATH`` fd, opened once and closed with this object."""
        if self._root_fd is None:
            fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            self._root_fd = fd
            weakref.finalize(self, os.close, fd)
        return self._root_fd

    @property
    def is_live(self) -> bool:
        return self.root == "/"

    def display(self, path: str) -> str:
        """Where ``path`` really is, for messages."""
        return path if self.is_live else self.root.rstrip("/") + path

    # -- resolution ---------------------------------------------------------------------

    def open(self, path: str, flags: int) -> int:
        """An fd for ``path`` (absolute, inside the root) opened with ``flags``; raises OSError.

        ``O_NOFOLLOW`` in ``flags`` applies to the last component only, as with open(2).
        """
        if "\x00" in path:  # C would cut the name there; Go refuses it
            raise OSError(errno.EINVAL, "NUL byte in path", self.display(path))
        if self.is_live:
            return os.open(path, flags | os.O_CLOEXEC)
        try:
            rootfd = self._root()
            if self.use_openat2:
                fd = _openat2(rootfd, path, flags)
                if fd is not None:
                    return fd
            return self._walk(rootfd, path, flags)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, self.display(path)) from None

    def _walk(self, rootfd: int, path: str, flags: int) -> int:
        """Resolve ``path`` one component at a time; ``..`` and absolute links stay inside."""
        pending = deque(_components(path))
        stack = [os.dup(rootfd)]  # physical chain of directories from the root
        links = steps = 0
        try:
            while pending:
                steps += 1
                if steps > _MAX_WALK_STEPS:
                    raise OSError(errno.ENAMETOOLONG, "path takes too many steps to resolve", path)
                name = pending.popleft()
                if name == ".":
                    continue  # the stack's top is always a directory
                if name == "..":
                    if len(stack) > 1:
                        os.close(stack.pop())
                    continue
                last = not pending
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=stack[-1])
                mode = os.fstat(fd).st_mode
                if stat.S_ISLNK(mode) and not (last and flags & os.O_NOFOLLOW):
                    os.close(fd)
                    links += 1
                    if links > self.limits.max_symlinks:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                    _queue_link_target(stack, name, pending)
                    continue
                if last:
                    os.close(fd)
                    return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=stack[-1])
                if not stat.S_ISDIR(mode):
                    os.close(fd)
                    raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
                stack.append(fd)
            # the path named the root itself (or resolved back to a directory on the stack)
            return os.open(".", flags | os.O_CLOEXEC, dir_fd=stack[-1])
        finally:
            for fd in stack:
                os.close(fd)

    def _over_limit(self, path: str, what: str, limit: int) -> HostLimitError:
        """The error for ``path``, remembered so that the user can be told what was left out."""
        self.over_limit_count += 1
        if len(self.over_limit) < _REMEMBERED_OVER_LIMIT:
            self.over_limit.append(self.display(path))
        return HostLimitError(self.display(path), what, limit)

    # -- metadata -----------------------------------------------------------------------

    def stat(self, path: str, *, follow: bool = True) -> os.stat_result:
        """``os.stat`` (or ``os.lstat`` with ``follow=False``) inside the root."""
        flags = os.O_PATH | (0 if follow else os.O_NOFOLLOW)
        fd = self.open(path, flags)
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------

    def read_bytes(self, path: str, limit: int | None = None) -> bytes:
        """A regular file's content, at most ``limit`` bytes; raises OSError otherwise.

        FIFOs, sockets and devices raise ``EINVAL`` without ever being opened for reading.
        """
        cap = self.limits.max_file_bytes if limit is None else limit
        try:
            probe = self.open(path, os.O_PATH)
        except OSError as exc:
            raise self._failed(exc) from None
        try:
            info = os.fstat(probe)
            if not stat.S_ISREG(info.st_mode):
                err = errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL
                raise self._failed(OSError(err, "not a regular file", self.display(path)))
            fd = self._reopen(probe, info, path)
        finally:
            os.close(probe)
        try:
            return self._read_capped(fd, cap, path)
        finally:
            os.close(fd)

    def _reopen(self, probe: int, info: os.stat_result, path: str) -> int:
        """Open the very inode ``probe`` refers to for reading (no second path lookup)."""
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY
        try:
            fd = os.open(f"/proc/self/fd/{probe}", flags | os.O_CLOEXEC)
        except FileNotFoundError:  # no /proc here: look the path up again, then compare
            fd = self.open(path, flags)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            os.close(fd)
            raise OSError(errno.ESTALE, "file changed while opening")
        return fd

    def _read_capped(self, fd: int, cap: int, path: str) -> bytes:
        limit = min(cap, self.budget_left)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - total))
            if not chunk:
                self.budget_left -= total
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise self._over_budget(path, "bytes", cap)

    def _over_budget(self, path: str, what: str, cap: int) -> OSError:
        if cap <= self.budget_left:
            return self._failed(self._over_limit(path, what, cap))
        return self._failed(self._over_limit(path, f"{what} read in one discovery",
                                             self.limits.max_total_bytes))

    def read_gzip(self, path: str) -> bytes:
        """A gzip file's decompressed content (all members), capped like any read."""
        data = self.read_bytes(path)
        cap = self.limits.max_file_bytes
        limit = min(cap, self.budget_left)
        out: list[bytes] = []
        total = 0
        while data:
            inflater = zlib.decompressobj(wbits=31)
            chunk = inflater.decompress(data, limit + 1 - total)
            total += len(chunk)
            out.append(chunk)
            if total > limit or inflater.unconsumed_tail:
                raise self._over_budget(path, "decompressed bytes", cap)
            if not inflater.eof:
                raise self._failed(OSError(errno.EIO, "truncated gzip data", self.display(path)))
            data = inflater.unused_data
        self.budget_left -= total
        return b"".join(out)

    def list_dir(self, path: str) -> list[str]:
        """``os.ReadDir`` names, sorted byte-wise, at most ``max_dir_entries``; raises OSError."""
        try:
            fd = self.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise self._failed(exc) from None
        names: list[str] = []
        cap = self.limits.max_dir_entries
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    names.append(entry.name)
                    if len(names) > cap:
                        raise self._failed(self._over_limit(path, "directory entries", cap))
        finally:
            os.close(fd)
        return sorted(names, key=os.fsencode)
