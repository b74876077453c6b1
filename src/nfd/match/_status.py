"""Per-expression statuses as NFD's node validator reports them, plus what the node has.

NFD (node-validator.go) derives an expression's status from the rule's
``MatchedFeaturesTerms``: an expression is OK when a processed term of the same
feature holds an expression of the same name, op and value. The comparison uses
the feature name as written in the spec against the lower-cased one NFD
stores, so a spec writing ``CPU.cpuid`` shows FAIL lines even when the rule
matches; we reproduce that. Beyond NFD, each status carries a :class:`NodeValue`:
what the node actually has, so a report can say why.

The order of the lines (NFD sorts them by feature, name and expression text)
depends on the spec alone, so it is computed once per matcher
(:func:`matcher_layout`) and reused for every node.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field

if TYPE_CHECKING:
    from typing import Any

    from nfd.api import FeatureMatcherTerm, Features, GroupRule, MatchExpression
    from nfd.match._group_rule import MatchedTerm, RuleResult

MATCH_EXPRESSION = "matchExpression"
MATCH_NAME = "matchName"
_MAX_SHOWN = 16


class NodeValue(FrozenRecord):
    """What the node has for one expression's feature (and element).

    ``available`` is whether the feature exists at all. For a ``matchExpressions``
    line: ``present`` (flags/attributes hold the element; ``None`` when the feature is
    only an instance feature), ``value`` (the attribute's value, if it has one), and for
    instance features ``instances`` (how many) and ``values`` (the element's distinct
    values, the first 16). For a ``matchName`` line: ``names`` (the first 16 element
    names) and ``total``.
    """

    __slots__ = ("available", "instances", "names", "present", "total", "value", "values")
    available: bool
    present: bool | None
    value: str | None
    instances: int | None
    values: tuple[str, ...]
    names: tuple[str, ...] | None
    total: int

    def __init__(self, available: bool, present: bool | None = None, value: str | None = None,
                 instances: int | None = None, values: tuple[str, ...] = (),
                 names: tuple[str, ...] | None = None, total: int = 0) -> None:
        set_field(self, "available", available)
        set_field(self, "present", present)
        set_field(self, "value", value)
        set_field(self, "instances", instances)
        set_field(self, "values", values)
        set_field(self, "names", names)
        set_field(self, "total", total)

    def to_obj(self) -> dict[str, Any]:
        """The ``node`` object of ``--output json|yaml`` (keys only where they apply)."""
        out: dict[str, Any] = {"available": self.available}
        if not self.available:
            return out
        if self.names is not None:
            out["names"] = list(self.names)
            out["total"] = self.total
            return out
        if self.present is not None:
            out["present"] = self.present
            if self.value is not None:
                out["value"] = self.value
        if self.instances is not None:
            out["instances"] = self.instances
            out["values"] = list(self.values)
        return out


NOT_AVAILABLE = NodeValue(available=False)


class ExpressionStatus(FrozenRecord):
    """One line of NFD's report: an expression, whether it matched, and the node's side."""

    __slots__ = ("expression", "feature", "is_match", "matcher_type", "name", "node")
    feature: str
    name: str
    expression: MatchExpression
    matcher_type: str
    is_match: bool
    node: NodeValue

    def __init__(self, feature: str, name: str, expression: MatchExpression,
                 matcher_type: str, is_match: bool, node: NodeValue) -> None:
        set_field(self, "feature", feature)
        set_field(self, "name", name)
        set_field(self, "expression", expression)
        set_field(self, "matcher_type", matcher_type)
        set_field(self, "is_match", is_match)
        set_field(self, "node", node)


class MatcherStatus(FrozenRecord):
    """A feature matcher (``matchFeatures``, or one ``matchAny`` alternative): its verdict
    and its lines.

    The verdict is not derivable from the lines: an instance expression is OK when it
    matched in any instance, even if no single instance matched them all.
    """

    __slots__ = ("expressions", "is_match")
    is_match: bool
    expressions: tuple[ExpressionStatus, ...]

    def __init__(self, is_match: bool, expressions: tuple[ExpressionStatus, ...]) -> None:
        set_field(self, "is_match", is_match)
        set_field(self, "expressions", expressions)


EMPTY_MATCHER = MatcherStatus(True, ())


class RuleStatus(FrozenRecord):
    """NFD's ``ProcessedRuleStatus`` of one rule.

    ``match_features`` is an empty matching :class:`MatcherStatus` when the rule has
    no ``matchFeatures``; ``match_any`` has one entry per alternative.
    """

    __slots__ = ("is_match", "match_any", "match_features", "name")
    name: str
    is_match: bool
    match_features: MatcherStatus
    match_any: tuple[MatcherStatus, ...]

    def __init__(self, name: str, is_match: bool, match_features: MatcherStatus,
                 match_any: tuple[MatcherStatus, ...]) -> None:
        set_field(self, "name", name)
        set_field(self, "is_match", is_match)
        set_field(self, "match_features", match_features)
        set_field(self, "match_any", match_any)


class Failure(FrozenRecord):
    """One failing expression of a selected set that does not match, with what the node has.

    ``alternative`` is the 1-based ``matchAny`` alternative (``None``: ``matchFeatures``);
    ``status`` is the expression's report line: ``feature``, ``name``, ``expression``
    and ``node`` (a :class:`NodeValue`). A matcher over instances can fail with every
    line OK (no single instance holds all the values); it has no entry here, and
    :func:`nfd.match.rule_failures` words it.
    """

    __slots__ = ("alternative", "rule", "set_index", "status")
    set_index: int
    rule: str
    alternative: int | None
    status: ExpressionStatus

    def __init__(self, set_index: int, rule: str, alternative: int | None,
                 status: ExpressionStatus) -> None:
        set_field(self, "set_index", set_index)
        set_field(self, "rule", rule)
        set_field(self, "alternative", alternative)
        set_field(self, "status", status)

    @property
    def feature(self) -> str:
        return self.status.feature

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def expression(self) -> MatchExpression:
        return self.status.expression

    @property
    def node(self) -> NodeValue:
        return self.status.node


def rule_failing_expressions(set_index: int, rule: RuleStatus) -> list[Failure]:
    """The failing lines of a failing rule: those of ``matchFeatures`` and, when no
    ``matchAny`` alternative matches, those of each alternative (as NFD reports them)."""
    if rule.is_match:
        return []
    found = [Failure(set_index, rule.name, None, line)
             for line in rule.match_features.expressions if not line.is_match]
    if rule.match_any and not any(a.is_match for a in rule.match_any):
        for number, alternative in enumerate(rule.match_any, 1):
            found += [Failure(set_index, rule.name, number, line)
                      for line in alternative.expressions if not line.is_match]
    return found


class Line(FrozenRecord):
    """A line of a matcher's report, before any node is seen: (term, element name)."""

    __slots__ = ("expression", "feature", "matcher_type", "name")
    feature: str
    name: str
    expression: MatchExpression
    matcher_type: str

    def __init__(self, feature: str, name: str, expression: MatchExpression,
                 matcher_type: str) -> None:
        set_field(self, "feature", feature)
        set_field(self, "name", name)
        set_field(self, "expression", expression)
        set_field(self, "matcher_type", matcher_type)


def matcher_layout(terms: tuple[FeatureMatcherTerm, ...]) -> tuple[Line, ...]:
    """The lines of a matcher in NFD's order (by feature, name, expression text)."""
    lines: list[Line] = []
    for term in terms:
        if term.match_expressions is not None:
            lines.extend(Line(term.feature, name, expr, MATCH_EXPRESSION)
                         for name, expr in term.match_expressions.items())
        if term.match_name is not None:
            lines.append(Line(term.feature, "", term.match_name, MATCH_NAME))
    lines.sort(key=lambda line: (line.feature, line.name, str(line.expression)))
    return tuple(lines)


def _expression_matched(line: Line, processed: list[MatchedTerm]) -> bool:
    expr = line.expression
    for term in processed:
        if term.feature != line.feature or term.expressions is None:
            continue
        other = term.expressions.get(line.name)
        if other is not None and other.op == expr.op and other.value == expr.value:
            return True
    return False


def _name_matched(line: Line, processed: list[MatchedTerm]) -> bool:
    expr = line.expression
    return any(
        term.feature == line.feature and term.name is not None and term.name.op == expr.op
        and term.name.value == expr.value
        for term in processed
    )


def node_value(features: Features, feature: str, name: str | None) -> NodeValue:
    """What the node has for ``feature`` (and element ``name``; ``None`` for matchName)."""
    key = feature.lower()
    in_flags = key in features.flags
    in_attrs = key in features.attributes
    in_insts = key in features.instances
    if not (in_flags or in_attrs or in_insts):
        return NOT_AVAILABLE
    flags = features.flags.get(key)
    attrs = features.attributes.get(key)
    insts = features.instances.get(key)
    if name is None:
        names = sorted(set(flags or ()) | set(attrs or ()))
        for inst in insts or ():
            names.extend(n for n in inst if n not in names)
        return NodeValue(True, names=tuple(names[:_MAX_SHOWN]), total=len(names))
    present: bool | None = None
    value: str | None = None
    if in_flags or in_attrs:
        present = name in (flags or ()) or name in (attrs or {})
        if attrs is not None and name in attrs:
            value = attrs[name]
    if not in_insts:
        return NodeValue(True, present, value)
    values: list[str] = []
    for inst in insts or ():
        if name in inst and inst[name] not in values:
            values.append(inst[name])
    return NodeValue(True, present, value, len(insts or ()), tuple(values[:_MAX_SHOWN]))


def matcher_status(layout: tuple[Line, ...], is_match: bool, processed: list[MatchedTerm],
                   features: Features) -> MatcherStatus:
    """A matcher's lines: each OK when NFD's processed terms hold it, with the node's side."""
    out = []
    for line in layout:
        if line.matcher_type == MATCH_NAME:
            matched = _name_matched(line, processed)
            node = node_value(features, line.feature, None)
        else:
            matched = _expression_matched(line, processed)
            node = node_value(features, line.feature, line.name)
        out.append(ExpressionStatus(line.feature, line.name, line.expression, line.matcher_type,
                                    matched, node))
    return MatcherStatus(is_match, tuple(out))


class RuleLayout(FrozenRecord):
    """The report lines of a rule's matchers, computed once from the spec."""

    __slots__ = ("match_any", "match_features")
    match_features: tuple[Line, ...]
    match_any: tuple[tuple[Line, ...], ...]

    def __init__(self, match_features: tuple[Line, ...],
                 match_any: tuple[tuple[Line, ...], ...]) -> None:
        set_field(self, "match_features", match_features)
        set_field(self, "match_any", match_any)

    @classmethod
    def of(cls, rule: GroupRule) -> RuleLayout:
        return cls(matcher_layout(rule.match_features),
                   tuple(matcher_layout(alt.match_features) for alt in rule.match_any))


def rule_status(rule: GroupRule, result: RuleResult, features: Features,
                layout: RuleLayout | None = None) -> RuleStatus:
    """NFD's ``evaluateRuleStatus`` for one executed rule."""
    layout = layout or RuleLayout.of(rule)
    mf = result.match_features
    features_status = (EMPTY_MATCHER if mf is None and not layout.match_features else
                       matcher_status(layout.match_features, mf is None or mf.is_match,
                                      mf.matched_terms if mf else [], features))
    any_status = tuple(
        matcher_status(lines, result.match_any[i].is_match, result.match_any[i].matched_terms,
                       features)
        for i, lines in enumerate(layout.match_any)
    )
    return RuleStatus(rule.name, result.is_match, features_status, any_status)
