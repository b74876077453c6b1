"""Rules shared across specs (``SharedOutcomes``) give exactly each spec's own verdicts."""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.match._cases import load_cases

from nfd.api import load_features_document, parse_spec
from nfd.errors import SpecError
from nfd.match import SharedOutcomes, SpecEvaluator, UnknownTagError

CASES = load_cases(Path(__file__).parent / "cases")


def _compiled(shared: SharedOutcomes | None) -> list[tuple[SpecEvaluator, SpecEvaluator]]:
    pairs = []
    for case in CASES:
        if case.exit == 2:
            continue
        try:
            spec = parse_spec(case.spec, "spec.yaml")
            tags = case.raw.get("tags") or []
            pairs.append((SpecEvaluator(spec, tags), SpecEvaluator(spec, tags, shared=shared)))
        except (SpecError, UnknownTagError):
            continue
    return pairs


def test_every_case_spec_on_every_case_node_agrees_with_its_own_evaluator() -> None:
    """All case specs (matchAny, back-references, vars, templates, every op) on all case
    nodes, evaluated twice over so outcomes are reused across specs and nodes."""
    shared = SharedOutcomes()
    pairs = _compiled(shared)
    nodes = []
    for case in CASES:
        try:
            nodes.append(load_features_document(case.features, source="features.json"))
        except SpecError:
            continue
    assert len(pairs) > 200 and len(nodes) > 200
    compared = 0
    for (own, together), features in itertools.product(pairs[::3], nodes[::7]):
        try:
            expected = own.verdicts(features)
        except SpecError:
            continue
        assert together.verdicts(features) == expected
        assert together.verdicts(features) == expected  # now from the shared outcomes
        compared += 1
    assert compared > 1000


def test_identical_rules_of_two_specs_are_evaluated_once_per_projection() -> None:
    text = {"version": "v1alpha1", "compatibilities": [{"rules": [
        {"name": "kernel", "matchFeatures": [{"feature": "kernel.version",
                                              "matchExpressions": {"major": {"op": "Gt",
                                                                             "value": ["5"]}}}]},
    ]}]}
    other = {"version": "v1alpha1", "compatibilities": [{"description": "other", "rules": [
        *text["compatibilities"][0]["rules"],  # type: ignore[index]
        {"name": "os", "matchFeatures": [{"feature": "system.osrelease",
                                          "matchExpressions": {"ID": {"op": "In",
                                                                      "value": ["debian"]}}}]},
    ]}]}
    shared = SharedOutcomes()
    first = SpecEvaluator(parse_spec(text, "a.yaml"), shared=shared)
    second = SpecEvaluator(parse_spec(other, "b.yaml"), shared=shared)
    node = load_features_document({"attributes": {
        "kernel.version": {"elements": {"major": "6"}},
        "system.osrelease": {"elements": {"ID": "debian"}}}})
    calls = []
    original = SpecEvaluator._execute

    def counting(self: SpecEvaluator, plan: object, features: object) -> object:
        calls.append(plan)
        return original(self, plan, features)  # type: ignore[arg-type]

    SpecEvaluator._execute = counting  # type: ignore[method-assign,assignment]
    try:
        assert first.verdicts(node)[0].is_match
        assert second.verdicts(node)[0].is_match
    finally:
        SpecEvaluator._execute = original  # type: ignore[method-assign]
    assert len(calls) == 2  # the kernel rule once, the os rule once
