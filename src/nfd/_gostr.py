"""Go's ``strconv.Quote`` (what ``%q`` prints), for NFD-identical text output."""

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


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    if ch == " " or ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:  # lone surrogate: Go sees invalid UTF-8
        return "\\ufffd"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """``strconv.Quote(text)``: double-quoted, Go escapes, printable Unicode kept."""
    return '"' + "".join(_escape(ch) for ch in text) + '"'
