"""validate-spec's linter: NFD's match-time errors found before any node sees the spec."""

from __future__ import annotations

import pytest

from nfd.api import loads_spec
from nfd.compat import ERROR, WARNING, lint_spec, lint_spec_bytes
from nfd.errors import SpecError

HEAD = "version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n    matchFeatures:\n"


def findings(body: str) -> list[tuple[str, str, str]]:
    return [(f.severity, f.path, f.message) for f in lint_spec(loads_spec(HEAD + body))]


def term(feature: str, exprs: str) -> str:
    return f"    - feature: {feature}\n      matchExpressions:\n{exprs}"


@pytest.mark.parametrize(
    ("exprs", "path_end", "message"),
    [
        ("        x: {op: Inn, value: [a]}\n", "x.op", "unknown op \"Inn\""),
        ("        x: {op: Exists, value: [a]}\n", "x.value", "must be empty for op Exists"),
        ("        x: {op: In}\n", "x.value", "must not be empty for op In"),
        ("        x: {op: InRegexp, value: ['a(']}\n", "x.value[0]", "invalid regular expression"),
        ("        x: {op: Gt, value: ['1', '2']}\n", "x.value", "takes exactly one value, got 2"),
        ("        x: {op: GtLt, value: ['1']}\n", "x.value", "takes exactly two values, got 1"),
        ("        x: {op: Gt, value: ['1.5']}\n", "x.value[0]", "not a integer: '1.5'"),
        ("        x: {op: Gt, value: ['5.4.0-045'], type: version}\n", "x.value[0]",
         "not a version"),
        ("        x: {op: GtLt, value: ['5', '3']}\n", "x.value", "first bound must be less"),
        ("        x: {op: Gt, value: ['1'], type: semver}\n", "x.type", "unknown type 'semver'"),
    ],
)
def test_expression_errors(exprs: str, path_end: str, message: str) -> None:
    errors = [f for f in findings(term("cpu.model", exprs)) if f[0] == ERROR]
    assert len(errors) == 1, errors
    _, path, text = errors[0]
    assert path == f"compatibilities[0].rules[0].matchFeatures[0].matchExpressions.{path_end}"
    assert message in text


def test_valid_expressions_have_no_findings() -> None:
    exprs = ("        family: {op: GeLe, value: ['5', '7']}\n"
             "        id: {op: Gt, value: ['+10']}\n"
             "        vendor_id: {op: InRegexp, value: ['^(Intel|AMD)$']}\n")
    assert findings(term("cpu.model", exprs)) == []
    assert findings(term("kernel.version", "        full: {op: Ge, value: ['6.8.0-45-generic'], "
                                           "type: version}\n")) == []


def test_warnings_for_suspicious_but_legal() -> None:
    found = findings(term("CPU.model", "        x: {op: Exists}\n")
                     + term("kernel.loadedmodule", "        vfio: {op: In, value: [a]}\n")
                     + term("cpu.modle", "        x: {op: Exists}\n"))
    assert {f[0] for f in found} == {WARNING}
    messages = " | ".join(f[2] for f in found)
    assert "write 'cpu.model'" in messages
    assert "never matches a flag feature" in messages
    assert "unknown feature 'cpu.modle'" in messages


def test_structure_errors() -> None:
    spec = loads_spec("version: v1alpha1\ncompatibilities:\n- rules: []\n  weight: 200\n"
                      "- rules:\n  - name: empty\n")
    found = [(f.severity, f.path) for f in lint_spec(spec)]
    assert (ERROR, "compatibilities[0].rules") in found
    assert (WARNING, "compatibilities[0].weight") in found
    assert (ERROR, "compatibilities[1].rules[0]") in found


def test_unsupported_template_is_an_error() -> None:
    spec = loads_spec(HEAD + term("cpu.model", "        x: {op: Exists}\n")
                      + "    varsTemplate: '{{ range .cpu.model }}{{ .Name | semver }}=1"
                      "{{ end }}'\n")
    errors = [f for f in lint_spec(spec) if f.severity == ERROR]
    assert errors[0].path == "compatibilities[0].rules[0].varsTemplate"
    assert "semver" in errors[0].message


def test_lint_spec_bytes_raises_first_error_located() -> None:
    data = (HEAD + term("cpu.model", "        vendor: {op: Inn, value: [a]}\n")).encode()
    with pytest.raises(SpecError) as info:
        lint_spec_bytes(data, "spec.yaml")
    assert str(info.value).startswith(
        "spec.yaml: compatibilities[0].rules[0].matchFeatures[0].matchExpressions.vendor.op: "
        "unknown op \"Inn\" (expected one of In, NotIn, InRegexp, Exists, DoesNotExist, Gt, Ge, "
        "Lt, Le, GtLt, GeLe, IsTrue, IsFalse)")
