"""Bounded reads of a file, standard input or a stream: the one place input is read whole.

A file named on the command line may be ``/dev/zero`` or a multi-gigabyte log, and
standard input may never end, so nothing is read whole without a bound. The caller
chooses the bound and words the error (its file, its flag, its error type): one byte
past the bound is read, so ``len(data) > max_bytes`` tells that the input is too large.
"""

from __future__ import annotations

import sys
from os import PathLike

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import IO, Any

STDIN = "-"


def read_bounded(source: str | PathLike[str] | IO[Any], max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``source``: a path (``-`` is standard input)
    or an open stream (text streams are read through their binary buffer).

    :class:`OSError` propagates: the caller knows which argument named the file.
    """
    if isinstance(source, str) and source == STDIN:
        return _read_stream(sys.stdin, max_bytes + 1)
    if isinstance(source, (str, PathLike)):
        with open(source, "rb") as handle:
            return handle.read(max_bytes + 1)
    return _read_stream(source, max_bytes + 1)


def _read_stream(stream: IO[Any], size: int) -> bytes:
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        return bytes(binary.read(size))
    data = stream.read(size)
    return data if isinstance(data, bytes) else data.encode(errors="surrogateescape")


def read_document(path: str | PathLike[str], max_bytes: int) -> bytes:
    """:func:`read_bounded` of a document file named by the user: what cannot be read is a
    :class:`~nfd.errors.SpecError` naming the file."""
    from nfd.errors import SpecError

    try:
        return read_bounded(path, max_bytes)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
