"""NFD's feature matchers: ``MatchMulti`` and ``MatchNamesMulti`` (expression.go).

A feature name may exist as flags, attributes and instances at once. Flags and
attributes form a union (an expression may match in either), except that
``DoesNotExist`` must hold in both; instances are matched separately, an
instance matching when all expressions match its attributes.

Matching runs with fail-fast off, so every expression is evaluated (and any
malformed one raises, as in NFD). Besides the verdict, each function returns
the matched elements (for ``varsTemplate``) and the expressions that matched
somewhere (NFD's ``MatchedFeaturesTerms``, from which the node validator
derives each expression's status).
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd._record import Record
from nfd.errors import EvaluationError
from nfd.match._ops import evaluate

if TYPE_CHECKING:
    from nfd.api import AttributeElements, FlagElements, InstanceElements, MatchExpression
    from nfd.match._ops import RegexCache

MatchedElement = dict[str, str]
MATCHED_NAME = "Name"
MATCHED_VALUE = "Value"


class TermMatch(Record):
    """What one matcher found: verdict, matched elements, expressions that matched."""

    __slots__ = ("elements", "expressions", "is_match")

    def __init__(self, is_match: bool, elements: list[MatchedElement],
                 expressions: dict[str, MatchExpression]) -> None:
        self.is_match = is_match
        self.elements = elements
        self.expressions = expressions


def _sort_by_name(elements: list[MatchedElement]) -> None:
    elements.sort(key=lambda e: e.get(MATCHED_NAME, ""))


def _evaluate_named(name: str, expr: MatchExpression, valid: bool, value: str | None,
                    regexes: RegexCache) -> bool:
    """``evaluate`` with the expression's place added to any error."""
    try:
        return evaluate(expr, valid, value, regexes)
    except EvaluationError as exc:
        raise exc.prefixed(f"matchExpressions.{name}") from None


def match_instances(
    exprs: dict[str, MatchExpression], instances: InstanceElements, regexes: RegexCache
) -> TermMatch:
    """``MatchGetInstances`` without fail-fast: an instance matches if all expressions do.

    The matched expressions are the union over instances of those that matched
    in that instance, even when the instance as a whole did not match.
    """
    elements: list[MatchedElement] = []
    matched_exprs: dict[str, MatchExpression] = {}
    for attrs in instances:
        all_match = True
        for name, expr in exprs.items():
            if _evaluate_named(name, expr, name in attrs, attrs.get(name, ""), regexes):
                matched_exprs[name] = expr
            else:
                all_match = False
        if all_match:
            elements.append(attrs)
    return TermMatch(bool(elements), elements, matched_exprs)


def match_multi(
    exprs: dict[str, MatchExpression],
    keys: FlagElements | None,
    values: AttributeElements | None,
    instances: InstanceElements | None,
    regexes: RegexCache,
) -> TermMatch:
    """``MatchMulti`` without fail-fast."""
    elements: list[MatchedElement] = []
    matched_exprs: dict[str, MatchExpression] = {}
    # An empty expression set matches any existing flag or attribute set (even an
    # empty one), but not a nil one.
    is_match = keys is not None or values is not None
    for name, expr in exprs.items():
        match_k = match_v = False
        if keys is not None:
            match_k = _evaluate_named(name, expr, name in keys, None, regexes)
            if match_k:
                elements.append({MATCHED_NAME: name})
                matched_exprs[name] = expr
            elif expr.op == "DoesNotExist":
                is_match = False
                continue
        if values is not None:
            value = values.get(name)
            match_v = _evaluate_named(name, expr, value is not None, value or "", regexes)
            if match_v:
                elements.append({MATCHED_NAME: name, MATCHED_VALUE: value or ""})
                matched_exprs[name] = expr
            elif expr.op == "DoesNotExist":
                is_match = False
                continue
        if not match_k and not match_v:
            is_match = False
    _sort_by_name(elements)
    inst = match_instances(exprs, instances or [], regexes)
    elements.extend(inst.elements)
    matched_exprs.update(inst.expressions)
    return TermMatch(is_match or inst.is_match, elements, matched_exprs)


def match_names_multi(
    expr: MatchExpression,
    keys: FlagElements | None,
    values: AttributeElements | None,
    instances: InstanceElements | None,
    regexes: RegexCache,
) -> TermMatch:
    """``MatchNamesMulti``: the expression tested against element names (not values)."""
    try:
        return _match_names(expr, keys, values, instances, regexes)
    except EvaluationError as exc:
        raise exc.prefixed("matchName") from None


def _match_names(
    expr: MatchExpression,
    keys: FlagElements | None,
    values: AttributeElements | None,
    instances: InstanceElements | None,
    regexes: RegexCache,
) -> TermMatch:
    elements: list[MatchedElement] = []
    for key in keys or ():
        if evaluate(expr, True, key, regexes):
            elements.append({MATCHED_NAME: key})
    for key, value in (values or {}).items():
        if evaluate(expr, True, key, regexes):
            elements.append({MATCHED_NAME: key, MATCHED_VALUE: value})
    _sort_by_name(elements)
    for attrs in instances or ():
        # Every name is evaluated (no short cut): a malformed expression must
        # raise on any instance, as in NFD.
        hits = [evaluate(expr, True, key, regexes) for key in attrs]
        if any(hits):
            elements.append(attrs)
    return TermMatch(bool(elements), elements, {})
