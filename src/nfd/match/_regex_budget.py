"""The regular expressions of one spec, compiled up front within one RE2 budget.

NFD compiles an ``InRegexp`` pattern when it first evaluates it; a spec of 300
large-but-legal patterns then keeps a node busy for a minute at a gigabyte.
:func:`spec_regexes` compiles every pattern of a spec (in document order) into
one :class:`~nfd.match.RegexCache` whose budget is :class:`nfd._go.regexp.RegexpLimits`,
and names the expression that goes over it. Verdicts are unchanged: invalid
patterns are remembered as such, and reported only if NFD would evaluate them.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.errors import SpecError
from nfd.match._ops import RegexCache, go_utf8

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nfd._go.regexp import RegexpLimits
    from nfd.api import CompatSpec, FeatureMatcherTerm, MatchExpression


def _term_expressions(terms: tuple[FeatureMatcherTerm, ...], path: str
                      ) -> Iterator[tuple[str, MatchExpression]]:
    for i, term in enumerate(terms):
        tpath = f"{path}[{i}]"
        for name, expr in (term.match_expressions or {}).items():
            yield f"{tpath}.matchExpressions.{name}", expr
        if term.match_name is not None:
            yield f"{tpath}.matchName", term.match_name


def spec_expressions(spec: CompatSpec) -> Iterator[tuple[str, MatchExpression]]:
    """Every expression of ``spec`` with its JSON path, in document order."""
    for c, compat in enumerate(spec.compatibilities):
        for r, rule in enumerate(compat.rules):
            rpath = f"compatibilities[{c}].rules[{r}]"
            yield from _term_expressions(rule.match_features, f"{rpath}.matchFeatures")
            for a, alternative in enumerate(rule.match_any):
                yield from _term_expressions(alternative.match_features,
                                             f"{rpath}.matchAny[{a}].matchFeatures")


def spec_regexes(spec: CompatSpec, limits: RegexpLimits | None = None) -> RegexCache:
    """A cache holding every ``InRegexp`` pattern of ``spec``; raises :class:`SpecError` at
    the first value that takes the patterns over ``limits``."""
    regexes = RegexCache(limits)
    for path, expr in spec_expressions(spec):
        if expr.op != "InRegexp":
            continue
        from nfd._go.regexp import RegexpBudgetError  # a spec with a regexp: RE2 is loaded

        for i, pattern in enumerate(expr.value):
            try:
                regexes.compile(go_utf8(pattern))
            except RegexpBudgetError as exc:
                raise SpecError(exc.message, source=spec.source,
                                path=f"{path}.value[{i}]") from None
    return regexes
