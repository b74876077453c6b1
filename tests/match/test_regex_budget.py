"""The regexps of one spec share one RE2 budget: a small spec cannot hang or exhaust a node."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd

from nfd._go.regexp import MAX_REGEX_MEMORY, RegexpBudgetError, RegexpLimits, Regexps
from nfd.api import loads_spec
from nfd.compat import ERROR, lint_spec, validate_features
from nfd.errors import SpecError
from nfd.match import RegexCache, spec_regexes

FEATURES = {"attributes": {"f.a": {"elements": {"x": "a"}}}}


def hostile_spec(count: int = 300) -> dict[str, object]:
    """About 5 KB: distinct, legal patterns that each compile to ~480,000 RE2 instructions."""
    exprs = {f"k{i}": {"op": "InRegexp", "value": [f"\\pL{{400}}x{i}"]} for i in range(count)}
    return {"version": "v1alpha1", "compatibilities": [{"rules": [
        {"name": "r", "matchFeatures": [{"feature": "f.a", "matchExpressions": exprs}]}]}]}


def test_large_patterns_stop_at_the_budget_quickly() -> None:
    regexps = Regexps()
    start = time.monotonic()
    with pytest.raises(RegexpBudgetError, match="exceed their budget"):
        for i in range(300):
            regexps.compile(f"\\pL{{400}}x{i}")
    assert time.monotonic() - start < 5  # it was over 60 s, and 1.1 GB
    assert regexps.memory <= MAX_REGEX_MEMORY


def test_many_small_patterns_fit_and_each_gets_a_small_max_mem() -> None:
    regexps = Regexps()
    for i in range(2000):
        assert regexps.compile(f"^(intel|amd)-{i}[0-9a-f]{{4}}$").search(f"amd-{i}00ff")
    assert regexps.memory <= MAX_REGEX_MEMORY


def test_a_failure_is_remembered_and_raised_afresh() -> None:
    regexps = Regexps(RegexpLimits(max_program_size=10))
    errors = []
    for _ in range(2):
        with pytest.raises(RegexpBudgetError) as info:
            regexps.compile("[a-z]{100}")
        errors.append(info.value)
    assert errors[0] is not errors[1]
    assert RegexCache().compile("a(") is None  # a syntax error is not a budget error


def test_spec_regexes_names_the_expression_over_budget() -> None:
    spec = loads_spec(json.dumps(hostile_spec()), "hostile.yaml")
    with pytest.raises(SpecError) as info:
        spec_regexes(spec)
    message = str(info.value)
    assert message.startswith("hostile.yaml: compatibilities[0].rules[0].matchFeatures[0]."
                              "matchExpressions.k")
    assert ".value[0]: regular expressions exceed their budget" in message


def test_lint_applies_the_same_budget_and_says_so_once() -> None:
    spec = loads_spec(json.dumps(hostile_spec(50)))
    errors = [f for f in lint_spec(spec) if f.severity == ERROR]
    assert len(errors) == 1 and "exceed their budget" in errors[0].message
    assert errors[0].path.endswith("matchExpressions.k2.value[0]")


def test_verdicts_are_unchanged_by_the_up_front_compile() -> None:
    from nfd.api import load_features_document

    spec = loads_spec(json.dumps({"version": "v1alpha1", "compatibilities": [{"rules": [
        {"name": "r", "matchFeatures": [{"feature": "f.a", "matchExpressions": {
            "x": {"op": "InRegexp", "value": ["^a$"]}}},
            # never evaluated by NFD (no such feature): an invalid pattern is no error
            {"feature": "f.none", "matchExpressions": {"y": {"op": "InRegexp",
                                                             "value": ["("]}}}]}]}]}))
    features = load_features_document(FEATURES)
    assert not validate_features(spec, features).compatible


@pytest.mark.parametrize("command", ["validate-spec", "validate-node"])
def test_cli_refuses_the_hostile_spec_fast(tmp_path: Path, command: str) -> None:
    spec = tmp_path / "hostile.json"
    spec.write_text(json.dumps(hostile_spec(), separators=(",", ":")))
    assert spec.stat().st_size < 16_000
    features = tmp_path / "features.json"
    features.write_text(json.dumps(FEATURES))
    args = [str(spec)] if command == "validate-spec" else ["--spec", str(spec), "--features",
                                                            str(features)]
    start = time.monotonic()
    proc = nfd("compat", command, *args)
    assert time.monotonic() - start < 20  # it was over 60 s
    if command == "validate-node":
        assert_one_line_error(proc, 2, str(spec), ".value[0]", "exceed their budget")
    else:  # the linter's warnings (unknown feature f.a) come before the one error
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        errors = [line for line in proc.stderr.splitlines() if "exceed their budget" in line]
        assert len(errors) == 1 and str(spec) in errors[0] and ".k2.value[0]" in errors[0]


def test_validate_cluster_applies_the_budget_before_any_node(tmp_path: Path) -> None:
    from tests.cluster._synthetic import node_feature

    from nfd.api import Features

    spec = tmp_path / "hostile.json"
    spec.write_text(json.dumps(hostile_spec()))
    dump = tmp_path / "nf.json"
    dump.write_text(json.dumps({"kind": "List", "items": [
        node_feature(f"n{i}", Features(attributes={"f.a": {"x": "a"}})) for i in range(50)]}))
    start = time.monotonic()
    proc = nfd("compat", "validate-cluster", "--spec", str(spec), "--nodefeatures", str(dump))
    assert_one_line_error(proc, 2, str(spec), ".k2.value[0]", "exceed their budget")
    assert time.monotonic() - start < 20
