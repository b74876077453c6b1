"""The matching engine: NFD's rule evaluation, pure (features and rules in, statuses out).

``evaluate_group_rule`` runs one rule exactly as NFD's node validator does
(``ExecuteGroupRule`` with fail-fast off) and returns the rule's status with
every expression's verdict and the node's actual values. :class:`SpecEvaluator`
runs a whole compatibility spec (set selection by tags, ``rule.matched``
threading) on one node or, remembering outcomes by projection, on many.
"""

from __future__ import annotations

from nfd import _lazy
from nfd.match._explain import (
    NO_SINGLE_INSTANCE,
    explain_expression,
    first_failure,
    hides_instance_failure,
    node_text,
    rule_failures,
    set_failures,
)
from nfd.match._group_rule import execute_group_rule
from nfd.match._ops import OPS, RegexCache, evaluate
from nfd.match._regex_budget import spec_regexes
from nfd.match._semver import parse_version
from nfd.match._spec_evaluator import (
    RULE_MATCHED,
    CompatibilityStatus,
    SetVerdict,
    SharedOutcomes,
    SpecEvaluator,
    UnknownTagError,
    ValidationResult,
    select_sets,
    validate_features,
)
from nfd.match._status import (
    MATCH_EXPRESSION,
    MATCH_NAME,
    ExpressionStatus,
    Failure,
    MatcherStatus,
    NodeValue,
    RuleStatus,
)
from nfd.match._status import rule_status as _rule_status

if _lazy.TYPE_CHECKING:
    from typing import Any

    from nfd.api import Features, GroupRule
    from nfd.match._template import compile_template, expand_vars_template

_LAZY = {"compile_template", "expand_vars_template"}


def __getattr__(name: str) -> Any:
    # The template engine loads on first use (PEP 562): most specs have no template.
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from nfd.match import _template

    value = getattr(_template, name)
    globals()[name] = value
    return value


def evaluate_group_rule(
    rule: GroupRule, features: Features, regexes: RegexCache | None = None
) -> tuple[RuleStatus, dict[str, str]]:
    """Evaluate ``rule`` on ``features``: its status and the vars it sets (for ``rule.matched``).

    Raises :class:`nfd.errors.EvaluationError` where NFD's engine errors.
    """
    result = execute_group_rule(rule, features, regexes or RegexCache())
    return _rule_status(rule, result, features), result.vars


__all__ = [
    "MATCH_EXPRESSION",
    "MATCH_NAME",
    "NO_SINGLE_INSTANCE",
    "OPS",
    "RULE_MATCHED",
    "CompatibilityStatus",
    "ExpressionStatus",
    "Failure",
    "MatcherStatus",
    "NodeValue",
    "RegexCache",
    "RuleStatus",
    "SetVerdict",
    "SharedOutcomes",
    "SpecEvaluator",
    "UnknownTagError",
    "ValidationResult",
    "compile_template",
    "evaluate",
    "evaluate_group_rule",
    "execute_group_rule",
    "expand_vars_template",
    "explain_expression",
    "first_failure",
    "hides_instance_failure",
    "node_text",
    "parse_version",
    "rule_failures",
    "select_sets",
    "set_failures",
    "spec_regexes",
    "validate_features",
]
