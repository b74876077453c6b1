"""The library names its caller's arguments; the command line words them as its flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd

from nfd.api import load_features
from nfd.cli._base import flag_for, message_of
from nfd.compat import load_compat_spec, validate_features
from nfd.errors import SpecError, UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "image-compatibility.yaml"
DIGEST = "sha256:" + "a" * 64


def _node_feature(node: str, vendor: str) -> dict[str, object]:
    return {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
            "metadata": {"name": f"{node}-nf", "namespace": "node-feature-discovery",
                         "labels": {"nfd.node.kubernetes.io/node-name": node}},
            "spec": {"features": {
                "flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
                "attributes": {"cpu.model": {"elements": {"vendor_id": vendor}}},
                "instances": {"pci.device": {"elements": [
                    {"attributes": {"vendor": "0fff", "class": "0200"}}]}}}}}


@pytest.fixture
def two_nodes(tmp_path: Path) -> Path:
    path = tmp_path / "nodefeatures.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        _node_feature("amd-node", "AMD"), _node_feature("arm-node", "ARM")]}))
    return path


def test_flag_names() -> None:
    assert flag_for("host_root") == "--host-root"
    assert flag_for("digests") == "--artifact-digest"  # remove-spec's --digest is an alias
    assert flag_for("digest") == "--artifact-digest"
    error = UsageError("`digests` and `all` exclude each other", arguments=("digests", "all"))
    assert message_of(error) == "--artifact-digest and --all exclude each other"
    # only the declared names are rewritten, not text that merely looks like them
    assert message_of(UsageError("value `all` here", arguments=())) == "value `all` here"


def test_library_errors_name_arguments(two_nodes: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_features(two_nodes)
    assert info.value.arguments == ("node",)
    assert "choose one with `node`" in str(info.value) and "--" not in str(info.value)
    assert str(two_nodes) in str(info.value)
    with pytest.raises(UsageError, match="`digest` goes with `image`"):
        load_compat_spec(str(EXAMPLE), None, digest=DIGEST)


def test_load_features_and_validate_from_the_public_api(two_nodes: Path) -> None:
    from nfd.api import load_spec

    spec = load_spec(EXAMPLE)
    assert validate_features(spec, load_features(two_nodes, node="amd-node")).compatible
    assert not validate_features(spec, load_features(two_nodes, node="arm-node")).compatible
    assert validate_features(spec, load_features(two_nodes, "amd-node"), tags=None).compatible


def test_the_cli_words_them_as_flags(two_nodes: Path, tmp_path: Path) -> None:
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--features", str(two_nodes))
    assert_one_line_error(proc, 2, "choose one with --node", str(two_nodes))
    proc = nfd("compat", "validate-node", "--spec", str(EXAMPLE), "--artifact-digest", DIGEST,
               "--features", str(two_nodes), "--node", "amd-node")
    assert_one_line_error(proc, 2, "--artifact-digest goes with --image")
    proc = nfd("export", "features", "--host-root", str(tmp_path / "missing"))
    assert_one_line_error(proc, 2, "--host-root", "not a directory")
    assert "`" not in proc.stderr


def test_a_command_words_its_own_flags() -> None:
    # the job's library arguments `job_name` and `toleration` are worded as its flags
    proc = nfd("compat", "job", "--image", "app", "--nodes", "-", "--job-name", "one",
               stdin="a\nb\n")
    assert_one_line_error(proc, 2, "--job-name names one Job")
    proc = nfd("compat", "job", "--image", "app", "--node", "n1", "--toleration", "bad")
    assert_one_line_error(proc, 2, "--toleration 'bad': expected KEY[=VALUE]:EFFECT")
