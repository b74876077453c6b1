"""``nfd compat validate-node`` through a real subprocess: exit codes, exact JSON, errors.

NFD's Go client prints ``json.Marshal`` of the statuses with ``%s`` (no newline);
scripts compare that output, so it is checked byte for byte.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from tests._cli import assert_one_line_error, nfd
from tests.match._cases import Case, go_ordered, load_cases

from nfd._go.json import dumps

CLI_CASES = [c for c in load_cases(Path(__file__).parent / "cases") if c.raw.get("cli")]

FEATURES = {"attributes": {"fake.attribute": {"elements": {"attr_1": "true", "tag": "<a&b>"}}}}


def _run(tmp_path: Path, spec: object, features: object, *extra: str
         ) -> subprocess.CompletedProcess[str]:
    spec_file = tmp_path / "spec.yaml"
    feat_file = tmp_path / "features.json"
    spec_file.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec),
                         encoding="utf-8")
    feat_file.write_text(features if isinstance(features, str) else json.dumps(features),
                         encoding="utf-8")
    return nfd("compat", "validate-node", "--spec", str(spec_file), "--features",
               str(feat_file), *extra, cwd=tmp_path)


def _rule(name: str, expressions: dict[str, object], **extra: object) -> dict[str, object]:
    return {"version": "v1alpha1", "compatibilities": [{"rules": [
        {"name": name, "matchFeatures": [{"feature": "fake.attribute",
                                          "matchExpressions": expressions}]}], **extra}]}


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_case(tmp_path: Path, case: Case) -> None:
    tags = [f"--tags={','.join(case.raw['tags'])}"] if case.raw.get("tags") else []
    proc = _run(tmp_path, case.spec, case.features, "--output-json", *tags)
    assert proc.returncode == case.exit, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == dumps(go_ordered(case.raw["report"]))


def test_output_json_is_byte_exact_with_go_html_escaping(tmp_path: Path) -> None:
    spec = _rule("r<1>", {"tag": {"op": "In", "value": ["<a&b>"]}},
                 description="x & y <z>", weight=7)
    proc = _run(tmp_path, spec, FEATURES, "--output-json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        '[{"rules":[{"name":"r\\u003c1\\u003e","isMatch":true,"matchedExpressions":'
        '[{"feature":"fake.attribute","name":"tag","expression":{"op":"In","value":'
        '["\\u003ca\\u0026b\\u003e"]},"matcherType":"matchExpression","isMatch":true}]}],'
        '"description":"x \\u0026 y \\u003cz\\u003e","weight":7}]'
    )


def test_not_compatible_exits_1_with_the_report(tmp_path: Path) -> None:
    proc = _run(tmp_path, _rule("r", {"attr_1": {"op": "IsFalse"}}), FEATURES, "--output-json")
    assert proc.returncode == 1
    assert proc.stdout == (
        '[{"rules":[{"name":"r","isMatch":false,"matchedExpressions":[{"feature":'
        '"fake.attribute","name":"attr_1","expression":{"op":"IsFalse"},"matcherType":'
        '"matchExpression","isMatch":false}]}]}]'
    )


@pytest.mark.parametrize(
    ("tags", "selected"),
    [
        (["--tags", "a,b"], ["a", "b"]),
        (["--tags", "a", "--tags", "c"], ["a", "c"]),
        (["--tags", '"b,c"'], ["b,c"]),
        (["--tags", ""], ["a", "b", "b,c", "c", ""]),
        (["--tags", ","], [""]),
    ],
)
def test_tags_follow_cobra_string_slice(tmp_path: Path, tags: list[str],
                                        selected: list[str]) -> None:
    spec = {"version": "v1alpha1", "compatibilities": [
        {"tag": t, "rules": [{"name": t or "untagged"}]} for t in ("a", "b", "b,c", "c", "")]}
    proc = _run(tmp_path, spec, {}, "--output-json", *tags)
    assert proc.returncode == 0, proc.stderr
    assert [s.get("tag", "") for s in json.loads(proc.stdout)] == selected


def test_invalid_spec_refused_up_front_with_lint_message(tmp_path: Path) -> None:
    # Refused before evaluation, whatever the node has, with validate-spec's words and RE2's
    # reason; the feature is absent here, where NFD's engine would merely say "no match".
    spec = _rule("r", {"attr_1": {"op": "InRegexp", "value": ["("]}})
    spec["compatibilities"][0]["rules"][0]["matchFeatures"][0]["feature"] = "no.such"
    proc = _run(tmp_path, spec, FEATURES, "--output-json")
    assert_one_line_error(
        proc, 2, "spec.yaml",
        "compatibilities[0].rules[0].matchFeatures[0].matchExpressions.attr_1.value[0]",
        'invalid regular expression "(": missing )')
    lint = nfd("compat", "validate-spec", str(tmp_path / "spec.yaml"))
    assert lint.returncode == 2
    assert proc.stderr.split("error: ", 1)[1] in lint.stderr


def test_not_a_number_error(tmp_path: Path) -> None:
    proc = _run(tmp_path, _rule("r", {"attr_1": {"op": "Gt", "value": ["1"]}}), FEATURES)
    assert_one_line_error(proc, 2, "spec.yaml", 'not a number "true"')


def test_unknown_op_error(tmp_path: Path) -> None:
    proc = _run(tmp_path, _rule("r", {"attr_1": {"op": "Inn", "value": ["x"]}}), FEATURES)
    assert_one_line_error(proc, 2, "matchExpressions.attr_1.op", 'unknown op "Inn"')


def test_structural_spec_error(tmp_path: Path) -> None:
    spec = _rule("r", {"attr_1": {"op": "In", "valeu": ["x"]}})
    proc = _run(tmp_path, spec, FEATURES)
    assert_one_line_error(proc, 2, "spec.yaml", "matchExpressions.attr_1.valeu")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    proc = _run(tmp_path, "version: v1alpha1\ncompatibilities: [\n  - {rules: [}\n", FEATURES)
    assert_one_line_error(proc, 2, "spec.yaml")


def test_bad_features_document(tmp_path: Path) -> None:
    proc = _run(tmp_path, _rule("r", {}), '{"flags": {"x": {"elements": ["a"]}}}')
    assert_one_line_error(proc, 2, "features.json", "flags.x.elements")


def test_missing_spec_file(tmp_path: Path) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(tmp_path / "nope.yaml"),
               "--features", str(tmp_path / "nope.json"))
    assert_one_line_error(proc, 2, "nope.yaml")


def test_lone_surrogate_in_features_reads_as_replacement_character(tmp_path: Path) -> None:
    # Go's JSON decoder turns a lone \ud800 escape into U+FFFD; it must not crash the match.
    features = '{"attributes": {"fake.attribute": {"elements": {"attr_1": "\\ud800"}}}}'
    proc = _run(tmp_path, _rule("r", {"attr_1": {"op": "InRegexp", "value": ["^\\x{FFFD}$"]}}),
                features, "--output-json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
