"""One flag vocabulary across commands: --spec, -o, digests, version, missing extras,
dry runs; and the vocabulary `explain` prints is the one lint checks against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd

from nfd._suggest import closest_match, did_you_mean
from nfd.api import loads_spec
from nfd.compat import explain_vocabulary, lint_spec
from nfd.errors import NoArtifactError, UsageError
from nfd.match import OPS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "image-compatibility.yaml")


@pytest.mark.parametrize(("word", "choices", "meant"), [
    ("--node", ["--nodefeatures", "--kubeconfig"], "--nodefeatures"),  # the near miss
    ("--feat", ["--features", "--host-root"], "--features"),
    ("--featuers", ["--features", "--host-root"], "--features"),  # a typo
    ("id", ["ID", "NAME"], "ID"),  # case
    ("AVX5", ["AVX512F", "AVX512BW", "AVX"], "AVX512F"),  # the shortest it starts
    ("--zz", ["--features"], None),
])
def test_did_you_mean_is_one_rule(word: str, choices: list[str], meant: str | None) -> None:
    assert closest_match(word, choices) == meant
    assert did_you_mean(word, choices, quote="") == (f" (did you mean {meant}?)" if meant
                                                     else "")


def test_validate_spec_takes_spec_as_other_commands_do(tmp_path: Path) -> None:
    assert nfd("compat", "validate-spec", "--spec", EXAMPLE).returncode == 0
    assert nfd("compat", "validate-spec", EXAMPLE).returncode == 0
    assert_one_line_error(nfd("compat", "validate-spec", EXAMPLE, "--spec", EXAMPLE), 2,
                          "give the spec file once")
    never = tmp_path / "never.yaml"
    never.write_text(Path(EXAMPLE).read_text().replace("vfio_pci", "vfio-pci"))
    proc = nfd("compat", "validate-spec", "--spec", str(never), "-o", "json")
    assert proc.returncode == 2  # no node can ever match: an error, not "valid"
    doc = json.loads(proc.stdout)
    assert doc["valid"] is False and doc["findings"][0]["severity"] == "error"
    assert "never matches" in doc["findings"][0]["message"]


def test_gt_on_a_version_suggests_the_type(tmp_path: Path) -> None:
    spec = tmp_path / "gt.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities:\n- rules:\n  - name: os\n"
                    "    matchFeatures:\n    - feature: system.osrelease\n"
                    "      matchExpressions:\n        VERSION_ID: {op: Gt, value: ['22.04']}\n")
    proc = nfd("compat", "validate-spec", str(spec))
    assert proc.returncode == 2
    assert 'not an integer: "22.04" (a version? add type: "version"' in proc.stderr


def test_nfd_version() -> None:
    text = nfd("version")
    assert text.returncode == 0 and "NFD reference: v0.19.0" in text.stdout
    doc = json.loads(nfd("version", "-o", "json").stdout)
    assert set(doc) == {"clientVersion", "nfdReferenceVersion", "pythonVersion"}
    assert doc["nfdReferenceVersion"] == "v0.19.0"
    import platform

    from nfd import __version__

    assert (doc["clientVersion"], doc["pythonVersion"]) == (__version__,
                                                            platform.python_version())


@pytest.mark.parametrize(("module", "argv", "extra"), [
    ("aiohttp", ["compat", "webhook", "serve", "--tls-cert-file", "c", "--tls-key-file", "k",
                 "--allow-registry", "r.example.com"], "webhook"),
])
def test_a_missing_extra_has_one_exit_code_and_one_hint(
        tmp_path: Path, module: str, argv: list[str], extra: str) -> None:
    # A package that fails to import, first on the path: as if the extra were not installed.
    (tmp_path / f"{module}.py").write_text("raise ImportError('not installed')\n")
    src = str(ROOT / "src")
    proc = nfd(*argv, env={"PYTHONPATH": f"{tmp_path}:{src}"})
    assert_one_line_error(proc, 2, f"of the '{extra}' extra (pip install -e '.[{extra}]')")


def test_export_dry_run_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "features.json"
    proc = nfd("export", "features", "-p", str(target), "--dry-run")
    assert proc.returncode == 0 and not target.exists()
    assert f"bytes to {target} (dry run: nothing written)" in proc.stderr
    yaml_out = nfd("export", "features", "-o", "yaml")
    assert yaml_out.returncode == 0 and yaml_out.stdout.startswith("flags:\n")


def test_short_digests_resolve_when_unique() -> None:
    from nfd.compat._artifacts import ArtifactInfo, pick_artifact
    from nfd.oci import Reference

    ref = Reference.parse("r.example.com/app:1")
    a = ArtifactInfo("sha256:" + "ab12" * 3 + "0" * 52, None, 1, "t", "s", "m")
    b = ArtifactInfo("sha256:" + "ab12" * 3 + "1" * 52, None, 1, "t", "s", "m")
    assert pick_artifact(ref, [a, b], "sha256:ab12ab12ab120") is a
    assert pick_artifact(ref, [a, b], "ab12ab12ab121") is b
    assert pick_artifact(ref, [a, b], a.digest) is a
    with pytest.raises(UsageError, match="start of 2 artifacts"):
        pick_artifact(ref, [a, b], "sha256:ab12ab12ab12")
    with pytest.raises(NoArtifactError):
        pick_artifact(ref, [a, b], "sha256:ffffffffffff")


def test_explain_prints_the_vocabulary_lint_checks_against() -> None:
    doc = explain_vocabulary()
    assert [o["op"] for o in doc["ops"]] == list(OPS)
    assert {o["op"]: o["values"] for o in doc["ops"]}["GtLt"] == "exactly two"
    names = [f["name"] for f in doc["features"]]
    assert "pci.device" in names and "kernel.loadedmodule" in names
    # Every element name explain lists is one lint accepts, and a name it does not list
    # (of a closed feature) is one lint refuses.
    for feature in doc["features"]:
        for element in feature["elements"] or ():
            spec = loads_spec("version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n"
                              f"    matchFeatures:\n    - feature: {feature['name']}\n"
                              f"      matchExpressions:\n        {json.dumps(element)}: "
                              "{op: Exists}\n")
            assert lint_spec(spec) == [], (feature["name"], element)
    pci = next(f for f in doc["features"] if f["name"] == "pci.device")
    assert pci["kind"] == "instances"
    assert pci["valueFormats"]["vendor"] == "four lower-case hex digits"
    assert doc["nodeFeature"]["kind"] == "NodeFeature"
    proc = nfd("compat", "explain", "pci.devic")
    assert_one_line_error(proc, 2, 'did you mean "pci.device"?')
    # A spec file where a feature name belongs: sent to the linter, not "unknown feature".
    proc = nfd("compat", "explain", "examples/image-compatibility.yaml")
    assert_one_line_error(proc, 2, "not a file",
                          "nfd compat validate-spec examples/image-compatibility.yaml")
    text = nfd("compat", "explain").stdout
    assert "NODEFEATURE" in text and "GeLe" in text and "type: version" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_every_writer_has_a_dry_run(tmp_path: Path) -> None:
    config = ROOT / "tests" / "fixtures" / "cuda-images" / "cuda-12.1.1-ubuntu22.04.json"
    spec = tmp_path / "spec.yaml"
    proc = nfd("compat", "generate", "--from-config", str(config), "--path", str(spec),
               "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert not spec.exists() and proc.stdout.startswith("version: v1alpha1")
    as_json = nfd("compat", "generate", "--from-config", str(config), "-o", "json")
    assert json.loads(as_json.stdout)["version"] == "v1alpha1"
    facts = tmp_path / "facts"
    proc = nfd("export", "features-d", "--path", str(facts), "--dry-run")
    assert proc.returncode == 0 and not facts.exists()
    assert "dry run: nothing written" in proc.stderr
