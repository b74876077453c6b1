"""What each NFD release accepts in a NodeFeatureRule, and fitting a spec's rules to it.

NFD's NodeFeatureRule CRD validates ``op`` with an enum
(``deployment/base/nfd-crds/nfd-api-crds.yaml``). Up to v0.17.x it lists ``In``,
``NotIn``, ``InRegexp``, ``Exists``, ``DoesNotExist``, ``Gt``, ``Lt``, ``GtLt``,
``IsTrue`` and ``IsFalse``; v0.18.0 added ``Ge``, ``Le``, ``GeLe`` and the ``type``
field (``type: version``). An API server refuses an op outside the enum (HTTP 422,
``Unsupported value``) and prunes a field its schema lacks (structural-schema
pruning), which would silently turn a version comparison into an integer one.

Integer comparisons are rewritten where that is exact. NFD compares them with
``strconv.Atoi`` on both sides (``pkg/apis/nfd/nodefeaturerule/expression.go``,
``evaluateMatchExpression``), so for a value ``n`` in int64 range ``Ge n`` is ``Gt
n-1`` and ``Le n`` is ``Lt n+1`` (a feature value that is no integer is the same
error either way). ``GeLe a b`` is ``GtLt a-1 b+1`` only when ``a < b``: NFD
rejects ``GeLe`` with ``a >= b``, which the rewritten range would accept. A
version comparison has no exact integer form and is refused, as is anything
else the target lacks, naming the release that brought it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nfd._go.strconv import INT64_MAX, INT64_MIN, atoi
from nfd._jsondoc import join_path
from nfd._record import FrozenRecord, set_field
from nfd.api import (
    Compatibility,
    CompatSpec,
    FeatureMatcherTerm,
    GroupRule,
    MatchAnyElem,
    MatchExpression,
)
from nfd.errors import SpecError, UsageError

#: The NFD release nfd-client follows (its engine, report and CRDs).
REFERENCE_NFD_VERSION = "v0.19.0"

_BASE_OPS = ("In", "NotIn", "InRegexp", "Exists", "DoesNotExist", "Gt", "Lt", "GtLt",
             "IsTrue", "IsFalse")
#: The first release whose CRD and engine accept each op newer than :data:`_BASE_OPS`.
OP_SINCE: dict[str, tuple[int, int, int]] = {"Ge": (0, 18, 0), "Le": (0, 18, 0),
                                             "GeLe": (0, 18, 0)}
#: ``type: version`` on comparisons; ``matchName`` terms.
TYPE_SINCE = (0, 18, 0)
MATCH_NAME_SINCE = (0, 15, 0)
_REWRITES = {"Ge": "Gt", "Le": "Lt", "GeLe": "GtLt"}
_COMPARISONS = ("Gt", "Ge", "Lt", "Le", "GtLt", "GeLe")


def version_text(version: tuple[int, int, int]) -> str:
    return "v" + ".".join(str(part) for part in version)


def parse_nfd_version(text: str) -> tuple[int, int, int]:
    """``v0.17.3`` (or ``0.17.3``, ``v0.17``) as a tuple; anything else is a usage error."""
    parts = text[1:].split(".") if text.startswith("v") else text.split(".")
    if len(parts) == 2:
        parts.append("0")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise UsageError(f"`nfd_version` {text!r}: expected an NFD release like v0.17.3",
                         arguments=("nfd_version",))
    return int(parts[0]), int(parts[1]), int(parts[2])


class NfdSupport(FrozenRecord):
    """What one NFD accepts in a NodeFeatureRule; ``described`` names it in messages."""

    __slots__ = ("described", "match_name", "ops", "version_type")
    ops: frozenset[str]
    version_type: bool
    match_name: bool
    described: str

    def __init__(self, ops: frozenset[str], version_type: bool, match_name: bool,
                 described: str) -> None:
        set_field(self, "ops", ops)
        set_field(self, "version_type", version_type)
        set_field(self, "match_name", match_name)
        set_field(self, "described", described)

    @classmethod
    def of_release(cls, version: tuple[int, int, int]) -> NfdSupport:
        ops = set(_BASE_OPS) | {op for op, since in OP_SINCE.items() if version >= since}
        return cls(frozenset(ops), version >= TYPE_SINCE, version >= MATCH_NAME_SINCE,
                   f"NFD {version_text(version)}")

    @classmethod
    def from_crd(cls, crd: Any, described: str = "the cluster's NodeFeatureRule CRD"
                 ) -> NfdSupport:
        """Read from a NodeFeatureRule ``CustomResourceDefinition`` (as the API server or
        NFD's ``nfd-api-crds.yaml`` has it): the ``op`` enum of ``matchExpressions``, and
        whether ``type`` and ``matchName`` are in the schema."""
        term = _term_schema(crd)
        expression = _walk(term, ("properties", "matchExpressions", "additionalProperties"),
                           "matchExpressions")
        props = _walk(expression, ("properties",), "matchExpressions")
        op = _walk(props, ("op",), "op")
        enum = op.get("enum")
        # No enum: nothing refused by the API server; NFD's engine knows these ops.
        ops = frozenset(str(o) for o in enum) if isinstance(enum, list) else frozenset(
            (*_BASE_OPS, *OP_SINCE))
        term_props = term.get("properties")
        match_name = isinstance(term_props, Mapping) and "matchName" in term_props
        return cls(ops, "type" in props, match_name, described)


def _walk(node: Any, keys: tuple[str, ...], what: str) -> Mapping[str, Any]:
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        raise SpecError(f"the NodeFeatureRule CRD has no schema for {what}",
                        source="NodeFeatureRule CRD")
    return node


def _term_schema(crd: Any) -> Mapping[str, Any]:
    """The schema of one ``matchFeatures`` term in the served ``v1alpha1`` version."""
    versions = _walk(crd, ("spec",), "spec").get("versions")
    for version in versions if isinstance(versions, list) else []:
        if isinstance(version, Mapping) and version.get("name") == "v1alpha1":
            return _walk(version, ("schema", "openAPIV3Schema", "properties", "spec",
                                   "properties", "rules", "items", "properties",
                                   "matchFeatures", "items"), "matchFeatures")
    raise SpecError("the NodeFeatureRule CRD serves no v1alpha1", source="NodeFeatureRule CRD")


def _since(expr: MatchExpression) -> tuple[int, int, int]:
    since = OP_SINCE.get(expr.op, (0, 0, 0))
    return max(since, TYPE_SINCE) if expr.type and expr.op in _COMPARISONS else since


def _needs(expr: MatchExpression, support: NfdSupport) -> str:
    what = f"op {expr.op}" + (f" with type: {expr.type}" if expr.type else "")
    return f"{what} needs NFD {version_text(_since(expr))} or newer; " \
           f"{support.described} does not accept it"


def _integer_rewrite(expr: MatchExpression) -> MatchExpression | None:
    """The exact ``Gt``/``Lt``/``GtLt`` form of an integer ``Ge``/``Le``/``GeLe``, if any."""
    bounds = [atoi(v) for v in expr.value]
    if expr.type or len(bounds) != (2 if expr.op == "GeLe" else 1) or None in bounds:
        return None  # NFD rejects it on any node: nothing exact to rewrite to
    numbers = [b for b in bounds if b is not None]
    if expr.op == "GeLe":
        low, high = numbers[0] - 1, numbers[1] + 1
        if numbers[0] >= numbers[1] or low < INT64_MIN or high > INT64_MAX:
            return None
        return MatchExpression("GtLt", (str(low), str(high)))
    shifted = numbers[0] - 1 if expr.op == "Ge" else numbers[0] + 1
    if not INT64_MIN <= shifted <= INT64_MAX:
        return None
    return MatchExpression(_REWRITES[expr.op], (str(shifted),))


def fit_expression(expr: MatchExpression, support: NfdSupport, path: str = "",
                   source: str | None = None) -> MatchExpression:
    """``expr`` as ``support`` takes it: unchanged, rewritten exactly, or a located error."""
    if expr.type and not support.version_type:
        if expr.op not in _COMPARISONS:
            # NFD ignores type on other ops; the API server would prune it: same meaning.
            expr = MatchExpression(expr.op, expr.value)
        else:
            raise SpecError(_needs(expr, support), source=source, path=join_path(path, "type"))
    if expr.op in support.ops or expr.op == "" or expr.op not in _REWRITES:
        return expr  # an unknown op is lint's and the engine's to refuse, not ours
    rewritten = _integer_rewrite(expr)
    if rewritten is None or rewritten.op not in support.ops:
        raise SpecError(_needs(expr, support), source=source, path=join_path(path, "op"))
    return rewritten


def _fit_term(term: FeatureMatcherTerm, support: NfdSupport, path: str,
              source: str | None) -> FeatureMatcherTerm:
    expressions = None
    if term.match_expressions is not None:
        where = join_path(path, "matchExpressions")
        expressions = {key: fit_expression(e, support, join_path(where, key), source)
                       for key, e in term.match_expressions.items()}
    name = term.match_name
    if name is not None:
        if not support.match_name:
            raise SpecError(f"matchName needs NFD {version_text(MATCH_NAME_SINCE)} or newer; "
                            f"{support.described} does not accept it", source=source,
                            path=join_path(path, "matchName"))
        name = fit_expression(name, support, join_path(path, "matchName"), source)
    return FeatureMatcherTerm(term.feature, expressions, name)


def _fit_terms(terms: tuple[FeatureMatcherTerm, ...], support: NfdSupport, path: str,
               source: str | None) -> tuple[FeatureMatcherTerm, ...]:
    return tuple(_fit_term(t, support, join_path(join_path(path, "matchFeatures"), i), source)
                 for i, t in enumerate(terms))


def fit_compatibility(compat: Compatibility, support: NfdSupport, index: int,
                      source: str | None = None) -> Compatibility:
    """Compatibility set ``index`` with every expression fitted to ``support``."""
    rules = []
    for r, rule in enumerate(compat.rules):
        path = f"compatibilities[{index}].rules[{r}]"
        any_of = tuple(MatchAnyElem(_fit_terms(alt.match_features, support,
                                               join_path(join_path(path, "matchAny"), a),
                                               source))
                       for a, alt in enumerate(rule.match_any))
        rules.append(GroupRule(rule.name, dict(rule.vars), rule.vars_template,
                               _fit_terms(rule.match_features, support, path, source), any_of))
    return Compatibility(tuple(rules), compat.weight, compat.tag, compat.description)


def nfd_requirements(spec: CompatSpec, version: tuple[int, int, int]) -> list[SpecError]:
    """What in ``spec`` NFD ``version`` lacks, each located, saying whether a NodeFeatureRule
    can still carry it (rewritten exactly) or not. Its own engine (``nfd compat
    validate-node`` of that release) rejects all of them."""
    support = NfdSupport.of_release(version)
    found: list[SpecError] = []
    for index, compat in enumerate(spec.compatibilities):
        for r, rule in enumerate(compat.rules):
            path = f"compatibilities[{index}].rules[{r}]"
            terms = [(join_path(join_path(path, "matchFeatures"), i), t)
                     for i, t in enumerate(rule.match_features)]
            for a, alt in enumerate(rule.match_any):
                where = join_path(join_path(path, "matchAny"), a)
                terms += [(join_path(join_path(where, "matchFeatures"), i), t)
                          for i, t in enumerate(alt.match_features)]
            for where, term in terms:
                found += _term_requirements(term, support, where, spec.source)
    return found


def _term_requirements(term: FeatureMatcherTerm, support: NfdSupport, path: str,
                       source: str | None) -> list[SpecError]:
    expressions = [(join_path(join_path(path, "matchExpressions"), k), e)
                   for k, e in (term.match_expressions or {}).items()]
    if term.match_name is not None:
        if not support.match_name:
            return [SpecError(f"matchName needs NFD {version_text(MATCH_NAME_SINCE)} or newer",
                              source=source, path=join_path(path, "matchName"))]
        expressions.append((join_path(path, "matchName"), term.match_name))
    found = []
    for where, expr in expressions:
        newer = expr.op in OP_SINCE and expr.op not in support.ops
        typed = bool(expr.type) and not support.version_type and expr.op in _COMPARISONS
        if not (newer or typed):
            continue
        try:
            rewritten = fit_expression(expr, support, where, source)
        except SpecError as exc:
            found.append(exc)
            continue
        found.append(SpecError(
            f"op {expr.op} needs NFD {version_text(_since(expr))} or newer: "
            f"{support.described}'s engine rejects it (a NodeFeatureRule for "
            f"{support.described} writes it as {rewritten.op} {' '.join(rewritten.value)})",
            source=source, path=join_path(where, "op")))
    return found
