"""Human explanations of why an expression failed on a node."""

from __future__ import annotations

from nfd.match import MATCH_NAME, ExpressionStatus


def node_text(e: ExpressionStatus) -> str:
    """What the node has, in a few words (for a table cell)."""
    node = e.node
    if not node.get("available"):
        return "feature not available"
    if e.matcher_type == MATCH_NAME:
        names = node.get("names", [])
        more = node.get("total", 0) - len(names)
        shown = ", ".join(names) + (f", +{more} more" if more > 0 else "")
        return f"names: {shown}" if names else "no elements"
    parts: list[str] = []
    if "value" in node:
        parts.append(repr(node["value"]))
    elif "present" in node:
        parts.append("present" if node["present"] else "absent")
    if "instances" in node:
        values = node.get("values", [])
        if values:
            parts.append(f"{', '.join(values)} (in {node['instances']} instances)")
        else:
            parts.append(f"absent in all {node['instances']} instances")
    return "; ".join(parts)


def explain_expression(e: ExpressionStatus) -> str:
    """``feature.name op value: node has X``."""
    where = f"{e.feature}.{e.name}" if e.name else e.feature
    if not e.node.get("available"):
        return f"{where} {e.expression} failed: the node has no {e.feature} feature"
    return f"{where} {e.expression} failed: node has {node_text(e)}"


NO_SINGLE_INSTANCE = "no single instance matches them all"


def hides_instance_failure(items: list[ExpressionStatus], matched: bool) -> bool:
    """A group that failed although every line is OK: NFD marks an instance expression OK
    when it matches in any instance, but the group needs one instance matching them all."""
    return not matched and bool(items) and all(e.is_match for e in items)
