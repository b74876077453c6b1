"""Go's ``strings.TrimSpace`` and the ``unicode.IsSpace`` set it trims."""

from __future__ import annotations

# unicode.IsSpace (checked with Go 1.26 over every rune); str.strip() would also take
# U+001C..U+001F, which Go keeps.
SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def trim_space(text: str) -> str:
    """``strings.TrimSpace``."""
    return text.strip(SPACE)


def is_space(ch: str) -> bool:
    """``unicode.IsSpace`` of one character."""
    return ch in SPACE
