"""InRegexp runs in linear time (RE2, like Go's regexp): hostile patterns cannot hang a node."""

from __future__ import annotations

import time

from nfd.api import Compatibility, CompatSpec, FeatureMatcherTerm, Features, GroupRule
from nfd.api import MatchExpression as Expr
from nfd.compat import validate_features


def _spec(pattern: str) -> CompatSpec:
    term = FeatureMatcherTerm("f.a", {"x": Expr("InRegexp", (pattern,))})
    return CompatSpec("v1alpha1", (Compatibility((GroupRule("r", match_features=(term,)),)),))


def test_catastrophic_backtracking_pattern_finishes_quickly() -> None:
    value = "a" * 100_000 + "!"
    features = Features(attributes={"f.a": {"x": value}})
    start = time.perf_counter()
    for pattern in ("(a+)+$", "(a|aa)+$", "^(a*)*b$"):
        assert not validate_features(_spec(pattern), features).compatible
    # A backtracking engine needs ~2**100000 steps here; RE2 needs milliseconds.
    assert time.perf_counter() - start < 5.0


def test_same_pattern_still_matches_where_it_should() -> None:
    features = Features(attributes={"f.a": {"x": "a" * 1000}})
    assert validate_features(_spec("(a+)+$"), features).compatible
