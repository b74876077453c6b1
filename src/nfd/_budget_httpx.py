"""The operation budgets of :mod:`nfd._budget` for an ``httpx`` client (the Kubernetes
reader): every connect, TLS handshake, read and write of its sockets spends the budget
the current thread is spending in a :class:`~nfd._budget.BudgetScope`.

The seam: httpx has no parameter for its pool's network backend, and httpcore (its
pool) has one. :func:`bounded_transport` sets it on the transport's pool, so httpx and
httpcore are pinned in ``pyproject.toml`` and ``tests/test_budget_httpx.py`` checks the
seam still bites (a trickled answer ends at the deadline) on the pinned versions. The
registry client does not use httpx at all (:mod:`nfd._http1`).
"""

from __future__ import annotations

import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx

from nfd._budget import BudgetScope, DeadlinePassed


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, scope: BudgetScope) -> None:
        self._inner = inner
        self._scope = scope

    def _timeout(self, asked: float | None) -> float | None:
        budget = self._scope.current()
        try:
            return asked if budget is None else budget.timeout(asked)
        except DeadlinePassed as exc:
            raise httpcore.ReadTimeout(str(exc)) from None

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
            except DeadlinePassed:
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
