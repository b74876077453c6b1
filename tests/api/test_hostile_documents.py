"""Hostile documents: every bound of the shared loader holds, on every path that reads one.

Each attack must end in a located one-line error (exit 2 in the CLI) quickly, whatever
the byte limit of the file it arrives in.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._cli import assert_one_line_error, nfd

from nfd.api import LoadLimits, loads
from nfd.api._yaml import MAX_NESTING_DEPTH, STRICT_JSON_BYTES, loads_all
from nfd.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "image-compatibility.yaml"


def billion_laughs(levels: int = 9) -> str:
    """The classic: each level is ten aliases of the one below (10**9 nodes in ~450 bytes)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int, flow: bool) -> str:
    if flow:
        return "[" * depth + "]" * depth
    return "".join("  " * i + "a:\n" for i in range(depth)) + "  " * depth + "b: 1\n"


def test_billion_laughs_fails_fast_even_with_a_huge_byte_limit() -> None:
    start = time.monotonic()
    with pytest.raises(SpecError, match=r"line \d+, column \d+: .*alias expansion bound"):
        loads(billion_laughs(), limits=LoadLimits(max_bytes=1 << 30))
    assert time.monotonic() - start < 1


@pytest.mark.parametrize("args", [
    ("compat", "validate-node", "--spec", str(SPEC), "--features"),
    ("compat", "validate-cluster", "--spec", str(SPEC), "--nodefeatures"),
])
def test_billion_laughs_as_features_is_a_quick_usage_error(tmp_path: Path,
                                                           args: tuple[str, ...]) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    assert path.stat().st_size < 600
    start = time.monotonic()
    proc = nfd(*args, str(path))
    assert_one_line_error(proc, 2, str(path), "alias expansion bound")
    assert time.monotonic() - start < 10  # interpreter start included; it took 79 s


def test_an_alias_of_itself_is_refused() -> None:
    with pytest.raises(SpecError, match="contains it"):
        loads("&a [*a]")


def test_ordinary_aliases_still_read() -> None:
    assert loads("base: &b {x: 1}\nuse: [*b, *b]\n") == {"base": {"x": 1},
                                                        "use": [{"x": 1}, {"x": 1}]}


@pytest.mark.parametrize("flow", [True, False])
def test_nesting_depth_is_bounded_with_a_location(flow: bool) -> None:
    assert loads(nested(MAX_NESTING_DEPTH - 1, flow)) is not None
    with pytest.raises(SpecError, match=rf"^doc: line \d+, column \d+: nesting deeper than "
                                        rf"{MAX_NESTING_DEPTH} levels$"):
        loads(nested(MAX_NESTING_DEPTH + 1, flow), source="doc")


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 500, 5000])
def test_deep_json_is_located_too(depth: int) -> None:
    text = '{"a": ' * depth + "1" + "}" * depth
    with pytest.raises(SpecError, match=r"^doc: line 1, column \d+: nesting deeper than"):
        loads(text, source="doc")


def test_deep_big_json_is_refused_without_a_yaml_reread() -> None:
    # Over the strict size, a fault is reported from the JSON itself (a JSON path), not
    # located by re-reading a huge text as YAML.
    filler = json.dumps({"pad": ["x" * 100] * (STRICT_JSON_BYTES // 100)})
    deep = '{"a": ' * (MAX_NESTING_DEPTH + 5) + "1" + "}" * (MAX_NESTING_DEPTH + 5)
    text = '{"filler": ' + filler + ', "deep": ' + deep + "}"
    limits = LoadLimits(max_bytes=64 << 20)
    start = time.monotonic()
    with pytest.raises(SpecError, match=r"^doc: deep\.a\.a\.a\[\.\.\.\]\.a\.a\.a: nesting deeper"):
        loads(text, source="doc", limits=limits)
    very_deep = '{"filler": ' + filler + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(SpecError, match=r"^doc: nesting deeper"):
        loads(very_deep, source="doc", limits=limits)
    assert time.monotonic() - start < 5


def test_aliases_cannot_nest_beyond_the_bound() -> None:
    half = MAX_NESTING_DEPTH // 2 + 5
    text = "deep: &d " + "[" * half + "]" * half + "\nuse: " + "[" * half + "*d" + "]" * half
    with pytest.raises(SpecError, match="nesting deeper than"):
        loads(text)


def big_json(duplicate: bool, tricky_values: bool) -> str:
    """A features-like JSON over the strict-parse size, optionally with one duplicate key."""
    elements = {f"key{i}": ('say ": hi' if tricky_values else "v") for i in range(2000)}
    text = json.dumps({"attributes": {f"f.{n}": {"elements": elements} for n in range(150)}})
    assert len(text) > STRICT_JSON_BYTES
    if duplicate:
        text = text.replace('"key7": ', '"key7": "x", "key7": ', 1)
    return text


@pytest.mark.parametrize("tricky_values", [False, True])
def test_duplicate_keys_are_refused_at_every_size(tricky_values: bool) -> None:
    limits = LoadLimits(max_bytes=64 << 20)
    doc = loads(big_json(False, tricky_values), limits=limits)
    assert len(doc["attributes"]) == 150
    with pytest.raises(SpecError, match="duplicate key 'key7'"):
        loads(big_json(True, tricky_values), limits=limits)


def test_affinity_patch_on_a_deep_manifest_is_a_usage_error(tmp_path: Path) -> None:
    manifest = tmp_path / "deep.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n"
                        "  containers: []\n  extra: " + "[" * 500 + "]" * 500 + "\n")
    proc = nfd("compat", "affinity", "--spec", str(SPEC), "--patch", str(manifest))
    assert_one_line_error(proc, 2, str(manifest), "nesting deeper than")


FRAGMENTS = st.sampled_from(["[", "]", "{", "}", "a: ", "- ", "&x ", "*x", "&y ", "*y", ", ",
                             "\n", "  ", "1", '"k": ', "<<: ", "? ", "!!str ", "---\n"])


@settings(max_examples=400, deadline=None)
@given(st.lists(FRAGMENTS, max_size=60), st.integers(0, 3))
def test_any_text_gives_a_value_or_a_spec_error(parts: list[str], repeat: int) -> None:
    text = "".join(parts) * (1 + repeat * 50)  # repeated: deep nesting and many aliases
    try:
        loads_all(text, limits=LoadLimits(max_bytes=1 << 30))
    except SpecError as exc:
        assert "\n" not in exc.message
