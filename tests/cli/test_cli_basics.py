"""The command layer through a real subprocess: exit codes, one-line errors, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests._cli import assert_one_line_error, nfd

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "image-compatibility.yaml"

FEATURES_OK = {
    "flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
    "attributes": {"cpu.model": {"elements": {"vendor_id": "AMD"}}},
    "instances": {"pci.device": {"elements": [{"attributes": {"vendor": "0fff",
                                                               "class": "0200"}}]}},
}


@pytest.fixture
def features_ok(tmp_path: Path) -> Path:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(FEATURES_OK))
    return path


def test_compatible_node_exits_0_with_table(features_ok: Path) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(features_ok))
    assert proc.returncode == 0, proc.stderr
    assert "RULE: KERNEL AND CPU - OK" in proc.stdout
    assert "\033[" not in proc.stdout  # piped: no colour
    assert "COMPATIBLE: set #1" in proc.stdout


def test_incompatible_node_exits_1_and_says_why(tmp_path: Path) -> None:
    features = json.loads(json.dumps(FEATURES_OK))
    features["attributes"]["cpu.model"]["elements"]["vendor_id"] = "ARM"
    path = tmp_path / "f.json"
    path.write_text(json.dumps(features))
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(path))
    assert proc.returncode == 1
    failing = [line for line in proc.stdout.splitlines() if "vendor_id" in line]
    assert "FAIL" in failing[0] and "'ARM'" in failing[0]


def test_output_json_is_nfds_compact_shape(features_ok: Path) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(features_ok),
               "--output-json")
    assert proc.returncode == 0
    assert not proc.stdout.endswith("\n") and " " not in proc.stdout.replace(
        "My image requirements", "").replace("kernel and cpu", "").replace(
        "one of available nics", "")
    doc = json.loads(proc.stdout)
    assert list(doc[0]) == ["rules", "description"]
    assert [r["isMatch"] for r in doc[0]["rules"]] == [True, True]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_rich_output_carries_node_values(features_ok: Path, fmt: str) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(features_ok),
               "--output", fmt)
    doc = json.loads(proc.stdout) if fmt == "json" else yaml.safe_load(proc.stdout)
    assert doc["compatible"] is True
    expr = doc["compatibilities"][0]["rules"][0]["matchedExpressions"][0]
    assert expr["node"] == {"available": True, "present": True, "value": "AMD"}


def test_tags_that_select_nothing_are_a_usage_error(features_ok: Path) -> None:
    # Not "incompatible" (exit 1, which a CI gate would act on): the tags are wrong.
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(features_ok),
               "--tags", "gpu,fallback", "--output-json")
    assert_one_line_error(proc, 2, "no compatibility set has tag gpu, fallback",
                          "tags in the spec: none")
    assert proc.stdout == ""


TAGGED_SPEC = {"version": "v1alpha1", "compatibilities": [
    {"tag": "gpu", "rules": [{"name": "g", "matchFeatures": [{"feature": "pci.device"}]}]},
    {"tag": "cpu", "rules": [{"name": "c"}]},
]}


def test_sets_are_numbered_by_their_place_in_the_spec(tmp_path: Path, features_ok: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(TAGGED_SPEC))
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features_ok),
               "--tags", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "COMPATIBILITY SET #2 Weight: 0; Tag: cpu" in proc.stdout
    assert "COMPATIBILITY SET #1" not in proc.stdout
    assert "COMPATIBLE: set #2 (cpu) matches this node." in proc.stdout
    doc = json.loads(nfd("compat", "validate-node", "--spec", str(spec), "--features",
                         str(features_ok), "--tags", "cpu", "-o", "json").stdout)
    assert [(c["index"], c["tag"]) for c in doc["compatibilities"]] == [(1, "cpu")]


def test_unknown_tag_is_the_same_error_in_validate_cluster(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(TAGGED_SPEC))
    dump = tmp_path / "nf.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    for command, where in (("validate-node", ("--features", str(dump))),
                           ("validate-cluster", ("--nodefeatures", str(dump)))):
        proc = nfd("compat", command, "--spec", str(spec), *where, "--tags", "nosuch")
        assert_one_line_error(proc, 2, "no compatibility set has tag nosuch",
                              "(tags in the spec: cpu, gpu)")


def test_bad_spec_gives_located_one_line_error(tmp_path: Path, features_ok: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities:\n- rules:\n  - matchFeatures:\n"
                    "    - feature: cpu.model\n      matchExpressions:\n"
                    "        vendor_id: {op: In, value: Intel}\n")
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features_ok))
    assert_one_line_error(proc, 2, f"{spec}: compatibilities[0].rules[0].matchFeatures[0]"
                          ".matchExpressions.vendor_id.value: expected a list, got string")


def test_engine_error_is_located_and_exit_2(tmp_path: Path, features_ok: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities:\n- rules:\n  - matchFeatures:\n"
                    "    - feature: cpu.model\n      matchExpressions:\n"
                    "        vendor_id: {op: Inn, value: [Intel]}\n")
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features_ok))
    assert_one_line_error(proc, 2, "compatibilities[0].rules[0].matchFeatures[0]"
                          ".matchExpressions.vendor_id.op", 'unknown op "Inn"')
    lint = nfd("compat", "validate-spec", str(spec))
    assert_one_line_error(lint, 2, f"error: {spec}: compatibilities[0].rules[0].matchFeatures[0]"
                          ".matchExpressions.vendor_id.op: unknown op \"Inn\" (expected one of In,"
                          " NotIn, InRegexp")


def test_broken_features_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text('{"flags": {"x": {"elements": ["a"]}}}')
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(path))
    assert_one_line_error(proc, 2, f"{path}: flags.x.elements: expected a mapping, got list")


def test_usage_errors_exit_2() -> None:
    assert nfd("compat", "validate-node").returncode == 2
    proc = nfd("compat", "valdate-node")
    assert_one_line_error(proc, 2, "did you mean 'validate-node'")
    assert nfd("nonsense").returncode == 2
    assert nfd("--help").returncode == 0


def test_validate_spec_reads_stdin() -> None:
    proc = nfd("compat", "validate-spec", "-", stdin=EXAMPLE.read_text())
    assert proc.returncode == 0
    assert "valid (1 compatibility set, 2 rules)" in proc.stdout


def test_a_bug_is_one_line_with_its_own_exit_code(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from nfd.cli._base import EXIT_INTERNAL, run_command

    def broken(_: argparse.Namespace) -> int:
        raise KeyError("oops")

    monkeypatch.delenv("NFD_DEBUG", raising=False)
    assert run_command(argparse.ArgumentParser(prog="nfd x"), broken, []) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: KeyError" in err
    monkeypatch.setenv("NFD_DEBUG", "1")
    with pytest.raises(KeyError):
        run_command(argparse.ArgumentParser(prog="nfd x"), broken, [])


SPLIT_SPEC = """version: v1alpha1
compatibilities:
- rules:
  - name: nic
    matchAny:
    - matchFeatures:
      - feature: pci.device
        matchExpressions:
          vendor: {op: In, value: ["8086"]}
          class: {op: In, value: ["0200"]}
"""
# Each expression matches some instance, but no one instance matches both.
SPLIT_FEATURES = {"instances": {"pci.device": {"elements": [
    {"attributes": {"vendor": "8086", "class": "0300"}},
    {"attributes": {"vendor": "10de", "class": "0200"}}]}}}


def test_instance_split_is_explained_not_hidden(tmp_path: Path) -> None:
    spec, features = tmp_path / "spec.yaml", tmp_path / "f.json"
    spec.write_text(SPLIT_SPEC)
    features.write_text(json.dumps(SPLIT_FEATURES))
    rich = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features),
               "-o", "json")
    assert rich.returncode == 1
    alternative = json.loads(rich.stdout)["compatibilities"][0]["rules"][0]["matchedAny"][0]
    # NFD marks both lines OK; the alternative itself did not match.
    assert [e["isMatch"] for e in alternative["matchedExpressions"]] == [True, True]
    assert alternative["isMatch"] is False
    table = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features))
    assert "no single instance matches them all" in table.stdout


def test_first_failure_names_an_instance_split() -> None:
    from nfd.api import features_from_obj, loads_spec
    from nfd.compat import first_failure, validate_features

    spec = loads_spec("version: v1alpha1\ncompatibilities:\n- rules:\n  - name: nic\n"
                      "    matchFeatures:\n    - feature: pci.device\n      matchExpressions:\n"
                      "        vendor: {op: In, value: ['8086']}\n"
                      "        class: {op: In, value: ['0200']}\n")
    result = validate_features(spec, features_from_obj(SPLIT_FEATURES))
    assert first_failure(result.statuses[0]) == (
        "rule 'nic': each expression matches, but no single instance matches them all")


def test_malformed_digest_is_refused_before_any_network() -> None:
    # Port 1 on loopback: contacting it would fail with exit 3, not a usage error.
    proc = nfd("compat", "remove-spec", "--image", "127.0.0.1:1/a:b", "--digest", "nothex")
    assert proc.returncode == 2
    assert "'nothex' is not a digest" in proc.stderr and "connect" not in proc.stderr
    proc = nfd("compat", "validate-node", "--image", "127.0.0.1:1/a:b", "--artifact-digest",
               "sha256:abc", "--features", str(ROOT / "examples" / "features-h100.json"))
    assert proc.returncode == 2 and "is not a digest" in proc.stderr


@pytest.mark.parametrize(("argv", "needle"), [
    (["compat", "validate-node", "--spec", "s.yaml", "--featurs", "f.json"],
     "unknown flag --featurs (did you mean --features?)"),
    (["compat", "validate-node", "--spec", "s.yaml", "--outptu=json"],
     "unknown flag --outptu=json (did you mean --output?)"),
    (["compat", "attach-spec", "--imgae", "r/a:1", "--spec", "s.yaml"],
     "unknown flag --imgae (did you mean --image?)"),
    (["export", "features", "--zzz"], "unknown flag --zzz (see --help)"),
])
def test_mistyped_flag_is_one_line_with_a_suggestion(argv: list[str], needle: str) -> None:
    assert_one_line_error(nfd(*argv), 2, needle)


def test_output_json_with_another_format_is_a_usage_error(features_ok: Path) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(features_ok),
               "--output-json", "-o", "yaml")
    assert_one_line_error(proc, 2, "--output-json", "--output yaml")
    alone = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features",
                str(features_ok), "--output-json")
    assert alone.returncode == 0 and alone.stdout.startswith("[{")
