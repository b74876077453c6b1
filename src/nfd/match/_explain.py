"""Human explanations of why an expression, a rule or a compatibility set failed on a node.

Pure functions of the statuses: validate-node's table and validate-cluster's
reasons word failures identically.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.match._status import MATCH_NAME

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol

    from nfd.match._status import ExpressionStatus, MatcherStatus, RuleStatus

    class _HasRules(Protocol):
        @property
        def rules(self) -> Sequence[RuleStatus]: ...

NO_SINGLE_INSTANCE = "no single instance matches them all"


def node_text(e: ExpressionStatus) -> str:
    """What the node has, in a few words (a table cell under ON THE NODE)."""
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
        parts.append("present" if node.present else "missing")
    if node.instances is not None:
        if node.values:
            parts.append(f"{', '.join(node.values)} (in {node.instances} instances)")
        else:
            parts.append(f"missing in all {node.instances} instances")
    return "; ".join(parts)


def node_phrase(e: ExpressionStatus, counts: bool = True) -> str:
    """What the node has, as the end of a sentence (``the node has 'AMD'``).

    Without ``counts`` instance counts are left out and values sorted, so that nodes which
    differ only in how many devices they have read alike (validate-cluster groups them).
    """
    node = e.node
    if not node.available:
        return f"the node has no {e.feature} feature"
    if e.matcher_type == MATCH_NAME:
        names = node.names or ()
        if not names:
            return "the node has no elements"
        more = node.total - len(names)
        shown = ", ".join(names if counts else sorted(names))
        return f"the node has {shown}" + (f", +{more} more" if more > 0 and counts else "")
    parts: list[str] = []
    if node.value is not None:
        parts.append(f"the node has {node.value!r}")
    elif node.present is not None:
        parts.append(f"the node has {e.name}" if node.present else f"the node has no {e.name}")
    if node.instances is not None:
        parts.append(_instances_phrase(e, counts))
    return "; ".join(parts)


def _instances_phrase(e: ExpressionStatus, counts: bool) -> str:
    node = e.node
    if node.values:
        values = ", ".join(node.values if counts else sorted(node.values))
        where = f" (in {node.instances} instances)" if counts else ""
        return f"its {e.feature} instances have {e.name} {values}{where}"
    if counts:
        return f"none of its {node.instances} {e.feature} instances has {e.name}"
    return f"no {e.feature} instance has {e.name}"


def explain_expression(e: ExpressionStatus, counts: bool = True) -> str:
    """``feature.name {op: ...} failed: the node has X``."""
    where = f"{e.feature}.{e.name}" if e.name else e.feature
    return f"{where} {e.expression.text_with_type()} failed: {node_phrase(e, counts)}"


def hides_instance_failure(items: tuple[ExpressionStatus, ...], matched: bool) -> bool:
    """A group that failed although every line is OK: NFD marks an instance expression OK
    when it matches in any instance, but the group needs one instance matching them all."""
    return not matched and bool(items) and all(e.is_match for e in items)


def _matcher_failures(matcher: MatcherStatus, counts: bool) -> list[str]:
    failures = [explain_expression(e, counts) for e in matcher.expressions if not e.is_match]
    if not failures and hides_instance_failure(matcher.expressions, matcher.is_match):
        failures.append(f"each expression matches, but {NO_SINGLE_INSTANCE}")
    return failures


def rule_failures(rule: RuleStatus, counts: bool = True) -> list[str]:
    """Every reason a rule fails (each failing expression, each failing matchAny
    alternative's), one line each; empty when it matches."""
    if rule.is_match:
        return []
    head = f"rule {rule.name!r}"
    reasons = [f"{head}: {why}" for why in _matcher_failures(rule.match_features, counts)]
    if rule.match_any and not any(a.is_match for a in rule.match_any):
        for n, alternative in enumerate(rule.match_any, 1):
            whys = _matcher_failures(alternative, counts) or ["did not match"]
            reasons += [f"{head}: matchAny alternative {n}: {why}" for why in whys]
    return reasons or [f"{head} did not match"]


def rule_failure(rule: RuleStatus) -> str | None:
    """A one-line reason a rule fails (its first failing expression), or None if it matches."""
    reasons = rule_failures(rule)
    return reasons[0] if reasons else None


def set_failures(status: _HasRules, counts: bool = True) -> tuple[str, ...]:
    """Every reason a compatibility set fails, rule by rule; empty when it matches."""
    return tuple(why for rule in status.rules for why in rule_failures(rule, counts))


def first_failure(status: _HasRules) -> str | None:
    """A one-line reason a compatibility set fails: its first failing rule and why, or None."""
    for rule in status.rules:
        reason = rule_failure(rule)
        if reason is not None:
            return reason
    return None
