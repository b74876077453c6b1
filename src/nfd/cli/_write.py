"""Writing a command's output to ``--path``: atomically, and never over something that isn't ours.

Commands run as root on nodes, so ``--path /dev/null`` or a symlink to
``/proc/self/fd/1`` must not be replaced by a regular file. Only a missing
path or an existing regular file is written; an existing file keeps its mode
(and, when we may, its owner).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from nfd.errors import UsageError

NEW_FILE_MODE = 0o644

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"))


def check_target(flag: str, path: str) -> os.stat_result | None:
    """The target's lstat when it is a regular file, None when missing; UsageError otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(path)
        raise UsageError(f"{flag} {path}: is a symlink (to {target}); not replaced. To write "
                         f"through it on purpose, name the real file: {flag} {target}")
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise UsageError(f"{flag} {path}: is {kind}, not a regular file; not replaced")
    return info


def write_atomically(flag: str, path: str, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over: no partial file."""
    existing = check_target(flag, path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".nfd-", dir=directory)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write in {directory}: "
                         f"{exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        _copy_ownership(tmp, existing)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise UsageError(f"{flag} {path}: {exc.strerror or exc}") from exc


def _copy_ownership(tmp: str, existing: os.stat_result | None) -> None:
    """The new file gets the old one's mode (owner too, where allowed), else 0644."""
    if existing is None:
        os.chmod(tmp, NEW_FILE_MODE)
        return
    os.chmod(tmp, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        # Not root: the file becomes ours, as any editor's save would make it.
        with contextlib.suppress(PermissionError):
            os.chown(tmp, existing.st_uid, existing.st_gid)
