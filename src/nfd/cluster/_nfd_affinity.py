"""The NFD-backed part of a pod's own node selection, checked against nfd-worker's labels.

A pod may already ask for NFD labels itself (``nodeSelector`` or required node affinity on
``feature.node.kubernetes.io/...``). Its requirements are then its images' specs *and* that.
The labels nfd-worker computes travel in each NodeFeature's ``spec.labels``, and nfd-master
puts them on the node; so the index of NodeFeatures can answer for those keys too.

Soundness, since deny rests on it: only keys in NFD's label namespaces
(``feature.node.kubernetes.io``, ``profile.node.kubernetes.io`` and their subdomains) that
some node's NodeFeature actually publishes are judged. A key no NodeFeature publishes may come
from a NodeFeatureRule or anything else that labels nodes: it is taken as satisfied. A node
selector term with no judged expression, or one naming fields, holds for this check (the
scheduler decides the rest). So the check can only find fewer pods unsatisfiable than the
scheduler would, never more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NFD_LABEL_DOMAINS = ("feature.node.kubernetes.io", "profile.node.kubernetes.io")
_OPS = frozenset({"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"})
MAX_REQUIREMENTS = 1024  # expressions kept of one pod (a pod spec is bounded anyway)

Expression = tuple[str, str, tuple[str, ...]]  # (key, operator, values)


def is_nfd_label(key: str) -> bool:
    """Whether ``key`` is in NFD's label namespaces (the prefix before ``/``)."""
    prefix, slash, _ = key.partition("/")
    return bool(slash) and any(prefix == d or prefix.endswith("." + d)
                               for d in NFD_LABEL_DOMAINS)


class LabelRequirement:
    """A pod's NFD label requirements: selector pairs ANDed with an OR of terms (each an AND
    of expressions); hashable, so answers can be remembered per requirement."""

    __slots__ = ("selector", "terms")

    def __init__(self, selector: tuple[tuple[str, str], ...],
                 terms: tuple[tuple[Expression, ...], ...] | None) -> None:
        self.selector = selector
        self.terms = terms

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LabelRequirement) and self.selector == other.selector
                and self.terms == other.terms)

    def __hash__(self) -> int:
        return hash((self.selector, self.terms))

    def keys(self) -> set[str]:
        found = {key for key, _ in self.selector}
        for term in self.terms or ():
            found.update(key for key, _, _ in term)
        return found

    def failures(self, labels: Mapping[str, str], published: frozenset[str] | set[str]
                 ) -> tuple[str, ...]:
        """Why a node with ``labels`` fails it (empty: it holds); keys outside
        ``published`` (no NodeFeature has them) hold."""
        reasons = [f"label {key}={value}" for key, value in self.selector
                   if key in published and labels.get(key) != value]
        if self.terms is not None:
            failing = []
            for term in self.terms:
                misses = [_describe(e) for e in term if e[0] in published
                          and not _holds(e, labels)]
                if not misses:
                    break
                failing.append(" and ".join(misses))
            else:
                reasons.append("label " + " or ".join(failing))
        return tuple(reasons)


def _holds(expression: Expression, labels: Mapping[str, str]) -> bool:
    """Kubernetes' NodeSelectorRequirement on a node's labels (``Gt``/``Lt``: integers)."""
    key, op, values = expression
    value = labels.get(key)
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    try:
        have, want = int(value or ""), int(values[0])
    except (ValueError, IndexError):
        return False
    return have > want if op == "Gt" else have < want


def _describe(expression: Expression) -> str:
    key, op, values = expression
    return f"{key} {op} {list(values)}" if values else f"{key} {op}"


def _expressions(term: Any) -> tuple[Expression, ...] | None:
    """A term's NFD expressions; None when the term holds for this check."""
    if not isinstance(term, dict) or term.get("matchFields"):
        return None
    kept = []
    for expr in term.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            continue
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if (isinstance(key, str) and is_nfd_label(key) and op in _OPS
                and isinstance(values, list) and all(isinstance(v, str) for v in values)):
            kept.append((key, op, tuple(values)))
    return tuple(kept[:MAX_REQUIREMENTS]) or None


def nfd_label_requirement(pod_spec: Any) -> LabelRequirement | None:
    """The NFD-backed part of a pod spec's ``nodeSelector`` and required node affinity."""
    if not isinstance(pod_spec, dict):
        return None
    selector_obj = pod_spec.get("nodeSelector")
    selector = tuple(sorted(
        (k, v) for k, v in (selector_obj.items() if isinstance(selector_obj, dict) else ())
        if isinstance(k, str) and isinstance(v, str) and is_nfd_label(k)))[:MAX_REQUIREMENTS]
    affinity = pod_spec.get("affinity")
    node = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    required = (node.get("requiredDuringSchedulingIgnoredDuringExecution")
                if isinstance(node, dict) else None)
    raw_terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    terms: tuple[tuple[Expression, ...], ...] | None = None
    if isinstance(raw_terms, list) and raw_terms:
        kept = [_expressions(t) for t in raw_terms[:MAX_REQUIREMENTS]]
        # A term that holds here makes the whole OR hold: nothing to judge.
        terms = None if any(k is None for k in kept) else tuple(k for k in kept if k)
    if not selector and not terms:
        return None
    return LabelRequirement(selector, terms)
