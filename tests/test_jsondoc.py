"""nfd/_jsondoc.py: JSON paths, located type checks, nesting depth, and the duplicate-key
count, one implementation for text and bytes."""

from __future__ import annotations

import json

import pytest

from nfd._jsondoc import (
    JsonTooDeep,
    join_path,
    json_shape,
    mapping,
    no_key_dropped,
    sequence,
)
from nfd.errors import SpecError


@pytest.mark.parametrize(("base", "key", "path"), [
    ("", "spec", "spec"), ("spec", "rules", "spec.rules"), ("spec.rules", 0, "spec.rules[0]"),
    ("", 3, "[3]"),
])
def test_join_path(base: str, key: str | int, path: str) -> None:
    assert join_path(base, key) == path


def test_type_checks_name_the_path_and_the_type() -> None:
    assert mapping({"a": 1}, "x") == {"a": 1}
    assert sequence([1], "x") == [1]
    with pytest.raises(SpecError, match="expected a mapping, got list") as info:
        mapping([], "spec.rules[0]")
    assert info.value.path == "spec.rules[0]"
    with pytest.raises(SpecError, match="expected a list, got null"):
        sequence(None, "items")


def test_json_shape_counts_keys_and_stops_past_the_depth() -> None:
    assert json_shape([{"a": {"b": [1, {"c": 2}]}, "d": 3}], 10) == 4
    deep: object = 1
    for _ in range(50):
        deep = [deep]
    assert json_shape([deep], 50) == 0
    with pytest.raises(JsonTooDeep):
        json_shape([deep], 49)


@pytest.mark.parametrize(("text", "whole"), [
    (b'{"a": {"b":1, "c":[2]}, "d":[{}]}', True),
    (b'{"a": 1, "b": {"a": 2}}', True),  # equal keys in different mappings
    (b'{"a": 1, "a": 2}', False),
    (b'{"a": 1, "b": {"c": 2, "c": 3}}', False),
    (b'{"t": "10:00", "a": 1}', True),  # colons in strings: '":' decides
    (b'{"t": "10:00", "a": 1, "a": 2}', False),
    (b'{"t": "10:00", "a": 1, "a" : 2}', False),  # a blank before the colon
    (b'{"t": "10:00", "a"\n: 1}', False),  # cannot be ruled out: read in full
    (b'{"a\\":": 1, "a": 2}', False),  # a colon inside a key: not ruled out
])
def test_no_key_dropped_only_when_the_counts_rule_it_out(text: bytes, whole: bool) -> None:
    keys = json_shape([json.loads(text)], 100)
    assert no_key_dropped(text, keys) is whole
    assert no_key_dropped(text.decode(), keys) is whole  # the same verdict on text
    for cut in range(len(text)):  # counted in two parts, as on two cores
        colons = text.count(b":", 0, cut) + text.count(b":", cut)
        assert no_key_dropped(text, keys, colons) is whole
