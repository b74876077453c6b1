"""Did-you-mean: the one place that picks the word a user probably meant.

Used for command names, flags and the spec vocabulary, so every hint follows the
same rules: a case-insensitive equal first, then the word as the start of a longer
choice (``--node`` for ``--nodefeatures``: the near miss that argparse would have
expanded silently, and cobra refuses), then difflib's closest at one cutoff.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

CUTOFF = 0.7
_MIN_PREFIX = 3  # "--n" or "ab" start too many words to mean one


def closest_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely stands for, or ``None``."""
    import difflib  # here: only a mistake pays for it

    pool = [c for c in choices if c != word]
    folded = {c.lower(): c for c in pool}
    if word.lower() in folded:
        return folded[word.lower()]
    bare = word.lstrip("-")
    if len(bare) >= _MIN_PREFIX:
        longer = [c for c in pool if c.startswith(word)]
        if longer:
            return min(longer, key=lambda c: (len(c), c))
    close = difflib.get_close_matches(word, pool, n=1, cutoff=CUTOFF)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str], quote: str = '"') -> str:
    """`` (did you mean "X"?)`` for the closest choice, or nothing; ``quote=""`` for flags."""
    found = closest_match(word, choices)
    return f" (did you mean {quote}{found}{quote}?)" if found is not None else ""
