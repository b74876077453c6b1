"""Report documents: NFD's ``--output-json`` shape, and the richer ``--output json|yaml``."""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.match import CompatibilityStatus, ExpressionStatus, RuleStatus, ValidationResult

if TYPE_CHECKING:
    from typing import Any


def _nfd_expressions(items: tuple[ExpressionStatus, ...]) -> list[dict[str, Any]] | None:
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
    if rule.match_features.expressions:
        obj["matchedExpressions"] = _nfd_expressions(rule.match_features.expressions)
    if rule.match_any:
        obj["matchedAny"] = [{"matchedExpressions": _nfd_expressions(m.expressions)}
                             for m in rule.match_any]
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
        "node": e.node.to_obj(),
    }


def _rich_rule(rule: RuleStatus) -> dict[str, Any]:
    return {
        "name": rule.name,
        "isMatch": rule.is_match,
        "matchedExpressions": [_rich_expression(e) for e in rule.match_features.expressions],
        "matchedAny": [
            {"isMatch": m.is_match, "matchedExpressions": [_rich_expression(e)
                                                           for e in m.expressions]}
            for m in rule.match_any
        ],
    }


def rich_report(result: ValidationResult, context: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """The ``--output json|yaml`` document: verdict, where things came from, every status.
    Sets carry ``number`` (1-based, as tables show ``SET #1``) and ``index`` (0-based, as
    lint's paths say ``compatibilities[0]``)."""
    doc: dict[str, Any] = {"compatible": result.compatible}
    doc.update(context or {})
    doc["compatibilities"] = [
        {
            "index": s.index,
            "number": s.number,
            "description": s.description,
            "weight": s.weight,
            "tag": s.tag,
            "isMatch": s.is_match,
            "rules": [_rich_rule(r) for r in s.rules],
        }
        for s in result.statuses
    ]
    return doc

