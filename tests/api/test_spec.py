"""The compat spec model: strict structure, located errors, NFD's YAML coercions."""

from __future__ import annotations

import pytest

from nfd.api import MatchExpression, loads_spec, spec_to_obj
from nfd.errors import SpecError

VALID = """
version: v1alpha1
compatibilities:
- description: d
  weight: 90
  tag: prefered
  rules:
  - name: r
    matchFeatures:
    - feature: cpu.model
      matchExpressions:
        family: {op: Gt, value: [5]}
        vendor_id: {op: In, value: ["Intel", "AMD"]}
    - feature: kernel.loadedmodule
      matchName: {op: InRegexp, value: ["^vfio"]}
"""


def test_valid_spec_keeps_what_was_written() -> None:
    spec = loads_spec(VALID, "spec.yaml")
    compat = spec.compatibilities[0]
    assert (compat.weight, compat.tag, compat.description) == (90, "prefered", "d")
    term = compat.rules[0].match_features[0]
    assert term.match_expressions == {
        # sigs.k8s.io/yaml turns a YAML number into the Go string field's text
        "family": MatchExpression("Gt", ("5",)),
        "vendor_id": MatchExpression("In", ("Intel", "AMD")),
    }
    assert compat.rules[0].match_features[1].match_expressions is None
    assert compat.rules[0].match_features[1].match_name == MatchExpression("InRegexp", ("^vfio",))


def test_round_trip_through_plain_document() -> None:
    spec = loads_spec(VALID)
    assert loads_spec(__import__("json").dumps(spec_to_obj(spec))).compatibilities == (
        spec.compatibilities
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("compatibilities: []", "spec.yaml: version: missing required field version"),
        ("version: v1\ncompatibilities: [{rules: []}]",
         "spec.yaml: version: unsupported version 'v1' (expected v1alpha1)"),
        ("version: v1alpha1", "spec.yaml: compatibilities: missing required field"),
        ("version: v1alpha1\ncompatibilities: []",
         "spec.yaml: compatibilities: must list at least one"),
        ("version: v1alpha1\ncompatibilities: [{rules: [], weigth: 3}]",
         "spec.yaml: compatibilities[0].weigth: unknown field \"weigth\""),
        ("version: v1alpha1\ncompatibilities: [{rules: [], weight: high}]",
         "spec.yaml: compatibilities[0].weight: expected an integer, got string"),
        ("version: v1alpha1\ncompatibilities: [{rules: [{matchFeatures: "
         "[{matchExpressions: {}}]}]}]",
         "spec.yaml: compatibilities[0].rules[0].matchFeatures[0].feature: missing required"),
        ("version: v1alpha1\ncompatibilities: [{rules: [{matchFeatures: "
         "[{feature: a.b, matchExpressions: {x: {op: In, value: abc}}}]}]}]",
         "spec.yaml: compatibilities[0].rules[0].matchFeatures[0].matchExpressions.x.value: "
         "expected a list, got string"),
        ("version: v1alpha1\ncompatibilities: [{rules: [{matchFeatures: "
         "[{feature: a.b, matchExpressions: {x: {op: In, valeu: [a]}}}]}]}]",
         "spec.yaml: compatibilities[0].rules[0].matchFeatures[0].matchExpressions.x.valeu: "
         "unknown field \"valeu\" (expected one of op, value, type)"),
        ("version: v1alpha1\ncompatibilities: [{rules: [{matchAny: [{matchFeatures: "
         "[{feature: a.b, matchExpressions: {x: null}}]}]}]}]",
         "spec.yaml: compatibilities[0].rules[0].matchAny[0].matchFeatures[0]"
         ".matchExpressions.x: expected a mapping, got null"),
        ("version: v1alpha1\nversion: v1alpha1\ncompatibilities: [{rules: []}]",
         "spec.yaml: line 2, column 1: duplicate key 'version'"),
        ("version: v1alpha1\ncompatibilities: [{rules: [}", "spec.yaml: line 2, column"),
        ("- a\n- b", "spec.yaml: (document): expected a mapping, got list"),
        ("version: !!python/object:os.system x", "spec.yaml: line 1, column 10:"),
    ],
)
def test_bad_specs_name_file_and_path(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        loads_spec(text, "spec.yaml")
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_size_bound() -> None:
    from nfd.api import LoadLimits

    text = VALID + "#" * 2000
    with pytest.raises(SpecError, match="over the 1000-byte limit"):
        loads_spec(text, "big.yaml", LoadLimits(max_bytes=1000))


def test_alias_bomb_is_bounded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefgh"):
        prev = "abcdefgh"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"  # noqa: E501
    with pytest.raises(SpecError, match="alias expansion bound"):
        loads_spec(bomb, "bomb.yaml")


def test_expression_string_is_nfds() -> None:
    assert str(MatchExpression("In", ("a", 'b"c'))) == '{op: "In", value: ["a" "b\\"c"]}'
    assert str(MatchExpression("Exists")) == '{op: "Exists"}'
    assert str(MatchExpression("In", ("\x01é",))) == '{op: "In", value: ["\\x01é"]}'


def test_field_names_are_case_insensitive_like_go() -> None:
    spec = loads_spec("Version: v1alpha1\ncompatibilities:\n- Rules:\n  - matchfeatures:\n"
                      "    - Feature: cpu.model\n      MatchExpressions:\n"
                      "        vendor_id: {Op: In, VALUE: [Intel]}\n")
    term = spec.compatibilities[0].rules[0].match_features[0]
    assert term.match_expressions == {"vendor_id": MatchExpression("In", ("Intel",))}


@pytest.mark.parametrize(("rule", "path", "spellings"), [
    ("  - matchFeatures: []\n    MatchFeatures: []\n",
     "compatibilities[0].rules[0].MatchFeatures", '"matchFeatures" and "MatchFeatures"'),
    ("  - name: a\n    NAME: b\n", "compatibilities[0].rules[0].NAME", '"name" and "NAME"'),
    ("  - matchFeatures:\n    - feature: f.a\n      matchName: {op: Exists, OP: In}\n",
     "compatibilities[0].rules[0].matchFeatures[0].matchName.OP", '"op" and "OP"'),
])
def test_case_variant_duplicate_fields_are_located_errors(rule: str, path: str,
                                                           spellings: str) -> None:
    # Go would merge both spellings into one field; we refuse rather than keep one.
    text = "version: v1alpha1\ncompatibilities:\n- rules:\n" + rule
    with pytest.raises(SpecError) as info:
        loads_spec(text, "spec.yaml")
    message = str(info.value)
    assert message.startswith(f"spec.yaml: {path}: "), message
    assert spellings in message and "\n" not in message


def test_case_variant_duplicate_in_features_is_an_error() -> None:
    from nfd.api import load_features_document

    with pytest.raises(SpecError, match=r'"flags" written twice'):
        load_features_document({"flags": {}, "Flags": {}}, source="f.json")
