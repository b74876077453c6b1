"""A bounded cache whose entries expire: the webhook's tag and spec caches.

Least recently used entries go first when the cache is full, and every entry
has its own lifetime, so a negative answer ("no compatibility artifact") can
live shorter than a positive one. Used from the event loop thread only, so it
needs no lock; the clock is injectable for tests.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class CacheStats:
    """Lookups that found a live entry, lookups that did not, entries pushed out."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0


class TTLCache(Generic[K, V]):
    """At most ``max_entries`` values, each forgotten ``ttl`` seconds after it was stored."""

    def __init__(self, max_entries: int, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("a cache needs room for at least one entry")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The live value for ``key``, or ``None`` (expired entries are dropped on the way)."""
        item = self._items.get(key)
        if item is None:
            self.stats.misses += 1
            return None
        expires, value = item
        if expires <= self._clock():
            del self._items[key]
            self.stats.misses += 1
            return None
        self._items.move_to_end(key)
        self.stats.hits += 1
        return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default: the cache's); a ttl <= 0 stores nothing."""
        lifetime = self.ttl if ttl is None else ttl
        if lifetime <= 0:
            self._items.pop(key, None)
            return
        self._items[key] = (self._clock() + lifetime, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)
            self.stats.evictions += 1
