"""Property tests: any spec, features or YAML text gives a result or a located SpecError.

Never another exception (a traceback in the CLI), whatever the input.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nfd.api import load_features_document, loads, loads_spec, parse_spec
from nfd.compat import nfd_report, validate_features
from nfd.errors import SpecError
from nfd.match import UnknownTagError

OPS = ["In", "NotIn", "InRegexp", "Exists", "DoesNotExist", "Gt", "Ge", "Lt", "Le", "GtLt",
       "GeLe", "IsTrue", "IsFalse", "", "Inn", "in"]
WORDS = st.sampled_from(["a", "b", "1", "-3", "10", "1.2.3", "v2", "(", "^a", "true", "false",
                         "", "6.8.0-45-generic", "9223372036854775808", "x.y", "A.B", "é",
                         "\ud800", "\\C"])
TEXT = st.one_of(WORDS, st.text(max_size=8))
SCALAR = st.one_of(TEXT, st.integers(-5, 5), st.booleans(), st.none(), st.floats(-2, 2))
JUNK = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)

EXPR = st.fixed_dictionaries(
    {"op": st.sampled_from(OPS)},
    optional={"value": st.lists(WORDS, max_size=3), "type": st.sampled_from(["", "version", "x"])},
)
FEATURE = st.sampled_from(["f.a", "f.b", "F.A", "rule.matched", "nodot", "f.missing"])
TERM = st.fixed_dictionaries(
    {"feature": FEATURE},
    optional={"matchExpressions": st.one_of(st.none(), st.dictionaries(WORDS, EXPR, max_size=3)),
              "matchName": EXPR},
)
RULE = st.fixed_dictionaries(
    {"name": WORDS},
    optional={
        "vars": st.dictionaries(WORDS, WORDS, max_size=2),
        "varsTemplate": st.sampled_from(["", "a=b", "{{range .f.a}}{{.Name}}=1\n{{end}}", "x",
                                         "{{", "{{index . \"a\"}}", "{{ .f.zz }}"]),
        "matchFeatures": st.lists(TERM, max_size=3),
        "matchAny": st.lists(st.fixed_dictionaries({"matchFeatures": st.lists(TERM, max_size=2)}),
                             max_size=2),
    },
)
SPEC = st.fixed_dictionaries({
    "version": st.sampled_from(["v1alpha1", "v1alpha1", "v2", None]),
    "compatibilities": st.lists(st.fixed_dictionaries(
        {"rules": st.lists(RULE, max_size=3)},
        optional={"tag": WORDS, "weight": st.integers(-3, 100), "description": WORDS}),
        max_size=3),
})
ELEMENTS = st.dictionaries(WORDS, WORDS, max_size=4)
FEATURES = st.fixed_dictionaries({}, optional={
    "flags": st.dictionaries(FEATURE, st.fixed_dictionaries({"elements": st.one_of(
        st.none(), st.dictionaries(WORDS, st.just({}), max_size=3))}), max_size=3),
    "attributes": st.dictionaries(FEATURE, st.fixed_dictionaries(
        {"elements": st.one_of(st.none(), ELEMENTS)}), max_size=3),
    "instances": st.dictionaries(FEATURE, st.fixed_dictionaries({"elements": st.one_of(
        st.none(), st.lists(st.fixed_dictionaries({"attributes": ELEMENTS}), max_size=3))}),
        max_size=3),
})
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validate(spec_obj: Any, features_obj: Any, tags: list[str]) -> None:
    try:
        spec = parse_spec(spec_obj, "spec.yaml")
        features = load_features_document(features_obj, source="features.json")
        result = validate_features(spec, features, tags)
    except SpecError as exc:
        # Every error is located: it names the file it came from.
        assert str(exc).startswith(("spec.yaml", "features.json")), str(exc)
        return
    except UnknownTagError as exc:
        # Tags that select no set are refused, naming the tags the spec has.
        assert tags and not any(c.tag in tags for c in spec.compatibilities)
        assert set(exc.available) == {c.tag for c in spec.compatibilities if c.tag}
        return
    report = nfd_report(result)
    assert len(report) == len(result.statuses)
    assert result.compatible == any(all(r["isMatch"] for r in (s["rules"] or []))
                                    for s in report)


@SETTINGS
@given(SPEC, FEATURES, st.lists(WORDS, max_size=2))
def test_wellformed_shapes_give_a_result_or_a_located_error(spec: Any, features: Any,
                                                            tags: list[str]) -> None:
    _validate(spec, features, tags)


@SETTINGS
@given(JUNK, JUNK)
def test_arbitrary_documents_give_a_located_error(spec: Any, features: Any) -> None:
    _validate(spec, features, [])


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_yaml_text(text: str) -> None:
    for parse in (lambda t: loads_spec(t, "spec.yaml"),
                  lambda t: load_features_document(loads(t, source="features.json"),
                                                   source="features.json")):
        try:
            parse(text)
        except SpecError as exc:
            assert str(exc).startswith(("spec.yaml", "features.json")), str(exc)


@SETTINGS
@given(st.sampled_from(["version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n",
                        '{"flags": {"f.a": {"elements": {"x": {}}}}}']),
       st.integers(0, 60), st.text(min_size=1, max_size=6))
def test_mutated_documents(base: str, pos: int, insert: str) -> None:
    text = base[:pos] + insert + base[pos:]
    try:
        spec = loads_spec(text, "spec.yaml")
        validate_features(spec, load_features_document(loads(base if "{" in base else "{}")))
    except SpecError as exc:
        assert str(exc).startswith("spec.yaml"), str(exc)


def _projection_agrees(spec_obj: Any, features_obj: Any, tags: list[str]) -> None:
    from nfd.cluster import project_features
    from nfd.match import SpecEvaluator, set_failures

    try:
        spec = parse_spec(spec_obj, "spec.yaml")
        features = load_features_document(features_obj, source="features.json")
        evaluator = SpecEvaluator(spec, tags)
        full = evaluator.validate(features)
    except (SpecError, UnknownTagError):
        return
    expected = [(s.index, s.is_match, set_failures(s, counts=False)) for s in full.statuses]
    # Twice: the second time every outcome comes from what the first remembered.
    for _ in range(2):
        got = [(v.index, v.is_match, v.reasons) for v in evaluator.verdicts(features)]
        assert got == expected
    projected = project_features(features, evaluator.reads)
    assert [(v.index, v.is_match, v.reasons) for v in evaluator.verdicts(projected)] == expected
    assert nfd_report(SpecEvaluator(spec, tags).validate(projected)) == nfd_report(full)


@SETTINGS
@given(SPEC, FEATURES, st.lists(WORDS, max_size=2))
def test_remembered_and_projected_verdicts_are_the_full_evaluations(
        spec: Any, features: Any, tags: list[str]) -> None:
    _projection_agrees(spec, features, tags)


@SETTINGS
@given(SPEC, st.lists(FEATURES, min_size=2, max_size=5))
def test_one_evaluator_for_many_nodes_judges_each_as_alone(spec_obj: Any,
                                                           nodes: list[Any]) -> None:
    from nfd.match import SpecEvaluator, set_failures

    try:
        spec = parse_spec(spec_obj, "spec.yaml")
        shared = SpecEvaluator(spec)
        docs = [load_features_document(n, source="features.json") for n in nodes]
    except SpecError:
        return
    for features in docs:
        try:
            alone = SpecEvaluator(spec).validate(features)
        except SpecError:
            continue
        assert [(v.is_match, v.reasons) for v in shared.verdicts(features)] == [
            (s.is_match, set_failures(s, counts=False)) for s in alone.statuses]
