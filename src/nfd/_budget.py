"""One deadline and one byte budget per network operation, enforced at the socket.

Clients that apply their timeouts to each socket read (httpx, urllib3) let a server
that sends one byte a second run on forever, headers included. Here every connect,
TLS handshake, read and write is given only the time left in the *operation* it
serves, and every byte read is charged to that operation's budget: a trickled answer
ends at the deadline and an endless one at the byte cap, whatever part of the
exchange (status line, headers, a 401 body inside the auth flow, a token reply) it is
in. The registry's own HTTP client (:mod:`nfd._http1`) takes a :class:`Budget` per
request; httpx clients get the same through :mod:`nfd._budget_httpx`.

Connections are pooled and reused across operations, so a stream does not
hold a budget: it asks its :class:`BudgetScope` for the one the current thread
is spending (set with :meth:`BudgetScope.spending`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class DeadlinePassed(TimeoutError):
    """The operation's deadline has passed."""


class BudgetExceeded(Exception):
    """More bytes arrived for one operation than its budget allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes received")
        self.limit = limit


class Budget:
    """The deadline (on ``clock``) and the bytes left for one operation."""

    __slots__ = ("clock", "deadline", "max_bytes", "received")

    def __init__(self, deadline: float, max_bytes: int, clock: Clock = time.monotonic) -> None:
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.clock = clock
        self.received = 0

    def seconds_left(self) -> float:
        return self.deadline - self.clock()

    def timeout(self, asked: float | None) -> float:
        """The smaller of what the caller asked and what is left; raises when nothing is."""
        left = self.seconds_left()
        if left <= 0:
            raise DeadlinePassed("the operation's deadline has passed")
        return left if asked is None else min(asked, left)

    def charge(self, size: int) -> None:
        self.received += size
        if self.received > self.max_bytes:
            raise BudgetExceeded(self.max_bytes)


class BudgetScope:
    """Which :class:`Budget` each thread is spending now (none: plain httpx behaviour)."""

    def __init__(self) -> None:
        # Imported here: only the httpx seam (the Kubernetes client) keeps a scope; the
        # registry's transport imports this module on every cold start.
        import threading

        self._local = threading.local()

    def current(self) -> Budget | None:
        budget: Budget | None = getattr(self._local, "budget", None)
        return budget

    def spending(self, budget: Budget) -> _Spending:
        """``with scope.spending(budget):`` this thread spends ``budget``, then the one before."""
        return _Spending(self, budget)


class _Spending:
    def __init__(self, scope: BudgetScope, budget: Budget) -> None:
        self._scope, self._budget = scope, budget
        self._previous: Budget | None = None

    def __enter__(self) -> Budget:
        self._previous = self._scope.current()
        self._scope._local.budget = self._budget
        return self._budget

    def __exit__(self, *exc_info: object) -> None:
        self._scope._local.budget = self._previous
