"""The NodeFeatureRule we emit labels exactly the nodes the validator calls compatible."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._master import node_labels
from tests.cluster._synthetic import synthetic_features

from nfd.api import CompatSpec, Features, load_spec, loads_spec
from nfd.cluster import LabelScheme, build_rule_plan
from nfd.compat import validate_features
from nfd.errors import UsageError
from nfd.match import RegexCache

DATA = Path(__file__).parent / "data"
SCHEME = LabelScheme("compat.feature.node.kubernetes.io", "app-1.0-abcdef")


def _alternatives(n: int, feature: str, key: str) -> str:
    return "".join(f"    - matchFeatures:\n      - feature: {feature}\n"
                   f"        matchExpressions:\n          {key}: {{op: In, value: ['{v}']}}\n"
                   for v in range(n))


CROSS = loads_spec(
    "version: v1alpha1\ncompatibilities:\n- tag: cross\n  rules:\n  - name: os\n    matchAny:\n"
    "    - matchFeatures:\n      - feature: system.osrelease\n        matchExpressions:\n"
    "          ID: {op: In, value: [ubuntu]}\n"
    "    - matchFeatures:\n      - feature: system.osrelease\n        matchExpressions:\n"
    "          ID: {op: In, value: [debian]}\n"
    "  - name: nic\n    matchFeatures:\n    - feature: cpu.cpuid\n      matchExpressions:\n"
    "        AVX2: {op: Exists}\n    matchAny:\n"
    "    - matchFeatures:\n      - feature: pci.device\n        matchExpressions:\n"
    "          vendor: {op: In, value: ['15b3']}\n"
    "    - matchFeatures:\n      - feature: kernel.loadedmodule\n        matchExpressions:\n"
    "          ixgbe: {op: Exists}\n"
    "- tag: empty\n  rules: []\n", "cross.yaml")
WIDE = loads_spec(
    "version: v1alpha1\ncompatibilities:\n- tag: wide\n  rules:\n  - name: family\n    matchAny:\n"
    + _alternatives(9, "cpu.model", "id").replace("'", "")
    + "  - name: minor\n    matchAny:\n"
    + _alternatives(9, "kernel.version", "minor").replace("'", ""), "wide.yaml")


def population(host_features: dict[str, Features], count: int = 300) -> list[Features]:
    rng = random.Random(11)
    nodes = [synthetic_features(rng) for _ in range(count)]
    return [*host_features.values(), *nodes, Features()]


def check_equivalent(spec: CompatSpec, nodes: list[Features], tags: list[str],
                     validator: Any) -> dict[str, Any]:
    plan = build_rule_plan(spec, SCHEME, tags)
    errors = sorted(validator.iter_errors(plan.rule), key=str)
    assert not errors, errors[0]
    regexes = RegexCache()
    seen: set[bool] = set()
    for features in nodes:
        labels = node_labels(plan.rule, features, regexes)
        statuses = validate_features(spec, features, tags).statuses
        assert [s.index for s in statuses] == [s.index for s in plan.sets]
        for status, chosen in zip(statuses, plan.sets, strict=True):
            assert (chosen.label in labels) == status.is_match, (chosen.key, features)
            seen.add(status.is_match)
    assert seen == {True, False}  # the population exercises both outcomes
    return plan.rule


@pytest.mark.parametrize("name", ["spec-cpu-kernel.yaml", "spec-gpu.yaml"])
def test_flat_rules_match_the_validator(name: str, host_features: dict[str, Features],
                                        nfr_schema_validator: Any) -> None:
    spec = load_spec(DATA / name)
    rule = check_equivalent(spec, population(host_features), [], nfr_schema_validator)
    assert len(rule["spec"]["rules"]) == len(spec.compatibilities)  # one flat rule per set


def test_cross_product_of_match_any(host_features: dict[str, Features],
                                    nfr_schema_validator: Any) -> None:
    rule = check_equivalent(CROSS, population(host_features), [], nfr_schema_validator)
    first, empty = rule["spec"]["rules"]
    assert len(first["matchAny"]) == 4 and len(first["matchFeatures"]) == 1
    assert "matchFeatures" not in empty and "matchAny" not in empty  # no rules: matches all


def test_too_many_alternatives_are_chained(host_features: dict[str, Features],
                                           nfr_schema_validator: Any) -> None:
    nodes = population(host_features)
    rng = random.Random(5)
    for features in nodes[:40]:  # make some nodes satisfy both 9-way alternatives
        (features.attributes.setdefault("cpu.model", {}) or {})["id"] = str(rng.randint(0, 8))
        (features.attributes.setdefault("kernel.version", {}) or {})["minor"] = str(
            rng.randint(0, 8))
    plan = build_rule_plan(WIDE, SCHEME)
    assert plan.chained and len(plan.rule["spec"]["rules"]) == 3
    check_equivalent(WIDE, nodes, [], nfr_schema_validator)


@pytest.mark.parametrize("tags", [[], ["follow-up"], ["intel"]])
def test_back_references_are_chained_in_spec_order(tags: list[str],
                                                   host_features: dict[str, Features],
                                                   nfr_schema_validator: Any) -> None:
    spec = load_spec(DATA / "spec-backrefs.yaml")
    nodes = population(host_features)
    plan = build_rule_plan(spec, SCHEME, tags)
    # Only the sets selected count: "intel" alone reads no rule.matched and stays flat.
    assert plan.chained == (tags != ["intel"]) and bool(plan.notes) == plan.chained
    if tags != ["follow-up"]:
        check_equivalent(spec, nodes, tags, nfr_schema_validator)
        return
    # Without the first set, nothing sets "intel": no node may be labelled.
    for features in nodes:
        assert not node_labels(plan.rule, features)
        assert not validate_features(spec, features, tags).compatible


def test_validator_quirk_is_reproduced(nfr_schema_validator: Any) -> None:
    # Intel without an NVIDIA GPU: rule "intel" fails (matchAny) yet its var is recorded.
    spec = load_spec(DATA / "spec-backrefs.yaml")
    node = Features(attributes={"cpu.model": {"vendor_id": "Intel"},
                                "kernel.version": {"major": "6"}},
                    instances={"pci.device": [{"vendor": "8086"}]})
    statuses = validate_features(spec, node).statuses
    assert [s.is_match for s in statuses] == [False, True]
    plan = build_rule_plan(spec, SCHEME)
    labels = node_labels(plan.rule, node)
    assert [s.label in labels for s in plan.sets] == [False, True]


def test_label_keys_follow_kubernetes_syntax() -> None:
    spec = loads_spec("version: v1alpha1\ncompatibilities:\n"
                      + "".join(f"- tag: {'very-long-tag-' * 6}{i}\n  rules: []\n"
                                for i in range(3))
                      + "- tag: 'Ünïcode tag!'\n  rules: []\n- rules: []\n- tag: dup\n  rules: []\n"
                      "- tag: dup\n  rules: []\n")
    plan = build_rule_plan(spec, LabelScheme("compat.feature.node.kubernetes.io",
                                             "x" * 70 + "-1.0-abcdef"))
    keys = [s.label for s in plan.sets]
    assert len(set(keys)) == len(keys)
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    for key in keys:
        prefix, name = key.split("/")
        assert len(prefix) <= 253 and 0 < len(name) <= 63
        assert set(name) <= allowed and name[0].isalnum() and name[-1].isalnum()
    assert keys == [s.label for s in build_rule_plan(spec, plan_scheme()).sets]  # deterministic
    assert plan.rule["metadata"]["name"].startswith("image-compat-xxx")


def plan_scheme() -> LabelScheme:
    return LabelScheme("compat.feature.node.kubernetes.io", "x" * 70 + "-1.0-abcdef")


def test_unknown_tags_are_refused() -> None:
    with pytest.raises(UsageError, match="no compatibility set has tag gpu"):
        build_rule_plan(load_spec(DATA / "spec-cpu-kernel.yaml"), SCHEME, ["gpu"])
