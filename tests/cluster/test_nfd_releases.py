"""NodeFeatureRules the cluster's NFD accepts: NFD v0.17.3's and v0.19.0's own CRDs.

The CRDs come from the published modules (``tests/cluster/_nfd_crds.py``). What
we emit for a release must pass that release's CRD schema (op enum, no unknown
field); the exact rewrites must mean what the original means to NFD's engine
(ours, held to NFD's by the oracle cases), errors included.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._cli import assert_one_line_error, nfd
from tests.cluster._nfd_crds import nodefeaturerule_crd, rule_schema

from nfd._go.strconv import INT64_MAX, INT64_MIN
from nfd.api import MatchExpression, load_spec
from nfd.cluster import LabelScheme, NfdSupport, build_rule_plan, parse_nfd_version
from nfd.cluster._nfd_releases import fit_expression
from nfd.errors import NfdError, SpecError, UsageError
from nfd.match import RegexCache, evaluate

DATA = Path(__file__).parent / "data"
RELEASES = ("v0.17.3", "v0.19.0")
OLD = NfdSupport.of_release((0, 17, 3))
SPEC = """version: v1alpha1
compatibilities:
- description: kernel
  rules:
  - name: kernel
    matchFeatures:
    - feature: kernel.version
      matchExpressions:
        major: {op: Ge, value: ["6"]}
        minor: {op: Le, value: ["+12"]}
        revision: {op: GeLe, value: ["-1", "9"]}
    - feature: cpu.cpuid
      matchName: {op: Ge, value: ["0"]}
"""
VERSIONED = SPEC.replace('{op: Ge, value: ["6"]}', '{op: Ge, value: ["6.1"], type: version}')


def _validator(version: str) -> Any:
    jsonschema: Any = importlib.import_module("jsonschema")  # no type stubs installed
    return jsonschema.Draft7Validator(rule_schema(nodefeaturerule_crd(version)))


def _errors(version: str, rule: dict[str, Any]) -> list[str]:
    return [e.message for e in _validator(version).iter_errors(rule)]


@pytest.mark.parametrize("version", RELEASES)
def test_the_crd_says_what_the_release_table_says(version: str) -> None:
    from_crd = NfdSupport.from_crd(nodefeaturerule_crd(version))
    known = NfdSupport.of_release(parse_nfd_version(version))
    assert (from_crd.ops, from_crd.version_type, from_crd.match_name) == (
        known.ops, known.version_type, known.match_name)
    assert ("Ge" in from_crd.ops) == (version == "v0.19.0")


@pytest.mark.parametrize("version", RELEASES)
def test_emitted_rules_pass_that_release_crd(version: str, tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    done = nfd("compat", "affinity", "--spec", str(spec_file), "--emit", "rule",
               "--nfd-version", version)
    assert done.returncode == 0, done.stderr
    rule = yaml.safe_load(done.stdout)
    assert _errors(version, rule) == []
    expressions = rule["spec"]["rules"][0]["matchFeatures"][0]["matchExpressions"]
    if version == "v0.17.3":
        assert expressions == {"major": {"op": "Gt", "value": ["5"]},
                               "minor": {"op": "Lt", "value": ["13"]},
                               "revision": {"op": "GtLt", "value": ["-2", "10"]}}
        assert rule["spec"]["rules"][0]["matchFeatures"][1]["matchName"] == {
            "op": "Gt", "value": ["-1"]}
    # The spec as written is refused by v0.17.3's schema: this test can fail.
    unfitted = yaml.safe_load(nfd("compat", "affinity", "--spec", str(spec_file), "--emit",
                                  "rule").stdout)
    assert (_errors(version, unfitted) == []) == (version == "v0.19.0")


def test_version_comparisons_are_refused_in_one_line(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(VERSIONED)
    done = nfd("compat", "affinity", "--spec", str(spec_file), "--nfd-version", "v0.17.3")
    assert_one_line_error(done, 2, "matchExpressions.major.type", "op Ge with type: version",
                          "needs NFD v0.18.0 or newer", "NFD v0.17.3")
    assert nfd("compat", "affinity", "--spec", str(spec_file), "--nfd-version",
               "v0.18.0").returncode == 0
    assert_one_line_error(nfd("compat", "affinity", "--spec", str(spec_file), "--nfd-version",
                              "0.17.x"), 2, "--nfd-version", "v0.17.3")


def test_validate_spec_warns_about_what_the_release_lacks(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(VERSIONED)
    done = nfd("compat", "validate-spec", str(spec_file), "--nfd-version", "v0.17.3")
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.splitlines()
    assert len(warnings) == 4 and all(w.startswith("warning: ") for w in warnings)
    assert "major.type: op Ge with type: version needs NFD v0.18.0" in warnings[0]
    assert "minor.op: op Le needs NFD v0.18.0 or newer" in warnings[1]
    assert "writes it as Lt 13" in warnings[1]
    assert nfd("compat", "validate-spec", str(spec_file), "--nfd-version", "v0.17.3",
               "--strict").returncode == 2
    quiet = nfd("compat", "validate-spec", str(spec_file), "--nfd-version", "v0.19.0")
    assert quiet.returncode == 0 and quiet.stderr == ""


def _outcome(expr: MatchExpression, value: str) -> object:
    try:
        return evaluate(expr, True, value, RegexCache())
    except NfdError:
        return "error"


EDGES = [INT64_MIN, INT64_MIN + 1, -1, 0, 1, 5, INT64_MAX - 1, INT64_MAX]
numbers = st.one_of(st.sampled_from(EDGES), st.integers(-50, 50),
                    st.integers(INT64_MIN, INT64_MAX))
texts = st.one_of(numbers.map(str), numbers.map(lambda n: f"+{n}" if n >= 0 else str(n)),
                  st.sampled_from(["", "x", "1.5", " 1", "9223372036854775808", "-0"]))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["Ge", "Le", "GeLe"]), st.lists(texts, min_size=1, max_size=2), texts)
def test_rewrites_mean_what_nfd_means(op: str, values: list[str], node_value: str) -> None:
    expr = MatchExpression(op, tuple(values))
    try:
        fitted = fit_expression(expr, OLD)
    except SpecError as exc:
        assert f"op {op} needs NFD v0.18.0" in exc.message
        return
    assert fitted.op in OLD.ops and fitted.op != op
    assert _outcome(fitted, node_value) == _outcome(expr, node_value)


def test_what_cannot_be_rewritten_exactly_is_refused() -> None:
    for op, values in [("Ge", (str(INT64_MIN),)), ("Le", (str(INT64_MAX),)),
                       ("GeLe", ("5", "5")), ("GeLe", ("6", "5")), ("Ge", ("x",))]:
        with pytest.raises(SpecError, match=f"op {op} needs NFD v0.18.0"):
            fit_expression(MatchExpression(op, values), OLD, "here")
    # type on an op that ignores it: pruned by the old schema, the same meaning.
    assert fit_expression(MatchExpression("In", ("a",), "version"), OLD) == MatchExpression(
        "In", ("a",))


def test_fitted_plans_keep_labels_and_back_references() -> None:
    spec = load_spec(DATA / "spec-backrefs.yaml")
    scheme = LabelScheme("compat.feature.node.kubernetes.io", "app")
    fitted = build_rule_plan(spec, scheme, nfd=OLD)
    plain = build_rule_plan(spec, scheme)
    assert [s.label for s in fitted.sets] == [s.label for s in plain.sets]
    assert "Ge" not in json.dumps(fitted.rule) and "Ge" in json.dumps(plain.rule)
    assert _errors("v0.17.3", fitted.rule) == []


def test_bad_versions_are_usage_errors() -> None:
    for text in ("", "v1", "0.17.x", "v0.17.3.1", "v0.1٧.3"):
        with pytest.raises(UsageError, match="expected an NFD release"):
            parse_nfd_version(text)
    assert parse_nfd_version("0.17") == (0, 17, 0)


def test_validate_cluster_warns_about_what_the_cluster_lacks(tmp_path: Path) -> None:
    spec_file, dump = tmp_path / "spec.yaml", tmp_path / "nodefeatures.json"
    spec_file.write_text(VERSIONED)
    node = {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
            "metadata": {"name": "n1", "namespace": "node-feature-discovery",
                         "labels": {"nfd.node.kubernetes.io/node-name": "n1"}},
            "spec": {"features": {"attributes": {"kernel.version": {"elements": {
                "major": "6", "minor": "1", "revision": "5", "full": "6.1.5"}}}}}}
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [node]}))
    args = ("compat", "validate-cluster", "--spec", str(spec_file), "--nodefeatures", str(dump))
    warned = nfd(*args, "--nfd-version", "v0.17")
    assert warned.returncode in (0, 1), warned.stderr
    lines = [ln for ln in warned.stderr.splitlines() if "warning" in ln]
    assert len(lines) == 4 and "op Ge with type: version needs NFD v0.18.0" in lines[0]
    quiet = nfd(*args, "--nfd-version", "v0.19.0")
    assert quiet.stdout == warned.stdout and "needs NFD" not in quiet.stderr
