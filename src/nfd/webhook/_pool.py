"""The review workers, seen from the event loop: one review at a time each, parsed once.

A big review is handed to one worker for its whole life: the body goes down
the worker's pipe once, as raw bytes; the worker parses it and keeps the
parsed review while the event loop resolves the images; then the decision
step names no body at all (:func:`nfd.webhook._work.serve_reviews`). A pool
of interchangeable workers (``concurrent.futures``) cannot do that: its second
call may land in the other process, so the body had to be sent and parsed
twice.

Pipe reads and writes run in a few threads (they release the GIL while the
bytes move), never on the event loop, so a worker that is slow to read
cannot stall it. A step past its deadline raises :class:`TimeoutError`; the
worker is handed back once it has answered (a worker holds one review at a
time, so the pool, like the old one, bounds the work under way). A worker
that dies is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from nfd.webhook import _work
from nfd.webhook._resolver import Resolution
from nfd.webhook._review import FailurePolicy
from nfd.webhook._work import Decision, Look, Prepared

# Starts a worker on the far end of a pipe; returns what stops it.
Starter = Callable[[Connection], Callable[[], None]]


class WorkerLost(RuntimeError):
    """A review worker exited (killed, out of memory) while it held a review."""


class _Worker:
    """One worker: the server's end of its pipe, and how to stop it."""

    def __init__(self, start: Starter) -> None:
        self.conn, far = multiprocessing.Pipe(duplex=True)
        self.stop = start(far)

    def call(self, header: tuple[str, Any], body: bytes | None = None) -> Any:
        """Send one step (and a body), wait for its answer (in an I/O thread)."""
        try:
            self.conn.send(header)
            if body is not None:
                self.conn.send_bytes(body)
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerLost(f"review worker exited ({exc or type(exc).__name__})") from None

    def drop(self) -> None:
        """Let the worker forget the review it holds (no answer comes back)."""
        with contextlib.suppress(OSError):
            self.conn.send(("drop", None))


def _process_starter() -> Starter:
    """Worker processes from a forkserver: a clean process, not a fork of this threaded
    one, with the review code already imported."""
    processes = multiprocessing.get_context("forkserver")
    processes.set_forkserver_preload(["nfd.webhook._work"])

    def start(far: Connection) -> Callable[[], None]:
        process = processes.Process(target=_work.worker_main, args=(far,), daemon=True,
                                    name="nfd-webhook-review")
        process.start()
        far.close()  # the worker's end lives in the worker now

        def stop() -> None:
            process.terminate()
            process.join(1)
        return stop
    return start


def thread_starter(far: Connection) -> Callable[[], None]:
    """A worker in a thread of this process (tests, and servers built in process):
    the same protocol and pipe, without the isolation."""
    threading.Thread(target=_work.serve_reviews, args=(far,), daemon=True,
                     name="nfd-webhook-review").start()
    return far.close


class ReviewWorkers:
    """``count`` workers, each deciding one review at a time; started on first use (or by
    :meth:`start`)."""

    def __init__(self, count: int, start: Starter | None = None) -> None:
        self._count = count
        self._start = start or _process_starter()
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: list[_Worker] = []
        # Two I/O threads per worker: one moving a step, one handing back a late answer.
        self._io = ThreadPoolExecutor(2 * count, thread_name_prefix="nfd-webhook-pipe")

    def start(self) -> None:
        """Start every worker in the background (the first big review need not wait)."""
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._count):
                self._spawn()

    def _spawn(self) -> None:
        async def spawn() -> None:
            worker = await asyncio.get_running_loop().run_in_executor(
                self._io, _Worker, self._start)
            self._all.append(worker)
            assert self._idle is not None
            self._idle.put_nowait(worker)
        task = asyncio.ensure_future(spawn())
        _background.add(task)
        task.add_done_callback(_background.discard)

    def session(self, deadline: float) -> ReviewSession:
        """A worker for one review, due by ``deadline`` (``time.perf_counter()``)."""
        self.start()
        return ReviewSession(self, deadline)

    async def _acquire(self, deadline: float) -> _Worker:
        assert self._idle is not None
        return await asyncio.wait_for(self._idle.get(), _left(deadline))

    def _release(self, worker: _Worker, holding: bool,
                 pending: asyncio.Future[Any] | None) -> None:
        """Hand the worker back: now, or once its late answer came (a lost worker is
        replaced instead)."""
        def back(done: asyncio.Future[Any] | None = None) -> None:
            if done is not None and not done.cancelled() and isinstance(done.exception(),
                                                                         WorkerLost):
                self._replace(worker)
                return
            if holding:
                worker.drop()
            assert self._idle is not None
            self._idle.put_nowait(worker)
        if pending is None:
            back()
        else:
            pending.add_done_callback(back)

    def _replace(self, worker: _Worker) -> None:
        if worker in self._all:
            self._all.remove(worker)
        worker.stop()
        worker.conn.close()
        self._spawn()

    def close(self) -> None:
        """Stop every worker (a review under way is abandoned)."""
        for worker in self._all:
            worker.stop()
            worker.conn.close()
        self._all.clear()
        self._io.shutdown(wait=False, cancel_futures=True)


_background: set[asyncio.Future[Any]] = set()


def _left(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError
    return left


class ReviewSession:
    """One review in one worker: :meth:`look` sends the body, :meth:`decide` the
    resolutions; ``async with`` hands the worker back."""

    def __init__(self, pool: ReviewWorkers, deadline: float) -> None:
        self._pool = pool
        self._deadline = deadline
        self._worker: _Worker | None = None
        self._holding = False
        self._pending: asyncio.Future[Any] | None = None

    async def __aenter__(self) -> ReviewSession:
        self._worker = await self._pool._acquire(self._deadline)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._worker is not None:
            self._pool._release(self._worker, self._holding, self._pending)
            self._worker = None

    async def look(self, body: bytes, workloads: bool) -> Look | str:
        """Parse ``body`` in the worker, which keeps it; a bad review is its reason."""
        self._holding = True  # until its answer says otherwise (a late one may hold it)
        looked: Look | str = await self._call(("look", workloads), body)
        self._holding = isinstance(looked, Look) and looked.images is not None
        return looked

    async def decide(self, resolutions: Sequence[Resolution], policy: FailurePolicy,
                     prepared: Prepared | None = None,
                     gzip_ok: bool = False) -> Decision | str:
        """Decide the review the worker holds (or ``prepared``, parsed elsewhere); a big
        answer comes back compressed when ``gzip_ok``."""
        self._holding = False
        decision: Decision | str = await self._call(
            ("decide", (prepared, resolutions, policy, gzip_ok)))
        return decision

    async def _call(self, header: tuple[str, Any], body: bytes | None = None) -> Any:
        assert self._worker is not None and self._pending is None
        left = _left(self._deadline)
        future = asyncio.get_running_loop().run_in_executor(
            self._pool._io, self._worker.call, header, body)
        try:
            return await asyncio.wait_for(asyncio.shield(future), left)
        except TimeoutError:
            self._pending = future  # the worker is handed back once it has answered
            raise
        except WorkerLost:
            self._pending = future
            raise
