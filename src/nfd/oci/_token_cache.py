"""A scope-aware cache of bearer tokens.

Keyed by registry and scope set, like oras-go's ``auth.Cache``: a token granted
for ``repository:app:pull`` is never offered for a push, while one granted for
``pull,push`` serves a pull too. Scopes are normalised so that the order of
actions does not matter.
"""

from __future__ import annotations

import time

# threading.Lock is _thread.allocate_lock (a documented stdlib module); importing
# threading itself costs a registry command's cold start about half a millisecond.
from _thread import allocate_lock
from collections.abc import Callable, Iterable

from nfd._record import Record

# Tokens are dropped this long before the server says they expire (clock skew, latency).
EXPIRY_MARGIN = 10.0
# Distribution's default when a token reply has no expires_in (token spec).
DEFAULT_TOKEN_LIFETIME = 60.0


def parse_scope(scope: str) -> tuple[str, frozenset[str]]:
    """``repository:name:pull,push`` -> (``repository:name``, {pull, push})."""
    resource, _, actions = scope.rpartition(":")
    if not resource:
        return scope, frozenset()
    return resource, frozenset(a for a in actions.split(",") if a)


def merge_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Merge scopes on one resource and sort them: the canonical form of a scope set."""
    merged: dict[str, set[str]] = {}
    for scope in scopes:
        for part in scope.split(" "):
            if not part:
                continue
            resource, actions = parse_scope(part)
            merged.setdefault(resource, set()).update(actions)
    return tuple(
        f"{resource}:{','.join(sorted(actions))}" if actions else resource
        for resource, actions in sorted(merged.items())
    )


def covers(granted: Iterable[str], needed: Iterable[str]) -> bool:
    """Whether the ``granted`` scopes include every action of every ``needed`` scope."""
    have: dict[str, frozenset[str]] = {}
    for scope in granted:
        resource, actions = parse_scope(scope)
        have[resource] = have.get(resource, frozenset()) | actions
    for scope in needed:
        resource, actions = parse_scope(scope)
        if resource not in have or not actions <= have[resource]:
            return False
    return True


class _Entry(Record):
    __slots__ = ("expires_at", "scopes", "token")
    _unshown = ("token",)
    token: str
    scopes: tuple[str, ...]
    expires_at: float

    def __init__(self, token: str, scopes: tuple[str, ...], expires_at: float) -> None:
        self.token = token
        self.scopes = scopes
        self.expires_at = expires_at


class TokenCache:
    """Bearer tokens per registry host and scope set; safe to share between threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, list[_Entry]] = {}
        self._lock = allocate_lock()
        self._clock = clock

    def get(self, host: str, needed: Iterable[str]) -> str | None:
        """A live token for ``host`` whose scopes cover ``needed``."""
        needed = tuple(needed)
        now = self._clock()
        with self._lock:
            entries = self._entries.get(host, [])
            entries[:] = [e for e in entries if e.expires_at > now]
            for entry in entries:
                if covers(entry.scopes, needed):
                    return entry.token
        return None

    def put(self, host: str, scopes: Iterable[str], token: str, expires_in: float | None) -> None:
        """Remember ``token`` as granting ``scopes`` on ``host``."""
        lifetime = expires_in if expires_in and expires_in > 0 else DEFAULT_TOKEN_LIFETIME
        entry = _Entry(token, merge_scopes(scopes), self._clock() + lifetime - EXPIRY_MARGIN)
        with self._lock:
            entries = self._entries.setdefault(host, [])
            entries[:] = [e for e in entries if e.scopes != entry.scopes]
            entries.append(entry)

    def discard(self, host: str, token: str) -> None:
        """Forget ``token`` (the registry refused it)."""
        with self._lock:
            entries = self._entries.get(host, [])
            entries[:] = [e for e in entries if e.token != token]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._entries.values())

    def __repr__(self) -> str:
        return f"TokenCache({len(self)} tokens)"
