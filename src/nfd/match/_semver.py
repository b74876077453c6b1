"""Versions the way NFD compares them: Masterminds semver v3 ``NewVersion`` in coerce mode.

NFD (expression.go ``extractVersion``) parses with the loose grammar
``v?N(.N)?(.N)?(-pre)?(+meta)?``, validates the prerelease and metadata, then
drops the prerelease; metadata never affects ordering. So ``6.8.0-45-generic``
compares as ``6.8.0``, and ``5.4.0-045`` is not a version (a numeric
prerelease part may not start with 0).
"""

from __future__ import annotations

import functools
import re

_UINT64_MAX = (1 << 64) - 1


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The loose version grammar and a prerelease part, compiled on first need (most specs
    compare no versions, and a cold start counts)."""
    loose = re.compile(
        r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
        r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
        r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    )
    return loose, re.compile(r"[0-9A-Za-z\-]+")


def _valid_prerelease(pre: str) -> bool:
    allowed = _patterns()[1]
    for part in pre.split("."):
        if not part or not allowed.fullmatch(part):
            return False
        if part.isdigit() and len(part) > 1 and part[0] == "0":
            return False
    return True


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` as NFD compares them, or ``None`` when NFD rejects ``text``."""
    m = _patterns()[0].fullmatch(text)
    if m is None:
        return None
    parts = [int(m.group(1)), int((m.group(2) or ".0")[1:]), int((m.group(3) or ".0")[1:])]
    if any(p > _UINT64_MAX for p in parts):
        return None
    pre, meta = m.group(5), m.group(8)
    if pre and not _valid_prerelease(pre):
        return None
    # Metadata parts are only checked to be non-empty and of allowed characters,
    # which the grammar already guarantees.
    del meta
    return parts[0], parts[1], parts[2]
