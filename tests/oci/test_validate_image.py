"""``nfd compat validate-node --image`` end to end: a real registry, a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._cli import nfd
from tests.oci._registry import Registry, free_port
from tests.oci.conftest import PASSWORD, USER, PushImage

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples" / "image-compatibility.yaml"
FEATURES = {
    "flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
    "attributes": {"cpu.model": {"elements": {"vendor_id": "Intel"}}},
    "instances": {"pci.device": {"elements": [{"attributes": {"vendor": "0eee",
                                                               "class": "0200"}}]}},
}


@pytest.fixture
def features(tmp_path: Path) -> Path:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(FEATURES))
    return path


def _attach(image: str, *extra: str, stdin: str | None = None) -> str:
    proc = nfd("compat", "attach-spec", "--image", image, "--spec", str(SPEC), *extra,
               stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[1]


def test_compatible_node_from_registry(plain_registry: Registry, push: PushImage,
                                       features: Path) -> None:
    image = push(plain_registry)
    artifact = _attach(image)
    proc = nfd("compat", "validate-node", "--image", image, "--features", str(features),
               "--output", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["compatible"] is True
    assert report["artifactDigest"] == artifact
    assert report["image"] == image and report["imageDigest"].startswith("sha256:")
    nfd_json = nfd("compat", "validate-node", "--image", image, "--features", str(features),
                   "--output-json", "--plain-http")
    assert json.loads(nfd_json.stdout)[0]["rules"][0]["isMatch"] is True


def test_incompatible_node_exits_1(plain_registry: Registry, push: PushImage,
                                   tmp_path: Path) -> None:
    image = push(plain_registry)
    _attach(image)
    bad = json.loads(json.dumps(FEATURES))
    bad["flags"]["kernel.loadedmodule"]["elements"] = {"nvidia": {}}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(bad))
    proc = nfd("compat", "validate-node", "--image", image, "--features", str(path))
    assert proc.returncode == 1
    assert "kernel.loadedmodule.vfio_pci" in proc.stdout and "missing" in proc.stdout


def test_image_without_artifact_exits_4(plain_registry: Registry, push: PushImage,
                                        features: Path) -> None:
    image = push(plain_registry)
    proc = nfd("compat", "validate-node", "--image", image, "--features", str(features))
    assert proc.returncode == 4
    assert proc.stderr.count("\n") == 1 and "no compatibility artifact" in proc.stderr


def test_unknown_image_and_dead_registry_exit_3(plain_registry: Registry,
                                                features: Path) -> None:
    missing = nfd("compat", "validate-node", "--image", f"{plain_registry.host}/no/such:v1",
                  "--features", str(features))
    assert missing.returncode == 3 and missing.stderr.count("\n") == 1
    assert "no/such" in missing.stderr
    dead = nfd("compat", "validate-node", "--image", f"127.0.0.1:{free_port()}/a/b:v1",
               "--features", str(features), "--timeout", "5")
    assert dead.returncode == 3 and "Traceback" not in dead.stderr


def test_token_auth_with_password_from_stdin(token_registry: Registry, push: PushImage,
                                          features: Path) -> None:
    image = push(token_registry)
    _attach(image, "--registry-username", USER, "--registry-password-stdin", stdin=PASSWORD)
    wrong = nfd("compat", "validate-node", "--image", image, "--features", str(features),
                "--registry-username", USER, "--registry-password-stdin", stdin="wrong-pass")
    assert wrong.returncode == 3, wrong.stderr
    assert "wrong-pass" not in wrong.stderr and wrong.stderr.count("\n") == 1
    ok = nfd("compat", "validate-node", "--image", image, "--features", str(features),
             "--registry-username", USER, "--registry-password-stdin", stdin=PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    assert PASSWORD not in ok.stdout + ok.stderr


def test_platform_manifest_of_an_index(plain_registry: Registry, push: PushImage,
                                       features: Path) -> None:
    image = push(plain_registry, "multi")
    _attach(image, "--platform", "linux/arm64")
    proc = nfd("compat", "validate-node", "--image", image, "--platform", "linux/arm64",
               "--features", str(features), "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["compatible"] is True


def _node_feature(node: str, features: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
            "metadata": {"name": node, "namespace": "node-feature-discovery",
                         "labels": {"nfd.node.kubernetes.io/node-name": node}},
            "spec": {"features": features}}


def test_validate_cluster_and_affinity_from_image(plain_registry: Registry, push: PushImage,
                                                  tmp_path: Path) -> None:
    image = push(plain_registry)
    _attach(image)
    other = json.loads(json.dumps(FEATURES))
    other["attributes"]["cpu.model"]["elements"]["vendor_id"] = "ARM"
    dump = tmp_path / "nodefeatures.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        _node_feature("good", FEATURES), _node_feature("arm", other)]}))
    proc = nfd("compat", "validate-cluster", "--image", image, "--nodefeatures", str(dump),
               "-o", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["image"] == image
    verdicts = {node["name"]: node["compatible"] for node in report["nodes"]}
    assert verdicts == {"good": True, "arm": False}
    affinity = nfd("compat", "affinity", "--image", image, "-o", "json")
    assert affinity.returncode == 0, affinity.stderr
    assert "NodeFeatureRule" in affinity.stdout and "vfio_pci" in affinity.stdout
