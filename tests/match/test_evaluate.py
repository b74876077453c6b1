"""The spec evaluator's memory: nodes that differ in what a rule reads never share an outcome."""

from __future__ import annotations

import itertools

from nfd.api import Features, parse_spec
from nfd.match import SpecEvaluator, set_failures

SPEC = parse_spec({"version": "v1alpha1", "compatibilities": [
    {"rules": [{"name": "one", "matchFeatures": [
        {"feature": "f.a", "matchExpressions": {"x": {"op": "DoesNotExist"}}}]}]},
    {"rules": [{"name": "two", "matchFeatures": [
        {"feature": "f.b", "matchExpressions": {"y": {"op": "In", "value": ["1"]}}}]}]},
]})

# Every way a node can have (or lack) a feature and the one element a rule reads of it (x
# of f.a, y of f.b): no map entry, nil, empty, with it, with another; as flags,
# attributes and instances.
SHAPES: list[dict[str, object]] = [{}]
for feature, element in (("f.a", "x"), ("f.b", "y")):
    SHAPES += [
        {"flags": {feature: None}}, {"flags": {feature: set()}},
        {"flags": {feature: {element}}}, {"attributes": {feature: None}},
        {"attributes": {feature: {}}}, {"attributes": {feature: {element: "1"}}},
        {"attributes": {feature: {"z": "1"}}}, {"instances": {feature: None}},
        {"instances": {feature: []}}, {"instances": {feature: [{}]}},
        {"instances": {feature: [{"z": "1"}, {element: "1"}]}},
    ]


def _features(*parts: dict[str, object]) -> Features:
    out = Features()
    for part in parts:
        for kind, value in part.items():
            getattr(out, kind).update(value)  # type: ignore[arg-type]
    return out


def test_every_shape_judged_as_alone_by_one_shared_evaluator() -> None:
    shared = SpecEvaluator(SPEC)
    nodes = [_features(a, b) for a, b in itertools.combinations_with_replacement(SHAPES, 2)]
    outcomes = set()
    for features in nodes + nodes[::-1]:
        alone = SpecEvaluator(SPEC).validate(features)
        expected = [(s.is_match, set_failures(s, counts=False)) for s in alone.statuses]
        assert [(v.is_match, v.reasons) for v in shared.verdicts(features)] == expected
        outcomes.add(tuple(expected))
    assert len(outcomes) > 4  # the shapes do lead to different verdicts and reasons


def test_a_missing_feature_is_not_a_feature_missing_the_element() -> None:
    shared = SpecEvaluator(SPEC)
    empty_map = _features({"attributes": {"f.a": {}}})
    assert shared.verdicts(empty_map)[0].is_match  # x does not exist: matches
    assert not shared.verdicts(Features())[0].is_match  # no f.a at all: fails
