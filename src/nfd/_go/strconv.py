"""Go's ``strconv.Quote`` (what ``%q`` prints) and ``strconv.Atoi``.

A Go string never holds a UTF-16 surrogate code point: Go's JSON decoder turns
a lone ``\\ud800`` escape into U+FFFD, and ``string(rune(0xD800))`` is U+FFFD
too. A Python string can hold one (``json.loads`` keeps it), so ``quote`` reads
it as the U+FFFD Go would have, which is printable and written as it is
(checked with Go 1.26: ``strconv.Quote`` of the decoded ``"\\ud800"`` is
``"\\ufffd"`` raw, i.e. ``"�"``).
"""

from __future__ import annotations

_SHORT = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def is_print(ch: str) -> bool:
    """``unicode.IsPrint``: letters, marks, numbers, punctuation, symbols and ASCII space.

    Python's ``isprintable`` excludes exactly the other categories (C*, Z*) but the
    space, which is the same set.
    """
    return ch.isprintable()


def _escape(ch: str, ascii_only: bool) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # what Go's decoders make of a lone surrogate
        ch, code = "\ufffd", 0xFFFD
    if ch.isprintable() and (code < 0x80 or not ascii_only):
        return ch
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(text: str, ascii_only: bool = False) -> str:
    """``strconv.Quote(text)`` (``QuoteToASCII`` with ``ascii_only``): double-quoted, Go's
    escapes, printable Unicode kept."""
    if text.isprintable() and '"' not in text and "\\" not in text and (
            not ascii_only or text.isascii()):
        return f'"{text}"'
    return '"' + "".join(_escape(ch, ascii_only) for ch in text) + '"'


def _is_int(text: str) -> bool:
    """``[+-]?[0-9]+`` (string tests, not a regexp: nothing to compile at a cold start)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


def atoi(text: str) -> int | None:
    """``strconv.Atoi`` on 64-bit: optional sign, ASCII decimal digits, int64 range; ``None``
    where Go returns an error."""
    if not _is_int(text):
        return None
    number = int(text)
    return number if INT64_MIN <= number <= INT64_MAX else None


def atoi_value(text: str) -> int:
    """The number ``strconv.Atoi`` returns even with its error (what sprig's ``atoi`` keeps):
    0 for a syntax error, the nearest int64 bound when out of range."""
    if not _is_int(text):
        return 0
    return max(INT64_MIN, min(INT64_MAX, int(text)))
