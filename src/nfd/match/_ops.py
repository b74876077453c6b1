"""NFD's ``evaluateMatchExpression``: one expression against one (maybe missing) value.

Follows ``pkg/apis/nfd/nodefeaturerule/expression.go`` to the letter, including
which malformed expressions are errors (raised as :class:`EvaluationError`,
which fails the whole validation as in NFD) and which are merely false:
value checks for In/NotIn/InRegexp/Gt/... only run when the element exists.
"""

from __future__ import annotations

import functools
import re

from nfd._go.strconv import atoi
from nfd._lazy import TYPE_CHECKING
from nfd.api import MatchExpression
from nfd.errors import EvaluationError
from nfd.match._semver import parse_version

if TYPE_CHECKING:
    from typing import Any

    from nfd._go.regexp import RegexpLimits, Regexps

OPS = (
    "In",
    "NotIn",
    "InRegexp",
    "Exists",
    "DoesNotExist",
    "Gt",
    "Ge",
    "Lt",
    "Le",
    "GtLt",
    "GeLe",
    "IsTrue",
    "IsFalse",
)
_VALID_OPS = frozenset((*OPS, ""))  # "" is MatchAny
_NO_VALUE_OPS = frozenset(("", "Exists", "DoesNotExist", "IsTrue", "IsFalse"))


def go_values(values: tuple[str, ...]) -> str:
    """``%v`` of a Go string slice: ``[a b]``."""
    return "[" + " ".join(values) + "]"


def _expr_text(expr: MatchExpression) -> str:
    """``%v`` of a ``*MatchExpression`` uses its String() method."""
    return str(expr)


class RegexCache:
    """Compiled RE2 patterns of one evaluation (no process-wide state), within one budget
    (:class:`nfd._go.regexp.RegexpLimits`; past it, :class:`RegexpBudgetError`)."""

    def __init__(self, limits: RegexpLimits | None = None) -> None:
        self._limits = limits
        self._regexps: Regexps | None = None  # made on first use: most specs have no regexp

    def compile(self, pattern: str) -> Any | None:
        """The compiled pattern, or ``None`` if RE2 (Go's regexp syntax) rejects it."""
        regexps = self._regexps
        if regexps is None:
            from nfd._go.regexp import Regexps

            regexps = self._regexps = Regexps(self._limits)
        try:
            return regexps.compile(pattern)
        except Exception as exc:  # imported only now: a compiled pattern is the usual case
            from nfd._go.regexp import RegexpSyntaxError

            if isinstance(exc, RegexpSyntaxError):
                return None
            raise


def check_op(expr: MatchExpression) -> None:
    """The checks NFD makes before looking at the value at all."""
    if expr.op not in _VALID_OPS:
        raise EvaluationError(f"invalid Op {_q(expr.op)}")
    if expr.op in ("", "Exists", "DoesNotExist") and expr.value:
        raise EvaluationError(
            f"invalid expression, 'value' field must be empty for Op {_q(expr.op)} "
            f"(have {go_values(expr.value)})"
        )


def _q(text: str) -> str:
    from nfd._go.strconv import quote as go_quote

    return go_quote(text)


def evaluate(expr: MatchExpression, valid: bool, value: str | None, regexes: RegexCache) -> bool:
    """Evaluate ``expr`` against ``value``; ``valid`` says whether the element exists.

    ``value`` is ``None`` when matching flag keys (NFD passes a nil interface
    there, so value-taking ops are simply false for flags).
    """
    check_op(expr)
    op = expr.op
    if op == "":
        return True
    if op == "Exists":
        return valid
    if op == "DoesNotExist":
        return not valid
    if not valid or value is None:
        return False
    if op in ("In", "NotIn", "InRegexp"):
        if not expr.value:
            raise EvaluationError(
                f"invalid expression, 'value' field must be non-empty for Op {_q(op)}"
            )
        if op == "In":
            return value in expr.value
        if op == "NotIn":
            return value not in expr.value
        return _in_regexp(expr, value, regexes)
    if op in ("Gt", "Ge", "Lt", "Le"):
        if len(expr.value) != 1:
            raise EvaluationError(
                "invalid expression, 'value' field must contain exactly one element for Op "
                f"{_q(op)} (have {go_values(expr.value)})"
            )
        return _compare(expr, value)
    if op in ("GtLt", "GeLe"):
        if len(expr.value) != 2:
            raise EvaluationError(
                "invalid expression, 'value' field must contain exactly two elements for Op "
                f"{_q(op)} (have {go_values(expr.value)})"
            )
        return _in_range(expr, value)
    # IsTrue / IsFalse
    if expr.value:
        raise EvaluationError(
            f"invalid expression, 'value' field must be empty for Op {_q(op)} "
            f"(have {go_values(expr.value)})"
        )
    return value == ("true" if op == "IsTrue" else "false")


def go_utf8(text: str) -> str:
    """Lone surrogates (from JSON ``\\ud800`` escapes) read as U+FFFD, as Go decodes them."""
    return text if text.isascii() else _surrogates().sub("\ufffd", text)


@functools.cache
def _surrogates() -> re.Pattern[str]:
    return re.compile("[\ud800-\udfff]")  # compiled on first need: a cold start counts


def _in_regexp(expr: MatchExpression, value: str, regexes: RegexCache) -> bool:
    value = go_utf8(value)
    compiled = []
    for pattern in expr.value:
        regex = regexes.compile(go_utf8(pattern))
        if regex is None:
            raise EvaluationError(
                "invalid expressiom, 'value' field must only contain valid regexps for Op "
                f"{_q(expr.op)} (have {go_values(expr.value)})"
            )
        compiled.append(regex)
    return any(regex.search(value) is not None for regex in compiled)


def _bad_type(expr: MatchExpression) -> EvaluationError:
    return EvaluationError(
        f"invalid expression, 'type' field only accepts \"version\" value for Op {_q(expr.op)} "
        f"(have {_q(expr.type)})"
    )


def _parse_pair(expr: MatchExpression, value: str, bounds: tuple[str, ...]
                ) -> tuple[Any, list[Any]]:
    """Parse the node value and the expression's bounds as numbers or versions."""
    if expr.type == "version":
        parse: Any = parse_version
        kind = "a version"
    elif expr.type == "":
        parse = atoi
        kind = "a number"
    else:
        raise _bad_type(expr)
    left = parse(value)
    if left is None:
        raise EvaluationError(f"not {kind} {_q(value)}")
    rights = []
    for bound in bounds:
        right = parse(bound)
        if right is None:
            raise EvaluationError(f"not {kind} {_q(bound)} in {_expr_text(expr)}")
        rights.append(right)
    return left, rights


def _compare(expr: MatchExpression, value: str) -> bool:
    left, (right,) = _parse_pair(expr, value, expr.value)
    op = expr.op
    return bool(
        (op == "Lt" and left < right)
        or (op == "Le" and left <= right)
        or (op == "Gt" and left > right)
        or (op == "Ge" and left >= right)
    )


def _in_range(expr: MatchExpression, value: str) -> bool:
    v, (low, high) = _parse_pair(expr, value, expr.value)
    if expr.type == "" and low >= high:
        raise EvaluationError(
            "invalid expression, value[0] must be less than Value[1] for Op "
            f"{_q(expr.op)} (have {go_values(expr.value)})"
        )
    if expr.op == "GtLt":
        return bool(low < v < high)
    return bool(low <= v <= high)
