"""Go's strconv and strings, as Go 1.26 prints them (values checked with a Go program)."""

from __future__ import annotations

import pytest

from nfd._go.strconv import atoi, atoi_value, quote
from nfd._go.strings import SPACE, trim_space


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", '"plain"'),
    ('say "hi"\\', '"say \\"hi\\"\\\\"'),
    ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
    ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
    ("é\u00a0\u2028", '"é\\u00a0\\u2028"'),
    ("\U0001f600\U000e0001", '"\U0001f600\\U000e0001"'),
    # Go's JSON decoder makes a lone surrogate U+FFFD, which Quote prints as it is.
    ("\ud800x", '"\ufffdx"'),
    ("\udfff", '"\ufffd"'),
])
def test_quote_is_gos(text: str, expected: str) -> None:
    assert quote(text) == expected


def test_quote_to_ascii() -> None:
    assert quote("é\ud800", ascii_only=True) == '"\\u00e9\\ufffd"'


@pytest.mark.parametrize(("text", "value", "kept"), [
    ("+5", 5, 5), ("-0", 0, 0), ("٣", None, 0), ("0x10", None, 0), ("1_000", None, 0),
    ("", None, 0), ("-", None, 0), (" 1", None, 0),
    ("9223372036854775807", 9223372036854775807, 9223372036854775807),
    ("9223372036854775808", None, 9223372036854775807),
    ("-9223372036854775809", None, -9223372036854775808),
])
def test_atoi_is_gos(text: str, value: int | None, kept: int) -> None:
    assert atoi(text) == value
    assert atoi_value(text) == kept


def test_trim_space_is_unicode_is_space() -> None:
    # Go's unicode.IsSpace: these 25 runes exactly (Python's str.strip also takes \x1c-\x1f).
    assert len(SPACE) == 25
    assert trim_space("\x85\u3000 x \x1c") == "x \x1c"
