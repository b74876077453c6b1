"""Which registries the webhook may contact (it must not be a way into the cluster's network).

A pod names any host it likes as its image's registry; fetching from it would
let whoever creates pods make the webhook send requests anywhere (SSRF). So
only registries matching an ``--allow-registry`` pattern are ever contacted.

A pattern without ``/`` is matched against the registry host (with its port,
``docker.io`` for Docker Hub), one with ``/`` against ``registry/repository``;
``*`` and ``?`` are shell wildcards (``fnmatch``, case-sensitive), and ``*``
also matches ``/``: ``ghcr.io/acme/*`` allows every repository under ``acme``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from nfd.errors import UsageError
from nfd.oci import Reference


@dataclass(frozen=True)
class AllowList:
    """The registry patterns the webhook may contact."""

    patterns: tuple[str, ...]

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> AllowList:
        """Check the patterns: each is non-empty and has no spaces."""
        checked = []
        for pattern in patterns:
            if not pattern or pattern != pattern.strip() or " " in pattern:
                raise UsageError(f"registry pattern {pattern!r}: empty or contains spaces")
            checked.append(pattern)
        return cls(tuple(checked))

    def allows(self, ref: Reference) -> bool:
        """Whether ``ref``'s registry (or registry/repository) matches a pattern."""
        path = f"{ref.registry}/{ref.repository}"
        for pattern in self.patterns:
            subject = path if "/" in pattern else ref.registry
            if fnmatchcase(subject, pattern):
                return True
        return False
