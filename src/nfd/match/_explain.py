"""Human explanations of why an expression, a rule or a compatibility set failed on a node.

Pure functions of the statuses: validate-node's table and validate-cluster's
reasons word failures identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nfd.match._status import MATCH_NAME, ExpressionStatus, RuleStatus

NO_SINGLE_INSTANCE = "no single instance matches them all"


def node_text(e: ExpressionStatus) -> str:
    """What the node has, in a few words (for a table cell)."""
    node = e.node
    if not node.available:
        return "feature not available"
    if e.matcher_type == MATCH_NAME:
        names = node.names or ()
        more = node.total - len(names)
        shown = ", ".join(names) + (f", +{more} more" if more > 0 else "")
        return f"names: {shown}" if names else "no elements"
    parts: list[str] = []
    if node.value is not None:
        parts.append(repr(node.value))
    elif node.present is not None:
        parts.append("present" if node.present else "absent")
    if node.instances is not None:
        if node.values:
            parts.append(f"{', '.join(node.values)} (in {node.instances} instances)")
        else:
            parts.append(f"absent in all {node.instances} instances")
    return "; ".join(parts)


def explain_expression(e: ExpressionStatus) -> str:
    """``feature.name op value: node has X``."""
    where = f"{e.feature}.{e.name}" if e.name else e.feature
    if not e.node.available:
        return f"{where} {e.expression} failed: the node has no {e.feature} feature"
    return f"{where} {e.expression} failed: node has {node_text(e)}"


def hides_instance_failure(items: tuple[ExpressionStatus, ...], matched: bool) -> bool:
    """A group that failed although every line is OK: NFD marks an instance expression OK
    when it matches in any instance, but the group needs one instance matching them all."""
    return not matched and bool(items) and all(e.is_match for e in items)


def rule_failure(rule: RuleStatus) -> str | None:
    """A one-line reason a rule fails (its first failing expression), or None if it matches."""
    if rule.is_match:
        return None
    features = rule.match_features
    for e in features.expressions:
        if not e.is_match:
            return f"rule {rule.name!r}: {explain_expression(e)}"
    if hides_instance_failure(features.expressions, features.is_match):
        return f"rule {rule.name!r}: each expression matches, but {NO_SINGLE_INSTANCE}"
    if rule.match_any:
        return f"rule {rule.name!r}: no matchAny alternative matched"
    return f"rule {rule.name!r} did not match"


class _HasRules(Protocol):
    @property
    def rules(self) -> Sequence[RuleStatus]: ...


def first_failure(status: _HasRules) -> str | None:
    """A one-line reason a compatibility set fails: its first failing rule and why, or None."""
    for rule in status.rules:
        reason = rule_failure(rule)
        if reason is not None:
            return reason
    return None
