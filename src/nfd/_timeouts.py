"""What counts as a usable timeout (kept free of heavy imports: flags parse it early)."""

from __future__ import annotations

# Longest timeout we accept: beyond a day is a typo, and sockets refuse huge values
# (``1e308`` does not fit a C timeval; ``inf`` and ``nan`` are not durations).
MAX_TIMEOUT = 86400.0
# One registry operation's deadline (retries, redirects and auth included), by default.
DEFAULT_REGISTRY_TIMEOUT = 30.0


def check_timeout(seconds: float) -> float:
    """``seconds`` if it is a usable timeout (finite, positive, at most a day), else ValueError."""
    import math  # here: flags import this module on every run, only --image checks

    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) \
            or not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise ValueError(f"a timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}], "
                         f"not {seconds!r}")
    return float(seconds)
