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


FAILING = parse_spec({"version": "v1alpha1", "compatibilities": [
    {"rules": [
        {"name": "kmod", "matchFeatures": [
            {"feature": "kernel.loadedmodule", "matchExpressions": {
                "vfio_pci": {"op": "Exists"}, "kvm": {"op": "Exists"}}},
            {"feature": "cpu.model", "matchExpressions": {
                "vendor_id": {"op": "In", "value": ["Intel"]}}}]},
        {"name": "nic", "matchAny": [
            {"matchFeatures": [{"feature": "pci.device", "matchExpressions": {
                "vendor": {"op": "In", "value": ["15b3"]}}}]},
            {"matchFeatures": [{"feature": "usb.device", "matchExpressions": {
                "vendor": {"op": "In", "value": ["0bda"]}}}]}]}]},
    {"rules": [{"name": "ok", "matchFeatures": [
        {"feature": "kernel.loadedmodule", "matchExpressions": {"kvm": {"op": "Exists"}}}]}]},
]})


def test_failures_are_the_failing_expressions_with_the_node_values() -> None:
    node = _features({"flags": {"kernel.loadedmodule": {"kvm"}}},
                     {"attributes": {"cpu.model": {"vendor_id": "AMD"}}},
                     {"instances": {"pci.device": [{"vendor": "8086"}, {"vendor": "10de"}]}})
    result = SpecEvaluator(FAILING).validate(node)
    assert result.compatible  # the second set matches: its lines are not failures
    found = [(f.set_index, f.rule, f.alternative, f.feature, f.name, f.expression.op)
             for f in result.failures()]
    assert found == [
        (0, "kmod", None, "cpu.model", "vendor_id", "In"),
        (0, "kmod", None, "kernel.loadedmodule", "vfio_pci", "Exists"),
        (0, "nic", 1, "pci.device", "vendor", "In"),
        (0, "nic", 2, "usb.device", "vendor", "In"),
    ]
    vendor, vfio, pci, usb = (f.node for f in result.failures())
    assert (vendor.available, vendor.present, vendor.value) == (True, True, "AMD")
    assert (vfio.available, vfio.present) == (True, False)
    assert (pci.instances, pci.values) == (2, ("8086", "10de"))
    assert not usb.available


def test_a_matching_node_has_no_failures() -> None:
    node = _features({"flags": {"kernel.loadedmodule": {"kvm", "vfio_pci"}}},
                     {"attributes": {"cpu.model": {"vendor_id": "Intel"}}},
                     {"instances": {"usb.device": [{"vendor": "0bda"}]}})
    result = SpecEvaluator(FAILING).validate(node)
    assert all(status.is_match for status in result.statuses)
    assert result.failures() == []
