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
        ("        x: {op: Gt, value: ['1.5']}\n", "x.value[0]", 'not an integer: "1.5"'),
        ("        x: {op: Gt, value: ['5.4.0-045'], type: version}\n", "x.value[0]",
         "not a version"),
        ("        x: {op: GtLt, value: ['5', '3']}\n", "x.value", "first bound must be less"),
        ("        x: {op: Gt, value: ['1'], type: semver}\n", "x.type", "unknown type 'semver'"),
    ],
)
def test_expression_errors(exprs: str, path_end: str, message: str) -> None:
    errors = [f for f in findings(term("local.feature", exprs)) if f[0] == ERROR]
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
    # NFD evaluates both (they match every node): legal, so warnings that say so.
    assert (WARNING, "compatibilities[0].rules") in found
    assert (WARNING, "compatibilities[0].weight") in found
    assert (WARNING, "compatibilities[1].rules[0]") in found


def test_unsupported_template_is_an_error() -> None:
    spec = loads_spec(HEAD + term("cpu.model", "        family: {op: Exists}\n")
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


LEGAL_ON_SOME_NODE = {("kernel.enabledmodule", "vfio-pci"), ("system.osrelease", "id"),
                      ("cpu.cpuid", "AVX512FF")}


@pytest.mark.parametrize(
    ("feature", "exprs", "path_end", "message"),  # an error unless in LEGAL_ON_SOME_NODE
    [
        ("kernel.loadedmodule", "        vfio-pci: {op: Exists}\n", "vfio-pci",
         'underscores (did you mean "vfio_pci"?)'),
        ("kernel.enabledmodule", "        vfio-pci: {op: Exists}\n", "vfio-pci",
         '(did you mean "vfio_pci"?)'),
        ("cpu.model", "        vendor: {op: In, value: [Intel]}\n", "vendor",
         'cpu.model has no element "vendor" (did you mean "vendor_id"?)'),
        ("kernel.version", "        major_version: {op: Exists}\n", "major_version",
         "NFD writes only full, major, minor, revision"),
        ("system.osrelease", "        id: {op: In, value: [ubuntu]}\n", "id",
         'did you mean "ID"?'),
        ("system.osrelease", "        VERSION_ID.patch: {op: Exists}\n", "VERSION_ID.patch",
         "VERSION_ID.major and VERSION_ID.minor"),
        ("pci.device", "        address: {op: Exists}\n", "address", "pci.device has no element"),
        ("usb.device", "        product: {op: Exists}\n", "product", "usb.device has no element"),
        ("storage.block", "        rotational: {op: In, value: ['true']}\n",
         "rotational.value[0]", '"0" or "1"'),
        ("memory.hugepages", "        hugepages-2048kB: {op: Exists}\n", "hugepages-2048kB",
         "hugepages-2Mi"),
        ("cpu.cpuid", "        avx512f: {op: Exists}\n", "avx512f",
         'upper case (did you mean "AVX512F"?)'),
        ("cpu.cpuid", "        AVX512FF: {op: Exists}\n", "AVX512FF", 'did you mean "AVX512F"?'),
        ("kernel.config", "        CONFIG_NUMA: {op: In, value: [y]}\n", "CONFIG_NUMA",
         'drop the CONFIG_ prefix (did you mean "NUMA"?)'),
        ("pci.device", "        vendor: {op: In, value: ['10DE']}\n", "vendor.value[0]",
         'four lower-case hex digits on every node, so "10DE" never matches '
         '(did you mean "10de"?)'),
        ("pci.device", "        class: {op: In, value: ['030000']}\n", "class.value[0]",
         '(did you mean "0300"?)'),
        ("pci.device", "        vendor: {op: NotIn, value: ['0x8086']}\n", "vendor.value[0]",
         '(did you mean "8086"?)'),
        ("usb.device", "        class: {op: In, value: ['0E']}\n", "class.value[0]",
         '(did you mean "0e"?)'),
        ("cpu.model", "        vendor_id: {op: In, value: [GenuineIntel]}\n", "vendor_id.value[0]",
         '(did you mean "Intel"?)'),
        ("cpu.model", "        family: {op: In, value: ['0x19']}\n", "family.value[0]",
         "a decimal number"),
    ],
)
def test_vocabulary_findings(feature: str, exprs: str, path_end: str, message: str) -> None:
    # What no node can match makes the set unsatisfiable: an error. What some node may
    # have (a built-in module file name, an unfamiliar CPUID flag, NotIn) stays a warning.
    found = findings(term(feature, exprs))
    legal = (feature, path_end) in LEGAL_ON_SOME_NODE or "NotIn" in exprs
    severity = WARNING if legal else ERROR
    assert [f[0] for f in found] == [severity], found
    _, path, text = found[0]
    assert path == f"compatibilities[0].rules[0].matchFeatures[0].matchExpressions.{path_end}"
    assert message in text, text


def test_unknown_feature_suggests_the_known_one() -> None:
    found = findings(term("cpu.cpuidd", "        AVX: {op: Exists}\n"))
    assert found == [(WARNING, "compatibilities[0].rules[0].matchFeatures[0].feature",
                      "unknown feature 'cpu.cpuidd' (no NFD source publishes it) "
                      '(did you mean "cpu.cpuid"?)')]


def test_match_name_values_are_element_names() -> None:
    body = ("    - feature: kernel.loadedmodule\n      matchName: {op: In, value: [nvidia, "
            "nvidia-uvm]}\n")
    found = findings(body)
    assert [(f[0], f[1]) for f in found] == [
        (WARNING, "compatibilities[0].rules[0].matchFeatures[0].matchName.value[1]")]
    assert '"nvidia_uvm"' in found[0][2]


@pytest.mark.parametrize(
    ("feature", "exprs"),
    [
        ("kernel.loadedmodule", "        vfio_pci: {op: Exists}\n"),
        ("pci.device", "        vendor: {op: In, value: ['10de', '8086']}\n"
                       "        class: {op: In, value: ['0302']}\n"),
        ("system.osrelease", "        ID: {op: In, value: [ubuntu]}\n"
                             "        VERSION_ID.major: {op: Ge, value: ['22']}\n"
                             "        OPENSHIFT_VERSION: {op: Exists}\n"),
        ("memory.hugepages", "        hugepages-1Gi: {op: Gt, value: ['0']}\n"),
        ("cpu.cpuid", "        AMXBF16: {op: Exists}\n        X86_64_V4: {op: Exists}\n"),
        ("cpu.model", "        vendor_id: {op: In, value: [Intel, AMD]}\n"),
        ("kernel.config", "        NUMA: {op: In, value: [y]}\n"),
        ("rule.matched", "        anything: {op: DoesNotExist}\n"),
    ],
)
def test_vocabulary_accepts_what_nodes_have(feature: str, exprs: str) -> None:
    assert findings(term(feature, exprs)) == []


def test_findings_are_prefixed_by_severity() -> None:
    spec = loads_spec(HEAD + term("kernel.enabledmodule", "        vfio-pci: {op: Inn}\n"),
                      "s.yaml")
    texts = [f.text("s.yaml") for f in lint_spec(spec)]
    assert texts[0].startswith("error: s.yaml: compatibilities[0]")
    assert texts[1].startswith("warning: s.yaml: compatibilities[0]")


@pytest.mark.parametrize(
    ("exprs", "invalid"),
    [
        ("        x: {op: Inn, value: [a]}\n", True),
        ("        x: {op: In}\n", True),
        ("        x: {op: IsTrue, value: [a]}\n", True),
        ("        x: {op: InRegexp, value: ['(']}\n", True),
        ("        x: {op: Gt, value: [a]}\n", True),
        ("        x: {op: GtLt, value: ['5', '3']}\n", True),
        ("        x: {op: Gt, value: ['1'], type: semver}\n", True),
        ("        x: {op: Gt, value: ['1']}\n", False),
    ],
)
def test_check_spec_refuses_what_the_engine_rejects(exprs: str, invalid: bool) -> None:
    from nfd.compat import check_spec

    spec = loads_spec(HEAD + term("cpu.model", exprs), "s.yaml")
    if not invalid:
        assert check_spec(spec) is spec
        return
    with pytest.raises(SpecError) as caught:
        check_spec(spec)
    first_error = next(f for f in lint_spec(spec) if f.severity == ERROR)
    assert str(caught.value) == str(first_error.as_error("s.yaml"))


def test_check_spec_ignores_lint_only_errors() -> None:
    # A rule that can never match is a lint error, but NFD's engine evaluates it.
    from nfd.compat import check_spec

    spec = loads_spec(HEAD + term("kernel.loadedmodule", "        vfio-pci: {op: Exists}\n"))
    assert any(f.severity == ERROR for f in lint_spec(spec))
    assert check_spec(spec) is spec


def test_unsatisfiable_only_when_no_alternative_is_left() -> None:
    dead = term("kernel.loadedmodule", "        vfio-pci: {op: Exists}\n")
    live = term("kernel.loadedmodule", "        vfio_pci: {op: Exists}\n")
    any_head = "version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n    matchAny:\n"

    def alternatives(*terms: str) -> list[tuple[str, str]]:
        body = "".join("    - matchFeatures:\n" + t.replace("    - ", "      - ", 1)
                       .replace("\n      ", "\n        ") for t in terms)
        return [(f.severity, f.message) for f in lint_spec(loads_spec(any_head + body))]

    one_left = alternatives(dead, live)
    assert [f[0] for f in one_left] == [WARNING]
    assert "this matchAny alternative can never match" in one_left[0][1]
    none_left = alternatives(dead, dead)
    assert [f[0] for f in none_left] == [ERROR, ERROR]
    assert "its compatibility set never matches" in none_left[0][1]


@pytest.mark.parametrize(
    ("exprs", "severity"),
    [
        ("        vfio-pci: {op: DoesNotExist}\n", WARNING),  # absent: always true
        ("        vfio-pci: {op: Exists}\n", ERROR),
    ],
)
def test_ops_that_hold_for_absent_elements_stay_legal(exprs: str, severity: str) -> None:
    assert [f[0] for f in findings(term("kernel.loadedmodule", exprs))] == [severity]


def test_one_impossible_value_among_others_is_a_warning() -> None:
    found = findings(term("pci.device", "        vendor: {op: In, value: ['10DE', '10de']}\n"))
    assert [f[0] for f in found] == [WARNING]
    found = findings(term("pci.device", "        vendor: {op: In, value: ['10DE', '0x10DE']}\n"))
    assert [f[0] for f in found] == [ERROR, ERROR]


def test_an_integer_comparison_of_a_version_suggests_the_type() -> None:
    found = findings(term("system.osrelease", "        VERSION_ID: {op: Gt, value: ['22.04']}\n"))
    assert found and found[0][0] == ERROR
    assert 'not an integer: "22.04" (a version? add type: "version"' in found[0][2]
    found = findings(term("local.feature", "        x: {op: Gt, value: ['abc']}\n"))
    assert "type" not in found[0][2]
