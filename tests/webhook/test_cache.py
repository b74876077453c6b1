"""The TTL cache and the registry allow-list."""

from __future__ import annotations

import pytest

from nfd.errors import UsageError
from nfd.oci import Reference
from nfd.webhook import AllowList, TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(10, ttl=30, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2, ttl=5)  # a negative answer lives shorter
    clock.now += 4.9
    assert (cache.get("a"), cache.get("b")) == (1, 2)
    clock.now += 0.2
    assert (cache.get("a"), cache.get("b")) == (1, None)
    clock.now += 25
    assert cache.get("a") is None and len(cache) == 0
    assert (cache.stats.hits, cache.stats.misses) == (3, 2)


def test_least_recently_used_goes_first() -> None:
    cache: TTLCache[str, int] = TTLCache(2, ttl=60, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert cache.stats.evictions == 1 and len(cache) == 2


def test_zero_ttl_stores_nothing_and_size_is_checked() -> None:
    cache: TTLCache[str, int] = TTLCache(2, ttl=60, clock=Clock())
    cache.put("a", 1)
    cache.put("a", 2, ttl=0)
    assert cache.get("a") is None
    with pytest.raises(ValueError):
        TTLCache(0, ttl=1)


@pytest.mark.parametrize(("pattern", "image", "allowed"), [
    ("ghcr.io", "ghcr.io/acme/app:v1", True),
    ("ghcr.io", "ghcr.io.evil.example/acme/app", False),
    ("*.example.com", "registry.example.com/app", True),
    ("*.example.com", "example.com/app", False),
    ("ghcr.io/acme/*", "ghcr.io/acme/team/app:v1", True),
    ("ghcr.io/acme/*", "ghcr.io/other/app:v1", False),
    ("docker.io", "ubuntu", True),  # normalised: docker.io/library/ubuntu
    ("docker.io/library/*", "nginx:1.25", True),
    ("127.0.0.1:5000", "127.0.0.1:5000/app", True),
    ("127.0.0.1:5000", "127.0.0.1:5001/app", False),
    ("127.0.0.1:*", "169.254.169.254/latest", False),
])
def test_allow_list(pattern: str, image: str, allowed: bool) -> None:
    assert AllowList.parse([pattern]).allows(Reference.parse(image)) is allowed


def test_allow_list_patterns_are_checked() -> None:
    with pytest.raises(UsageError, match="empty"):
        AllowList.parse([""])
    with pytest.raises(UsageError, match="spaces"):
        AllowList.parse(["ghcr.io "])
    assert not AllowList.parse([]).allows(Reference.parse("ghcr.io/a/b"))
