"""Translating a compatibility spec into an NFD ``NodeFeatureRule`` that labels matching nodes.

How NFD evaluates the two (``pkg/apis/nfd/nodefeaturerule/rule.go``,
``nfd-master.go`` ``processNodeFeatureRule``, ``node-validator.go``):

* A compatibility set matches when all its GroupRules match. Within one
  NodeFeatureRule rule, ``matchFeatures`` terms are ANDed and each term is
  evaluated on its own, so concatenating the terms of several rules is exact;
  ``matchAny`` is an OR, and ``(a1|a2) & (b1|b2)`` is exactly the ``matchAny`` of
  the cross product ``a1+b1, a1+b2, ...``. That is the **flat** form: one
  NodeFeatureRule rule per set, no helper state. It is used when no rule of the
  spec reads ``rule.matched`` and the cross product stays small.
* Otherwise the set is **chained**: every GroupRule becomes its own rule, in
  spec order, with its own ``vars``/``varsTemplate`` (so ``rule.matched``
  back-references see what NFD's validator shows them) plus a marker var; a
  last rule per set tests all markers in ``rule.matched`` and sets the label.
  NFD's master, like the validator, feeds every rule's vars into ``rule.matched``
  for the rules after it, in order.
* One difference is bridged: the validator (fail-fast off) still records a
  rule's vars when its ``matchAny`` failed but its ``matchFeatures`` passed; the
  master records vars only for matching rules. Such rules are preceded by a
  ``matchFeatures``-only twin carrying the same vars, which reproduces it.

The target NFD may be older than the reference: with an :class:`NfdSupport` every
expression is fitted to what it accepts (``Ge n`` becomes ``Gt n-1`` where exact)
or refused (:mod:`nfd.cluster._nfd_releases`).

What cannot be made identical is reported as notes: the master also feeds
rule *labels* (ours too) into ``rule.matched``, and other NodeFeatureRules
that sort before ours may have put values there already.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nfd.api import NFD_API_VERSION, Compatibility, CompatSpec, FeatureMatcherTerm, GroupRule
from nfd.cluster._labels import LABEL_VALUE, LabelScheme, set_keys
from nfd.cluster._nfd_releases import NfdSupport, fit_compatibility
from nfd.match import select_sets

RULE_MATCHED = "rule.matched"
MAX_FLAT_ALTERNATIVES = 64


@dataclass(frozen=True)
class SelectedSet:
    """A compatibility set chosen for scheduling, with the node label that marks it."""

    index: int
    compat: Compatibility
    key: str
    label: str


@dataclass
class RulePlan:
    """The NodeFeatureRule object, the label of each set, and notes for the user."""

    rule: dict[str, Any]
    sets: list[SelectedSet]
    chained: bool
    notes: list[str] = field(default_factory=list)


def _terms(terms: Iterable[FeatureMatcherTerm]) -> list[dict[str, Any]]:
    return [t.to_obj() for t in terms]


def _reads_backrefs(rules: Iterable[GroupRule]) -> bool:
    for rule in rules:
        terms = list(rule.match_features)
        for alternative in rule.match_any:
            terms.extend(alternative.match_features)
        # NFD lower-cases feature names before looking them up.
        if any(t.feature.lower() == RULE_MATCHED for t in terms):
            return True
    return False


def _alternatives(rules: Sequence[GroupRule]) -> int:
    count = 1
    for rule in rules:
        if rule.match_any:
            count *= len(rule.match_any)
    return count


def _flat_rule(name: str, label: str, rules: Sequence[GroupRule]) -> dict[str, Any]:
    """One rule ANDing all terms, ``matchAny`` = cross product of the rules' alternatives."""
    out: dict[str, Any] = {"name": name, "labels": {label: LABEL_VALUE}}
    features = [t for rule in rules for t in rule.match_features]
    if features:
        out["matchFeatures"] = _terms(features)
    any_rules = [rule.match_any for rule in rules if rule.match_any]
    if any_rules:
        out["matchAny"] = [
            {"matchFeatures": _terms(t for alt in combo for t in alt.match_features)}
            for combo in itertools.product(*any_rules)
        ]
    return out


def _own_rule(name: str, rule: GroupRule, vars_: dict[str, str], with_any: bool = True,
              template: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if vars_:
        out["vars"] = vars_
    if template and rule.vars_template:
        out["varsTemplate"] = rule.vars_template
    if rule.match_features:
        out["matchFeatures"] = _terms(rule.match_features)
    if with_any and rule.match_any:
        out["matchAny"] = [{"matchFeatures": _terms(a.match_features)} for a in rule.match_any]
    return out


def _marker_rule(name: str, label: str, markers: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "labels": {label: LABEL_VALUE}}
    if markers:
        out["matchFeatures"] = [{
            "feature": RULE_MATCHED,
            "matchExpressions": {m: {"op": "In", "value": [LABEL_VALUE]} for m in markers},
        }]
    return out


def _chained_rules(chosen: SelectedSet, scheme: LabelScheme, keep_vars: bool
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    rules: list[dict[str, Any]] = []
    markers: list[str] = []
    for r_index, rule in enumerate(chosen.compat.rules):
        name = f"{chosen.key}: {rule.name or f'rule {r_index + 1}'}"
        marker = scheme.var_name(chosen.key, r_index + 1)
        own_vars = dict(rule.vars) if keep_vars else {}
        if keep_vars and rule.match_any and (rule.vars or rule.vars_template):
            # The validator keeps these vars even when matchAny fails: replay that first.
            rules.append(_own_rule(f"{name} (vars)", rule, dict(rule.vars), with_any=False))
        rules.append(_own_rule(name, rule, {**own_vars, marker: LABEL_VALUE},
                               template=keep_vars))
        markers.append(marker)
    return rules, markers


def build_rule_plan(spec: CompatSpec, scheme: LabelScheme, tags: Sequence[str] = (),
                    nfd: NfdSupport | None = None) -> RulePlan:
    """The NodeFeatureRule labelling the nodes that satisfy each selected set, in the ops
    ``nfd`` accepts (default: the reference release's, the spec's ops as written)."""
    chosen = select_sets(spec, tags)
    if nfd is not None:
        chosen = [(i, fit_compatibility(c, nfd, i, spec.source)) for i, c in chosen]
    keys = set_keys(chosen)
    sets = [SelectedSet(i, c, keys[i], scheme.key(keys[i])) for i, c in chosen]
    backrefs = _reads_backrefs(r for s in sets for r in s.compat.rules)
    notes: list[str] = []
    body: list[dict[str, Any]] = []
    tail: list[dict[str, Any]] = []
    chained_any = backrefs
    for s in sets:
        if not backrefs and _alternatives(s.compat.rules) <= MAX_FLAT_ALTERNATIVES:
            body.append(_flat_rule(s.key, s.label, s.compat.rules))
            continue
        chained_any = True
        rules, markers = _chained_rules(s, scheme, keep_vars=backrefs)
        body.extend(rules)
        # Label rules go last, so their labels (fed into rule.matched too) come after the user's.
        tail.append(_marker_rule(s.key, s.label, markers))
    if backrefs:
        notes.append("the spec reads rule.matched: rules are chained in spec order; NFD's master "
                     "also feeds our marker vars and labels into rule.matched, and "
                     "NodeFeatureRules named before ours may have set values there")
    obj = {
        "apiVersion": NFD_API_VERSION,
        "kind": "NodeFeatureRule",
        "metadata": {"name": scheme.rule_object_name()},
        "spec": {"rules": body + tail},
    }
    return RulePlan(rule=obj, sets=sets, chained=chained_any, notes=notes)
