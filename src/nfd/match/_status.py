"""Per-expression statuses as NFD's node validator reports them, plus what the node has.

NFD (node-validator.go) derives an expression's status from the rule's
``MatchedFeaturesTerms``: an expression is OK when a processed term of the same
feature holds an expression of the same name, op and value. The comparison uses
the feature name as written in the spec against the lower-cased one NFD
stores, so a spec writing ``CPU.cpuid`` shows FAIL lines even when the rule
matches; we reproduce that. Beyond NFD, each status carries ``node``: the
value(s) the node actually has, so a report can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nfd.api import FeatureMatcherTerm, Features, GroupRule, MatchExpression
from nfd.match._rule import MatchedTerm, RuleResult

MATCH_EXPRESSION = "matchExpression"
MATCH_NAME = "matchName"
_MAX_SHOWN = 16


@dataclass(frozen=True, slots=True)
class ExpressionStatus:
    """One line of NFD's report: an expression, whether it matched, and the node's side."""

    feature: str
    name: str
    expression: MatchExpression
    matcher_type: str
    is_match: bool
    node: dict[str, Any]

    def sort_key(self) -> tuple[str, str, str]:
        return self.feature, self.name, str(self.expression)


@dataclass(frozen=True, slots=True)
class RuleStatus:
    """NFD's ``ProcessedRuleStatus`` of one rule."""

    name: str
    is_match: bool
    matched_expressions: list[ExpressionStatus]
    matched_any: list[list[ExpressionStatus]]
    # Whether each matchAny alternative matched as a whole. Not derivable from the
    # lines: an instance expression is OK when it matched in any instance, even if no
    # single instance matched them all.
    any_matches: list[bool] = field(default_factory=list)
    # Whether matchFeatures matched as a whole (True when the rule has none), for the same
    # reason.
    features_match: bool = True


def _expression_matched(feature: str, name: str, expr: MatchExpression,
                        processed: list[MatchedTerm]) -> bool:
    for term in processed:
        if term.feature != feature or term.expressions is None:
            continue
        other = term.expressions.get(name)
        if other is not None and other.op == expr.op and other.value == expr.value:
            return True
    return False


def _name_matched(feature: str, expr: MatchExpression, processed: list[MatchedTerm]) -> bool:
    return any(
        term.feature == feature and term.name is not None and term.name.op == expr.op
        and term.name.value == expr.value
        for term in processed
    )


def node_value(features: Features, feature: str, name: str | None) -> dict[str, Any]:
    """What the node has for ``feature`` (and element ``name``; ``None`` for matchName)."""
    key = feature.lower()
    flags = features.flags.get(key)
    attrs = features.attributes.get(key)
    insts = features.instances.get(key)
    if key not in features.flags and key not in features.attributes and (
            key not in features.instances):
        return {"available": False}
    out: dict[str, Any] = {"available": True}
    if name is None:
        names = sorted(set(flags or ()) | set(attrs or ()))
        for inst in insts or ():
            names.extend(n for n in inst if n not in names)
        out["names"] = names[:_MAX_SHOWN]
        out["total"] = len(names)
        return out
    if key in features.flags or key in features.attributes:
        present = name in (flags or ()) or name in (attrs or {})
        out["present"] = present
        if attrs is not None and name in attrs:
            out["value"] = attrs[name]
    if key in features.instances:
        values: list[str] = []
        for inst in insts or ():
            if name in inst and inst[name] not in values:
                values.append(inst[name])
        out["instances"] = len(insts or ())
        out["values"] = values[:_MAX_SHOWN]
    return out


def _term_statuses(terms: tuple[FeatureMatcherTerm, ...], processed: list[MatchedTerm],
                   features: Features) -> list[ExpressionStatus]:
    out: list[ExpressionStatus] = []
    for term in terms:
        if term.match_expressions is not None:
            for name, expr in term.match_expressions.items():
                out.append(ExpressionStatus(
                    term.feature, name, expr, MATCH_EXPRESSION,
                    _expression_matched(term.feature, name, expr, processed),
                    node_value(features, term.feature, name),
                ))
        if term.match_name is not None:
            out.append(ExpressionStatus(
                term.feature, "", term.match_name, MATCH_NAME,
                _name_matched(term.feature, term.match_name, processed),
                node_value(features, term.feature, None),
            ))
    out.sort(key=ExpressionStatus.sort_key)
    return out


def rule_status(rule: GroupRule, result: RuleResult, features: Features) -> RuleStatus:
    """NFD's ``evaluateRuleStatus`` for one executed rule."""
    processed = result.match_features.matched_terms if result.match_features else []
    matched = _term_statuses(rule.match_features, processed, features)
    any_out = [
        _term_statuses(elem.match_features, result.match_any[i].matched_terms, features)
        for i, elem in enumerate(rule.match_any)
    ]
    return RuleStatus(rule.name, result.is_match, matched, any_out,
                      [status.is_match for status in result.match_any],
                      result.match_features is None or result.match_features.is_match)
