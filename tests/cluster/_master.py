"""What NFD's master does with a NodeFeatureRule, for checking the rules we emit.

``nfd-master.go`` ``processNodeFeatureRule`` runs each rule with ``Execute(rule,
features, failFast=true)``: a rule yields its labels and vars only when it
matches, and both are fed into the ``rule.matched`` attribute feature for the
rules after it. The matching itself is the project's engine (NFD's semantics);
only this bookkeeping is restated here.
"""

from __future__ import annotations

from typing import Any

from nfd.api import Features, parse_spec
from nfd.match import RegexCache, execute_group_rule

RULE_MATCHED = "rule.matched"
_MATCHER_KEYS = ("name", "vars", "varsTemplate", "matchFeatures", "matchAny")


def node_labels(rule_obj: dict[str, Any], features: Features,
                regexes: RegexCache | None = None) -> dict[str, str]:
    """The labels a NodeFeatureRule puts on a node with ``features``."""
    regexes = regexes or RegexCache()
    rules = rule_obj["spec"]["rules"]
    matchers = [{k: v for k, v in r.items() if k in _MATCHER_KEYS} for r in rules]
    parsed = parse_spec({"version": "v1alpha1", "compatibilities": [{"rules": matchers}]})
    work = features.copy()
    labels: dict[str, str] = {}
    for obj, rule in zip(rules, parsed.compatibilities[0].rules, strict=True):
        result = execute_group_rule(rule, work, regexes)
        out_labels = dict(obj.get("labels") or {}) if result.is_match else {}
        out_vars = result.vars if result.is_match else {}
        labels.update(out_labels)
        work.insert_attributes(RULE_MATCHED, out_labels)
        work.insert_attributes(RULE_MATCHED, out_vars)
    return labels
