"""The event-built YAML loader reads what PyYAML's safe loader reads, and nothing unsafe."""

from __future__ import annotations

import datetime
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nfd.api import LoadLimits, loads
from nfd.api._yaml import loads_all
from nfd.errors import SpecError

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False), st.text(max_size=20),
    st.sampled_from(["yes", "No", "on", "~", "0x1f", "010", "1_000", "2024-01-02", ".inf",
                     "<<", "=", "1e3", "-.5", "0200", "null", ""]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, True, False]))
def test_same_data_as_pyyaml_safe_load(doc: object, flow: bool | None) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    try:
        # A text that is JSON is read as JSON (``[0E0]`` holds a number, as in Go's
        # reading of it), otherwise as YAML 1.1.
        expected = json.loads(text)
    except ValueError:
        expected = yaml.safe_load(text)
    assert loads(text) == expected


@pytest.mark.parametrize("text", [
    "a: 1\nb: '1'\nc: yes\nd: ~\ne: 1.5\nf: 0x10\ng: 2024-01-01\nh: ''\ni:\nj: !!str 5\n",
    "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n",
    "m:\n  <<: [{a: 1}, {a: 2, b: 3}]\n",
    "k: |\n  literal\n  text\nf: >\n  folded\n  text\n",
    "? complex\n: key\n",
    "- &a x\n- *a\n",
])
def test_yaml_features_match_pyyaml(text: str) -> None:
    assert loads(text) == yaml.safe_load(text)


def test_timestamps_and_binary_are_standard_tags() -> None:
    assert loads("d: 2024-01-02") == {"d": datetime.date(2024, 1, 2)}
    assert loads("b: !!binary aGk=") == {"b": b"hi"}


@pytest.mark.parametrize(("text", "message"), [
    ("!!python/object/apply:os.system [echo hi]", "unsupported tag"),
    ("a: !custom x", "unsupported tag !custom"),
    ("a: 1\nb: 2\na: 3", "line 3, column 1: duplicate key 'a'"),
    ("? [a, b]\n: c", "a mapping key must be a scalar"),
    ("a: *nowhere", "undefined alias"),
    ("a: !!int twelve", "cannot read 'twelve' as int"),
    ("a: [1, 2", "did not find expected ',' or ']'"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("a: 1\n---\nb: 2", "expected one document, found 2"),
])
def test_unsafe_or_broken_yaml_is_a_located_error(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        loads(text, source="doc.yaml")
    assert str(info.value).startswith("doc.yaml: ")
    assert message in str(info.value)


def test_alias_expansion_is_bounded_and_recursion_too() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(SpecError, match="alias expansion bound"):
        loads("\n".join(levels), limits=LoadLimits(max_nodes=100_000))
    with pytest.raises(SpecError, match="alias expansion bound"):
        loads("&a [*a]")


def test_multi_document_streams() -> None:
    assert loads_all("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
