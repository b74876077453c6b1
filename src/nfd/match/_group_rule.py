"""NFD's ``ExecuteGroupRule`` with fail-fast off (rule.go).

Produces NFD's ``MatchStatus`` (verdict, per-matcher matched terms and
elements) and the rule's ``vars``; :mod:`nfd.match._status` turns that into
the per-expression statuses NFD's node validator reports.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, Record, set_field
from nfd.errors import EvaluationError
from nfd.match._matchers import MatchedElement, match_multi, match_names_multi

if TYPE_CHECKING:
    from nfd.api import FeatureMatcherTerm, Features, GroupRule, MatchExpression
    from nfd.match._matchers import TermMatch
    from nfd.match._ops import RegexCache

MatchedFeatures = dict[str, dict[str, list[MatchedElement]]]


class MatchedTerm(FrozenRecord):
    """NFD's ``FeatureMatcherTerm`` in ``MatchedFeaturesTerms``: what matched of a term.

    ``feature`` is lower-cased, as NFD stores it.
    """

    __slots__ = ("expressions", "feature", "name")
    feature: str
    expressions: dict[str, MatchExpression] | None
    name: MatchExpression | None

    def __init__(self, feature: str, expressions: dict[str, MatchExpression] | None,
                 name: MatchExpression | None) -> None:
        set_field(self, "feature", feature)
        set_field(self, "expressions", expressions)
        set_field(self, "name", name)


class FeatureMatcherStatus(Record):
    """NFD's ``MatchFeatureStatus`` of one feature matcher (matchFeatures or a matchAny item);
    the two collections default to new empty ones."""

    __slots__ = ("is_match", "matched_features", "matched_terms")

    def __init__(self, is_match: bool, matched_features: MatchedFeatures | None = None,
                 matched_terms: list[MatchedTerm] | None = None) -> None:
        self.is_match = is_match
        self.matched_features: MatchedFeatures = ({} if matched_features is None
                                                  else matched_features)
        self.matched_terms: list[MatchedTerm] = [] if matched_terms is None else matched_terms


class RuleResult(Record):
    """Outcome of one group rule: verdict, statuses, and the vars it sets."""

    __slots__ = ("is_match", "match_any", "match_features", "vars")

    def __init__(self, is_match: bool, match_features: FeatureMatcherStatus | None,
                 match_any: list[FeatureMatcherStatus], vars: dict[str, str]) -> None:
        self.is_match = is_match
        self.match_features = match_features
        self.match_any = match_any
        self.vars = vars


def evaluate_feature_matcher(
    terms: tuple[FeatureMatcherTerm, ...], features: Features, regexes: RegexCache
) -> FeatureMatcherStatus:
    """``evaluateFeatureMatcher``: logical AND over the terms, every term evaluated."""
    status = FeatureMatcherStatus(is_match=True)
    # NFD declares this outside the loop: a term with no matchExpressions inherits
    # the previous term's result, which gates its matchName. Kept on purpose.
    term_match = True
    for index, term in enumerate(terms):
        try:
            term_match = _evaluate_term(term, term_match, features, regexes, status)
        except EvaluationError as exc:
            raise exc.prefixed(f"[{index}]") from None
    return status


def _evaluate_term(term: FeatureMatcherTerm, term_match: bool, features: Features,
                   regexes: RegexCache, status: FeatureMatcherStatus) -> bool:
    """One term of ``evaluateFeatureMatcher``; returns NFD's carried ``isTermMatch``."""
    feature = term.feature.lower()
    domain, _, short = term.feature.partition(".")
    if not _:
        domain, short = feature, ""
    status.matched_features.setdefault(domain, {})
    in_flags = feature in features.flags
    in_attrs = feature in features.attributes
    in_insts = feature in features.instances
    if not (in_flags or in_attrs or in_insts):
        status.is_match = False
        return term_match
    keys = features.flags.get(feature)
    values = features.attributes.get(feature)
    instances = features.instances.get(feature)
    elements: list[MatchedElement] = []
    matched_exprs: dict[str, MatchExpression] | None = None
    matched_name: MatchExpression | None = None
    if term.match_expressions is not None:
        result: TermMatch = match_multi(term.match_expressions, keys, values, instances,
                                        regexes)
        term_match = result.is_match
        elements = result.elements
        matched_exprs = result.expressions
    if term_match and term.match_name is not None:
        names = match_names_multi(term.match_name, keys, values, instances, regexes)
        term_match = names.is_match
        elements = elements + names.elements
        if term_match:
            matched_name = term.match_name
    status.matched_features[domain].setdefault(short, []).extend(elements)
    if matched_name is not None or matched_exprs:
        status.matched_terms.append(MatchedTerm(feature, matched_exprs, matched_name))
    if not term_match:
        status.is_match = False
    return term_match


def execute_group_rule(rule: GroupRule, features: Features, regexes: RegexCache) -> RuleResult:
    """Run one rule as NFD's node validator does (``ExecuteGroupRule``, fail-fast off)."""
    vars_out: dict[str, str] = {}
    any_statuses: list[FeatureMatcherStatus] = []
    any_match = False
    for index, elem in enumerate(rule.match_any):
        try:
            st = evaluate_feature_matcher(elem.match_features, features, regexes)
        except EvaluationError as exc:
            raise exc.prefixed(f"matchAny[{index}].matchFeatures") from None
        if st.is_match:
            any_match = True
            _expand(rule, st.matched_features, vars_out)
        any_statuses.append(st)
    mf_status: FeatureMatcherStatus | None = None
    if rule.match_features:
        try:
            mf_status = evaluate_feature_matcher(rule.match_features, features, regexes)
        except EvaluationError as exc:
            raise exc.prefixed("matchFeatures") from None
        if not mf_status.is_match:
            # NFD returns here with no vars at all, even those matchAny produced.
            return RuleResult(False, mf_status, any_statuses, {})
        _expand(rule, mf_status.matched_features, vars_out)
    vars_out.update(rule.vars)
    is_match = (not rule.match_any or any_match) and (
        not rule.match_features or (mf_status is not None and mf_status.is_match)
    )
    return RuleResult(is_match, mf_status, any_statuses, vars_out)


def _expand(rule: GroupRule, matched: MatchedFeatures, out: dict[str, str]) -> None:
    if not rule.vars_template:
        return
    # The template engine is big; load it only for rules that have a template.
    from nfd.match._template import expand_vars_template

    out.update(expand_vars_template(rule.vars_template, matched))
