"""Making text that came from outside safe to print on a terminal or write to a log.

Registries, API servers, spec authors and whoever creates pods choose the
bytes of their error bodies, media types, descriptions, pod names and image
references. Printed raw, an ESC sequence can retitle the window, clear the
screen or hide the rest of a line, a bidirectional override can reorder what
the reader sees, and a newline can forge a whole log line. This module is the
one place such text is made safe; every print and log site uses it (a test
scans them all):

* :func:`printable` escapes every control character other than newline and tab
  (C0, DEL, C1) and the Unicode format characters that change how a line is
  shown (bidi overrides and isolates, line and paragraph separators) as
  ``\\xNN`` / ``\\uNNNN``, so the reader sees that they were there;
* :func:`printable_line` also makes the text one line (whitespace runs,
  newlines included, become one space): error lines and table cells;
* :func:`log_field` escapes newline, carriage return and tab too (``\\n``,
  ``\\r``, ``\\t``): a value inside a log record, where a forged line must stay
  visibly part of the record it came in.
"""

from __future__ import annotations

import functools
import re

# C0 and C1 controls and DEL, minus newline and tab (kept by printable()).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Unicode format characters that change how a line is shown (bidi marks, embeddings,
# overrides and isolates; line and paragraph separators), per Unicode UAX #9.
_INVISIBLE = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@functools.cache
def _unprintable(keep_layout: bool) -> re.Pattern[str]:
    # Compiled on first need: most text is printable, and a cold start counts.
    extra = "" if keep_layout else "\n\t"
    return re.compile(f"[{_CONTROLS}{_INVISIBLE}{extra}]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character but newline and tab escaped (``\\x1b``)."""
    if text.isprintable():
        return text
    return _unprintable(True).sub(_escape, text)


def printable_line(text: str) -> str:
    """``text`` on one line: whitespace runs (newlines included) become one space."""
    return " ".join(printable(text).split())


def log_field(text: str) -> str:
    """``text`` for a log record: controls escaped, newline, CR and tab as ``\\n`` ``\\r`` ``\\t``.

    The other line breaks (VT, FF, FS/GS/RS, NEL, U+2028, U+2029) are escaped too, so
    the result holds no line break any reader would honour.
    """
    if text.isprintable():
        return text
    return _unprintable(False).sub(_escape, text)


def clipped_repr(value: object, limit: int = 80) -> str:
    """A value from outside, for a one-line message: its ``repr`` (so escaped and quoted),
    cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
