"""Report documents: NFD's ``--output-json`` shape, and the richer ``--output json|yaml``."""

from __future__ import annotations

from typing import Any

from nfd.compat._validate import CompatibilityStatus, ValidationResult
from nfd.match import ExpressionStatus, RuleStatus


def _nfd_expressions(items: list[ExpressionStatus]) -> list[dict[str, Any]] | None:
    # Go leaves the slice nil when nothing was appended: JSON null.
    if not items:
        return None
    return [
        {
            "feature": e.feature,
            "name": e.name,
            "expression": e.expression.to_obj(),
            "matcherType": e.matcher_type,
            "isMatch": e.is_match,
        }
        for e in items
    ]


def _nfd_rule(rule: RuleStatus) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": rule.name, "isMatch": rule.is_match}
    if rule.matched_expressions:
        obj["matchedExpressions"] = _nfd_expressions(rule.matched_expressions)
    if rule.matched_any:
        obj["matchedAny"] = [{"matchedExpressions": _nfd_expressions(m)}
                             for m in rule.matched_any]
    return obj


def _nfd_compat(status: CompatibilityStatus) -> dict[str, Any]:
    obj: dict[str, Any] = {"rules": [_nfd_rule(r) for r in status.rules] or None}
    if status.description:
        obj["description"] = status.description
    if status.weight:
        obj["weight"] = status.weight
    if status.tag:
        obj["tag"] = status.tag
    return obj


def nfd_report(result: ValidationResult) -> list[dict[str, Any]]:
    """Exactly what NFD's ``validate-node --output-json`` marshals."""
    return [_nfd_compat(s) for s in result.statuses]


def _rich_expression(e: ExpressionStatus) -> dict[str, Any]:
    return {
        "feature": e.feature,
        "name": e.name,
        "expression": e.expression.to_obj(),
        "matcherType": e.matcher_type,
        "isMatch": e.is_match,
        "node": e.node,
    }


def _rich_rule(rule: RuleStatus) -> dict[str, Any]:
    return {
        "name": rule.name,
        "isMatch": rule.is_match,
        "matchedExpressions": [_rich_expression(e) for e in rule.matched_expressions],
        "matchedAny": [
            {"isMatch": any_match, "matchedExpressions": [_rich_expression(e) for e in m]}
            for m, any_match in zip(rule.matched_any, rule.any_matches, strict=True)
        ],
    }


def rich_report(result: ValidationResult, context: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """The ``--output json|yaml`` document: verdict, where things came from, every status."""
    doc: dict[str, Any] = {"compatible": result.compatible}
    doc.update(context or {})
    doc["compatibilities"] = [
        {
            "index": s.index,
            "description": s.description,
            "weight": s.weight,
            "tag": s.tag,
            "isMatch": s.is_match,
            "rules": [_rich_rule(r) for r in s.rules],
        }
        for s in result.statuses
    ]
    return doc


def first_failure(status: CompatibilityStatus) -> str | None:
    """A one-line reason the set fails: the first failing rule and expression, or None."""
    from nfd.compat._explain import (
        NO_SINGLE_INSTANCE,
        explain_expression,
        hides_instance_failure,
    )

    for rule in status.rules:
        if rule.is_match:
            continue
        for e in rule.matched_expressions:
            if not e.is_match:
                return f"rule {rule.name!r}: {explain_expression(e)}"
        if hides_instance_failure(rule.matched_expressions, rule.features_match):
            return f"rule {rule.name!r}: each expression matches, but {NO_SINGLE_INSTANCE}"
        if rule.matched_any:
            return f"rule {rule.name!r}: no matchAny alternative matched"
        return f"rule {rule.name!r} did not match"
    return None
