"""Making text that came from outside safe to print on a terminal.

Registries, API servers and spec authors choose the bytes of their error
bodies, media types, descriptions and names. Printed raw, an ESC sequence
can retitle the window, clear the screen or hide the rest of a line, and a
bidirectional override can reorder what the reader sees. Every piece of
outside text is passed through :func:`printable` (or :func:`printable_line`
for one-line messages) where the CLI prints it.
"""

from __future__ import annotations

import functools
import re

# C0 and C1 controls and DEL, minus newline and tab (kept by printable()).
_CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f]"
# Unicode format characters that change how a line is shown (bidi overrides,
# isolates, line/paragraph separators).
_INVISIBLE = "[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"


@functools.cache
def _unprintable() -> re.Pattern[str]:
    # Compiled on first need: most text is printable, and a cold start counts.
    return re.compile(f"{_CONTROLS}|{_INVISIBLE}")


def printable(text: str) -> str:
    """``text`` without control characters other than newline and tab."""
    if text.isprintable():
        return text
    return _unprintable().sub("", text)


def printable_line(text: str) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space."""
    return " ".join(printable(text).split())

