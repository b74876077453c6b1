"""The spec evaluator: a compatibility spec compiled once, evaluated on one node or many.

This is NFD's node validator (``node-validator.go`` ``Execute``): the sets the
tags select are evaluated in spec order, every rule with ``ExecuteGroupRule``
(fail-fast off), and after each rule its vars are inserted as the
``rule.matched`` attribute feature, which later rules (also of later sets:
NFD never resets it) can test. ``validate-node`` and ``validate-cluster`` both
go through :class:`SpecEvaluator`, so they select, number and judge sets alike.

For many nodes, :meth:`SpecEvaluator.verdicts` evaluates each rule once per
distinct *projection* of a node: the values of exactly the feature elements the
rule reads (an element's presence and value, each instance's values of those
elements; whole feature sets where ``matchName`` or ``varsTemplate`` sees every
element). A rule's outcome, its vars and the node values in its report are
functions of that projection alone, so the verdicts and reasons are those of a
full evaluation of every node.
"""

from __future__ import annotations

from operator import itemgetter

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, Record, set_field
from nfd.api import Features
from nfd.errors import EvaluationError, UsageError
from nfd.match._explain import rule_failures
from nfd.match._group_rule import RuleResult, execute_group_rule
from nfd.match._ops import RegexCache
from nfd.match._regex_budget import spec_regexes
from nfd.match._status import (
    Failure,
    RuleLayout,
    RuleStatus,
    rule_failing_expressions,
    rule_status,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from nfd.api import Compatibility, CompatSpec, GroupRule

RULE_MATCHED = "rule.matched"
# Distinct projections remembered per rule; past it rules are simply evaluated again.
MAX_REMEMBERED = 1 << 16


class CompatibilityStatus(FrozenRecord):
    """NFD's ``CompatibilityStatus``: one set's rules with their statuses.

    ``index`` is the set's position in the spec (0-based), whatever the tags select.
    """

    __slots__ = ("description", "index", "rules", "tag", "weight")
    index: int
    rules: list[RuleStatus]
    description: str
    weight: int
    tag: str

    def __init__(self, index: int, rules: list[RuleStatus], description: str, weight: int,
                 tag: str) -> None:
        set_field(self, "index", index)
        set_field(self, "rules", rules)
        set_field(self, "description", description)
        set_field(self, "weight", weight)
        set_field(self, "tag", tag)

    @property
    def is_match(self) -> bool:
        """True when every rule of the set matched."""
        return all(r.is_match for r in self.rules)

    @property
    def number(self) -> int:
        """The set's 1-based position in the spec, as reports number it."""
        return self.index + 1


class ValidationResult(FrozenRecord):
    """The statuses of the selected sets and the verdict."""

    __slots__ = ("statuses",)
    statuses: list[CompatibilityStatus]

    def __init__(self, statuses: list[CompatibilityStatus]) -> None:
        set_field(self, "statuses", statuses)

    @property
    def compatible(self) -> bool:
        """At least one selected compatibility set fully matches."""
        return any(s.is_match for s in self.statuses)

    def failures(self) -> list[Failure]:
        """Every failing expression of every selected set that does not match, in report
        order, each with the node's values (:class:`~nfd.match.Failure`)."""
        return [failure for status in self.statuses if not status.is_match
                for rule in status.rules
                for failure in rule_failing_expressions(status.index, rule)]


class SetVerdict(FrozenRecord):
    """One set on one node: matched, or every reason it fails (each failing expression of
    each failing rule, worded without instance counts so that like nodes read alike)."""

    __slots__ = ("index", "is_match", "reasons")
    index: int
    is_match: bool
    reasons: tuple[str, ...]

    def __init__(self, index: int, is_match: bool, reasons: tuple[str, ...] = ()) -> None:
        set_field(self, "index", index)
        set_field(self, "is_match", is_match)
        set_field(self, "reasons", reasons)

    # Written out: validate-cluster hashes and compares every node's verdicts.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, SetVerdict)
        return (self.index == other.index and self.is_match == other.is_match
                and self.reasons == other.reasons)

    def __hash__(self) -> int:
        return hash((self.index, self.is_match, self.reasons))

    @property
    def reason(self) -> str | None:
        """The reasons in one line, ``None`` when the set matches."""
        return "; ".join(self.reasons) if self.reasons else None


class UnknownTagError(UsageError):
    """The tags select no compatibility set; ``available`` lists the spec's tags."""

    def __init__(self, tags: Sequence[str], available: Sequence[str]) -> None:
        self.tags = tuple(tags)
        self.available = tuple(available)
        super().__init__(f"no compatibility set has tag {', '.join(self.tags)} "
                         f"(tags in the spec: {', '.join(self.available) or 'none'})")


def select_sets(spec: CompatSpec, tags: Iterable[str] = ()) -> list[tuple[int, Compatibility]]:
    """The sets the tags select (all when none given), with their positions in the spec.

    As NFD's client, a set is selected when its tag is one of ``tags``. Selecting
    nothing is an :class:`UnknownTagError` (NFD would report an empty, incompatible
    result, which a CI gate cannot tell from an incompatible node).
    """
    wanted = list(tags)
    chosen = [(i, c) for i, c in enumerate(spec.compatibilities) if not wanted or c.tag in wanted]
    if not chosen:
        raise UnknownTagError(wanted, sorted({c.tag for c in spec.compatibilities if c.tag}))
    return chosen


class _Absent:
    """Marks what a node does not have (unlike Go's nil, which it may have)."""

    __slots__ = ("_what",)

    def __init__(self, what: str) -> None:
        self._what = what

    def __repr__(self) -> str:
        return f"<no {self._what}>"


# Two markers: a feature missing from a map must never look like an element missing
# from a feature that is there (NFD treats them differently).
_ABSENT: Any = _Absent("feature")
_NO_ELEMENT: Any = _Absent("element")

if TYPE_CHECKING:  # annotations only: never evaluated
    Projection = tuple[Any, ...]
    Reads = dict[str, frozenset[str] | None]


def _rule_reads(rule: GroupRule) -> Reads:
    """Feature (lower-cased, as NFD looks it up) → element names the rule reads, or None
    where it sees every element (matchName, varsTemplate)."""
    reads: dict[str, set[str] | None] = {}
    terms = [*rule.match_features, *(t for alt in rule.match_any for t in alt.match_features)]
    for term in terms:
        feature = term.feature.lower()
        whole = term.match_name is not None or bool(rule.vars_template)
        names = reads.setdefault(feature, set())
        if whole or names is None:
            reads[feature] = None
        else:
            names.update(term.match_expressions or ())
    return {f: None if n is None else frozenset(n) for f, n in reads.items()}


def _union(reads: Iterable[Reads]) -> Reads:
    out: Reads = {}
    for one in reads:
        for feature, names in one.items():
            have = out.get(feature, frozenset())
            out[feature] = None if names is None or have is None else have | names
    return out


class _Picker:
    """Takes a mapping's values of some names, hashable: a scalar for one name, a tuple
    for several, with :data:`_NO_ELEMENT` for a missing name."""

    __slots__ = ("_get", "_names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names
        self._get = itemgetter(*names) if names else (lambda _: ())

    def safe(self, element: dict[str, str]) -> Any:
        picked = tuple([element.get(n, _NO_ELEMENT) for n in self._names])
        return picked[0] if len(self._names) == 1 else picked

    def one(self, element: dict[str, str]) -> Any:
        try:
            return self._get(element)
        except KeyError:
            return self.safe(element)

    def each(self, elements: list[dict[str, str]]) -> tuple[Any, ...]:
        try:
            return tuple(map(self._get, elements))  # the usual case: every name present
        except KeyError:
            return tuple([self.safe(e) for e in elements])


def _project(features: Features, feature: str, names: tuple[str, ...] | None,
             picker: _Picker | None) -> Projection:
    """What the node has of ``feature``'s elements ``names`` (all if None), hashable."""
    flags = features.flags.get(feature, _ABSENT)
    attrs = features.attributes.get(feature, _ABSENT)
    insts = features.instances.get(feature, _ABSENT)
    if flags is not None and flags is not _ABSENT:
        flags = frozenset(flags) if names is None else tuple([n in flags for n in names])
    if attrs is not None and attrs is not _ABSENT:
        attrs = tuple(attrs.items()) if picker is None else picker.one(attrs)
    if insts is not None and insts is not _ABSENT:
        insts = (tuple([tuple(i.items()) for i in insts]) if picker is None else
                 picker.each(insts))
    return flags, attrs, insts


class _Outcome(Record):
    __slots__ = ("reasons", "result")

    def __init__(self, result: RuleResult, reasons: tuple[str, ...] | None = None) -> None:
        self.result = result
        self.reasons = reasons


class _RulePlan:
    """One rule, compiled: where it is, its report layout, what it reads, what it gave.

    ``names``, ``pickers`` and ``numbers`` say how a node is projected for the rule (per
    feature: the element names kept, and the numbering of distinct projections); by default
    the evaluator's own, shared by all its rules.
    """

    __slots__ = ("layout", "names", "numbers", "outcomes", "path", "pickers", "reads", "rule")

    def __init__(self, rule: GroupRule, path: str, layout: RuleLayout, reads: Reads,
                 outcomes: dict[Projection, _Outcome] | None = None) -> None:
        self.rule = rule
        self.path = path
        self.layout = layout
        self.reads = reads
        self.outcomes: dict[Projection, _Outcome] = {} if outcomes is None else outcomes
        self.names: dict[str, tuple[str, ...] | None] = {}
        self.pickers: dict[str, _Picker | None] = {}
        self.numbers: dict[str, dict[Projection, int]] = {}


class SharedOutcomes:
    """Rule outcomes remembered across the evaluators of several specs.

    A rule written identically in two specs, on the same projection of a node, has the same
    outcome whichever spec holds it (NFD's ``ExecuteGroupRule`` sees only the rule and the
    features). Evaluators made with one ``SharedOutcomes`` project each such rule on what it
    alone reads and share its outcomes: many images' specs over one fleet cost one evaluation
    per distinct rule and projection, not one per spec.
    """

    def __init__(self) -> None:
        self._outcomes: dict[str, dict[Projection, _Outcome]] = {}
        self._numbers: dict[tuple[str, tuple[str, ...] | None], dict[Projection, int]] = {}

    def attach(self, plan: _RulePlan) -> None:
        """Give ``plan`` the shared outcomes of its rule and a spec-independent projection."""
        plan.outcomes = self._outcomes.setdefault(repr(plan.rule), {})
        for feature, names in plan.reads.items():
            ordered = None if names is None else tuple(sorted(names))
            plan.names[feature] = ordered
            plan.pickers[feature] = None if ordered is None else _Picker(ordered)
            plan.numbers[feature] = self._numbers.setdefault((feature, ordered), {})


def _working_copy(features: Features) -> Features:
    """A copy that ``rule.matched`` can be written into without touching the caller's."""
    attributes = dict(features.attributes)
    if attributes.get(RULE_MATCHED) is not None:
        attributes[RULE_MATCHED] = dict(attributes[RULE_MATCHED] or {})
    return Features(flags=features.flags, attributes=attributes, instances=features.instances)


class SpecEvaluator:
    """A spec with its sets selected by ``tags`` and its rules compiled, for many nodes.

    ``remember`` bounds the distinct projections remembered per rule (0: none).
    Raises :class:`UnknownTagError` when the tags select no set. Evaluation raises
    :class:`EvaluationError`, located in the spec, where NFD's engine errors.
    """

    def __init__(self, spec: CompatSpec, tags: Iterable[str] = (),
                 regexes: RegexCache | None = None, remember: int = MAX_REMEMBERED,
                 shared: SharedOutcomes | None = None) -> None:
        self.spec = spec
        self._remember = remember
        self.sets = select_sets(spec, tags)
        self._regexes = regexes or spec_regexes(spec)  # the spec's RE2 budget, up front
        self._plans = [
            [_RulePlan(rule, f"compatibilities[{c_index}].rules[{r_index}]", RuleLayout.of(rule),
                       _rule_reads(rule))
             for r_index, rule in enumerate(compat.rules)]
            for c_index, compat in self.sets
        ]
        self.reads: Reads = _union(p.reads for plans in self._plans for p in plans)
        """Feature (lower-cased) → the element names the selected sets read (None: every
        element). Nothing else of a node can change a verdict or a report line."""
        # A node's projection is taken once per feature, on the union of the names its
        # rules read (finer than each rule needs, so still exact), and shared by the rules.
        self._names = {f: None if n is None else tuple(sorted(n)) for f, n in self.reads.items()}
        self._pickers = {f: None if n is None else _Picker(n) for f, n in self._names.items()}
        # Each distinct projection of a feature gets a small number, hashed once per node:
        # rules' keys are then tuples of numbers, cheap to hash and compare.
        self._numbers: dict[str, dict[Projection, int]] = {f: {} for f in self.reads}
        self._backrefs = RULE_MATCHED in self.reads
        for plan in (p for plans in self._plans for p in plans):
            if shared is not None:
                shared.attach(plan)
            else:
                plan.names, plan.pickers, plan.numbers = self._names, self._pickers, self._numbers
        # The projections of rule.matched that a rule's vars make stale.
        self._backref_slots = {id(p.numbers[RULE_MATCHED]) for plans in self._plans
                               for p in plans if RULE_MATCHED in p.reads}

    def _execute(self, plan: _RulePlan, features: Features) -> RuleResult:
        try:
            return execute_group_rule(plan.rule, features, self._regexes)
        except EvaluationError as exc:
            located = exc.prefixed(plan.path)
            source = self.spec.source
            raise located.located(source) if source else located from None

    def validate(self, features: Features) -> ValidationResult:
        """Every selected set's full status on ``features`` (validate-node's report)."""
        work = _working_copy(features)
        statuses: list[CompatibilityStatus] = []
        for (c_index, compat), plans in zip(self.sets, self._plans, strict=True):
            rules: list[RuleStatus] = []
            for plan in plans:
                result = self._execute(plan, work)
                rules.append(rule_status(plan.rule, result, work, plan.layout))
                work.insert_attributes(RULE_MATCHED, result.vars)
            statuses.append(CompatibilityStatus(c_index, rules, compat.description,
                                                compat.weight, compat.tag))
        return ValidationResult(statuses)

    def verdicts(self, features: Features) -> tuple[SetVerdict, ...]:
        """Each selected set's verdict on ``features`` and, when it fails, why: every
        failing expression of every failing rule, worded as validate-node's table words
        them (without instance counts, so that like nodes read alike)."""
        work = _working_copy(features) if self._backrefs else features
        seen: dict[int, Any] = {}
        out: list[SetVerdict] = []
        for (c_index, _), plans in zip(self.sets, self._plans, strict=True):
            reasons: list[str] = []
            matched = True
            for plan in plans:
                # Every rule runs, as in NFD: a later rule's error must not be skipped.
                outcome = self._outcome(plan, work, seen)
                if not outcome.result.is_match:
                    matched = False
                    reasons.extend(self._reasons(plan, outcome, work))
                if self._backrefs:
                    work.insert_attributes(RULE_MATCHED, outcome.result.vars)
                    for slot in self._backref_slots:
                        seen.pop(slot, None)
            out.append(SetVerdict(c_index, matched, tuple(reasons)))
        return tuple(out)

    def _projection(self, plan: _RulePlan, features: Features, seen: dict[int, Any]
                    ) -> Projection:
        key = []
        for feature in plan.reads:
            numbers = plan.numbers[feature]
            slot = id(numbers)  # one projection per node and numbering, shared by rules
            part = seen.get(slot)
            if part is None:
                whole = _project(features, feature, plan.names[feature], plan.pickers[feature])
                number = numbers.get(whole)
                if number is None and len(numbers) < self._remember:
                    number = numbers[whole] = len(numbers)
                # Past the bound a projection stands for itself (never equal to a number).
                part = seen[slot] = whole if number is None else number
            key.append(part)
        return tuple(key)

    def _outcome(self, plan: _RulePlan, features: Features, seen: dict[int, Any]) -> _Outcome:
        key = self._projection(plan, features, seen)
        outcome = plan.outcomes.get(key)
        if outcome is None:
            outcome = _Outcome(self._execute(plan, features))
            if len(plan.outcomes) < self._remember:
                plan.outcomes[key] = outcome
        return outcome

    @staticmethod
    def _reasons(plan: _RulePlan, outcome: _Outcome, features: Features) -> tuple[str, ...]:
        if outcome.reasons is None:
            status = rule_status(plan.rule, outcome.result, features, plan.layout)
            outcome.reasons = tuple(rule_failures(status, counts=False))
        return outcome.reasons


def validate_features(spec: CompatSpec, features: Features, tags: Iterable[str] | None = None,
                      regexes: RegexCache | None = None) -> ValidationResult:
    """Evaluate ``spec`` on ``features``; ``tags`` (if any) select the sets by tag."""
    return SpecEvaluator(spec, tags or (), regexes).validate(features)
