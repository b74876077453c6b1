"""Half of a big job on the other core: a forked child whose pickled result is read back.

Used where the caller is single-threaded (the CLI), for the decoding and the
evaluation of big clusters. Whatever goes wrong in the child sends nothing back,
and the caller does that half itself (so errors are raised, and worded, there).
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from typing import Any


def can_fork(workers: int) -> bool:
    """More than one worker asked for, ``fork`` exists here, and this process runs one
    thread (a child forked beside other threads could wait forever on a lock they held)."""
    return workers > 1 and hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """``work()`` running in a child process from the moment this is made."""

    def __init__(self, work: Callable[[], Any]) -> None:
        read_end, write_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # the child: never returns
            os.close(read_end)
            try:
                payload = pickle.dumps(work(), pickle.HIGHEST_PROTOCOL)
            except BaseException:
                payload = b""
            try:
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            finally:
                os._exit(0)
        os.close(write_end)
        self._inbound = os.fdopen(read_end, "rb")
        self._open = True

    def result(self) -> Any | None:
        """What ``work()`` returned, or ``None`` if it failed."""
        try:
            payload = self._inbound.read()
        finally:
            self.close()
        return pickle.loads(payload) if payload else None

    def close(self) -> None:
        """Stop listening (a child still writing gets a broken pipe) and reap the child."""
        if self._open:
            self._open = False
            self._inbound.close()
            os.waitpid(self._pid, 0)

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: object) -> None:
        self.close()
