"""One deadline and one byte budget per network operation, enforced at the socket.

``httpx`` (like urllib3) applies its timeouts to each socket read, so a server
that sends one byte a second never trips them, headers included. Here every
connect, TLS handshake, read and write of a connection is given only the time
left in the *operation* it serves, and every byte read is charged to that
operation's budget: a trickled answer ends at the deadline and an endless one
at the byte cap, whatever part of the exchange (status line, headers, a 401
body inside the auth flow, a token reply) it is in.

Connections are pooled and reused across operations, so a stream does not
hold a budget: it asks its :class:`BudgetScope` for the one the current thread
is spending (set with :meth:`BudgetScope.spending`).
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpcore
import httpx

Clock = Callable[[], float]
class BudgetExceeded(Exception):
    """More bytes arrived for one operation than its budget allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes received")
        self.limit = limit


@dataclass
class Budget:
    """The deadline (on ``clock``) and the bytes left for one operation."""

    deadline: float
    max_bytes: int
    clock: Clock = time.monotonic
    received: int = field(default=0)

    def seconds_left(self) -> float:
        return self.deadline - self.clock()

    def timeout(self, asked: float | None) -> float:
        """The smaller of what the caller asked and what is left; raises when nothing is."""
        left = self.seconds_left()
        if left <= 0:
            raise httpcore.ReadTimeout("the operation's deadline has passed")
        return left if asked is None else min(asked, left)

    def charge(self, size: int) -> None:
        self.received += size
        if self.received > self.max_bytes:
            raise BudgetExceeded(self.max_bytes)


class BudgetScope:
    """Which :class:`Budget` each thread is spending now (none: plain httpx behaviour)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def current(self) -> Budget | None:
        return typing.cast("Budget | None", getattr(self._local, "budget", None))

    @contextmanager
    def spending(self, budget: Budget) -> Iterator[Budget]:
        previous = self.current()
        self._local.budget = budget
        try:
            yield budget
        finally:
            self._local.budget = previous


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, scope: BudgetScope) -> None:
        self._inner = inner
        self._scope = scope

    def _timeout(self, asked: float | None) -> float | None:
        budget = self._scope.current()
        return asked if budget is None else budget.timeout(asked)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, self._timeout(timeout))
        budget = self._scope.current()
        if budget is not None:
            budget.charge(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._timeout(timeout))
        return _BoundedStream(inner, self._scope)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self, scope: BudgetScope) -> None:
        self._inner = httpcore.SyncBackend()
        self._scope = scope

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[typing.Any] | None = None,
                    ) -> httpcore.NetworkStream:
        budget = self._scope.current()
        if budget is not None:
            try:
                timeout = budget.timeout(timeout)
            except httpcore.ReadTimeout:
                raise httpcore.ConnectTimeout("the operation's deadline has passed") from None
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _BoundedStream(stream, self._scope)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_transport(scope: BudgetScope, verify: ssl.SSLContext | bool = True,
                      proxy: str | None = None) -> httpx.HTTPTransport:
    """An ``httpx`` transport whose sockets obey the budgets of ``scope`` (through
    ``proxy`` when given: the proxy's connections obey them too)."""
    transport = httpx.HTTPTransport(verify=verify, trust_env=False, proxy=proxy)
    # httpx has no parameter for the network backend; its pool (httpcore) has one.
    transport._pool._network_backend = _BoundedBackend(scope)
    return transport
