"""Validating features against a compatibility spec, as NFD's node validator does.

Every selected compatibility set is evaluated in order; after each rule its
vars are inserted as the ``rule.matched`` attribute feature, which later rules
(also of later sets: NFD never resets it) can test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nfd.api import CompatSpec, Features
from nfd.errors import EvaluationError
from nfd.match import RegexCache, RuleStatus, evaluate_group_rule

RULE_MATCHED = "rule.matched"


@dataclass(frozen=True, slots=True)
class CompatibilityStatus:
    """NFD's ``CompatibilityStatus``: one set's rules with their statuses."""

    index: int
    rules: list[RuleStatus]
    description: str
    weight: int
    tag: str

    @property
    def is_match(self) -> bool:
        """True when every rule of the set matched."""
        return all(r.is_match for r in self.rules)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The statuses of the selected sets and the verdict."""

    statuses: list[CompatibilityStatus]

    @property
    def compatible(self) -> bool:
        """At least one selected compatibility set fully matches."""
        return any(s.is_match for s in self.statuses)


def _working_copy(features: Features) -> Features:
    """A copy that ``rule.matched`` can be written into without touching the caller's."""
    attributes = dict(features.attributes)
    if attributes.get(RULE_MATCHED) is not None:
        attributes[RULE_MATCHED] = dict(attributes[RULE_MATCHED] or {})
    return Features(flags=features.flags, attributes=attributes, instances=features.instances)


def validate_features(
    spec: CompatSpec,
    features: Features,
    tags: Iterable[str] | None = None,
    regexes: RegexCache | None = None,
) -> ValidationResult:
    """Evaluate ``spec`` on ``features``; ``tags`` (if any) select the sets by tag.

    Raises :class:`EvaluationError`, located in the spec, where NFD's engine errors.
    """
    wanted = list(tags or ())
    work = _working_copy(features)
    regexes = regexes or RegexCache()
    statuses: list[CompatibilityStatus] = []
    for c_index, compat in enumerate(spec.compatibilities):
        if wanted and compat.tag not in wanted:
            continue
        rules: list[RuleStatus] = []
        for r_index, rule in enumerate(compat.rules):
            try:
                status, rule_vars = evaluate_group_rule(rule, work, regexes)
            except EvaluationError as exc:
                located = exc.prefixed(f"compatibilities[{c_index}].rules[{r_index}]")
                raise located.located(spec.source) if spec.source else located from None
            rules.append(status)
            work.insert_attributes(RULE_MATCHED, rule_vars)
        statuses.append(CompatibilityStatus(c_index, rules, compat.description, compat.weight,
                                            compat.tag))
    return ValidationResult(statuses)
