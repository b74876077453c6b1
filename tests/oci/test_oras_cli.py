"""The seed's workflow with the real ORAS CLI, on both kinds of registry.

Each test runs on Debian's docker-registry (no Referrers API: the ``sha256-<hex>``
tag schema) and on go-containerregistry's registry (native Referrers API): ``oras
attach`` then ``nfd compat validate-node``; ``oras discover`` and ``oras pull`` on what
``nfd compat attach-spec`` pushed; newest-wins across both tools; and ``remove-spec
--all`` leaving other tools' referrers alone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._cli import nfd
from tests._peers import peer, run
from tests.oci._registry import Registry
from tests.oci.conftest import PushImage

from nfd.oci import Reference, fallback_tag

ARTIFACT_TYPE = "application/vnd.nfd.image-compatibility.v1alpha1"
SPEC_TYPE = "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml"
SBOM_TYPE = "application/vnd.example.sbom"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"

SPEC = """version: v1alpha1
compatibilities:
- description: "needs vfio_pci"
  rules:
  - name: "kernel"
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        vfio_pci: {op: Exists}
"""
OTHER_SPEC = SPEC.replace("vfio_pci", "nvme")
HAS_VFIO = {"flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
            "attributes": {}, "instances": {}}
HAS_NVME = {"flags": {"kernel.loadedmodule": {"elements": {"nvme": {}}}},
            "attributes": {}, "instances": {}}


class Oras:
    """The ``oras`` CLI against one plain-HTTP registry, with no credentials of the user's."""

    def __init__(self, registry: Registry, workdir: Path) -> None:
        self.binary = peer("oras")
        self.registry = registry
        self.workdir = workdir
        (workdir / "docker-config").mkdir(exist_ok=True)
        self.env = {"DOCKER_CONFIG": str(workdir / "docker-config")}

    def __call__(self, *args: str) -> str:
        return run([self.binary, *args, "--plain-http"], cwd=self.workdir, env=self.env).stdout

    def attach(self, image: str, artifact_type: str, *files: str, platform: str = "") -> str:
        """The seed's command; returns the artifact digest."""
        extra = ["--platform", platform] if platform else []
        out = self("attach", "--artifact-type", artifact_type, *extra, image, *files,
                   "--format", "json")
        digest: str = json.loads(out)["digest"]
        return digest

    def referrers(self, image: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self("discover", image, "--format",
                                                      "json"))["referrers"]
        return found


@pytest.fixture
def oras(both_registries: Registry, tmp_path: Path) -> Oras:
    return Oras(both_registries, tmp_path)


def _features(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _verdict(image: str, features: str, *extra: str) -> int:
    proc = nfd("compat", "validate-node", "--image", image, "--features", features,
               "--plain-http", *extra)
    assert "Traceback" not in proc.stderr
    return proc.returncode


def _attach_spec(image: str, spec: Path) -> str:
    proc = nfd("compat", "attach-spec", "--image", image, "--spec", str(spec), "--plain-http")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[1]


def test_oras_attach_then_validate_node(oras: Oras, push: PushImage, tmp_path: Path) -> None:
    image = push(oras.registry)
    (tmp_path / "spec.yaml").write_text(SPEC)
    # The seed's command as NFD's docs give it (--plain-http: the test registries are HTTP).
    oras("attach", "--artifact-type", ARTIFACT_TYPE, image, f"spec.yaml:{SPEC_TYPE}")
    assert _verdict(image, _features(tmp_path, "vfio", HAS_VFIO)) == 0
    assert _verdict(image, _features(tmp_path, "nvme", HAS_NVME)) == 1


def test_oras_attach_on_two_platform_index(oras: Oras, push: PushImage, tmp_path: Path) -> None:
    image = push(oras.registry, "multi")
    vfio, nvme = _features(tmp_path, "vfio", HAS_VFIO), _features(tmp_path, "nvme", HAS_NVME)
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "arm.yaml").write_text(OTHER_SPEC)
    oras.attach(image, ARTIFACT_TYPE, f"spec.yaml:{SPEC_TYPE}")  # on the index itself
    for platform in ("linux/amd64", "linux/arm64"):
        assert _verdict(image, vfio, "--platform", platform) == 0
        assert _verdict(image, nvme, "--platform", platform) == 1
    time.sleep(1.1)  # oras stamps whole seconds: the next one must be newer
    oras.attach(image, ARTIFACT_TYPE, f"arm.yaml:{SPEC_TYPE}", platform="linux/arm64")
    assert _verdict(image, nvme, "--platform", "linux/arm64") == 0
    assert _verdict(image, vfio, "--platform", "linux/arm64") == 1
    assert _verdict(image, vfio, "--platform", "linux/amd64") == 0


def test_oras_discover_and_pull_what_attach_spec_pushed(
    oras: Oras, push: PushImage, tmp_path: Path
) -> None:
    image = push(oras.registry)
    spec = tmp_path / "my-compat.yaml"
    spec.write_text(SPEC + "# a comment oras must keep\n")
    digest = _attach_spec(image, spec)
    listed = {r["digest"]: r for r in oras.referrers(image)}
    assert digest in listed
    # go-containerregistry's registry reports the config media type, not artifactType
    assert listed[digest]["artifactType"] in (ARTIFACT_TYPE, EMPTY_TYPE)
    out = tmp_path / "pulled"
    repo = image.rsplit(":", 1)[0]
    oras("pull", "-o", str(out), f"{repo}@{digest}")
    assert [p.name for p in out.iterdir()] == ["my-compat.yaml"]
    assert (out / "my-compat.yaml").read_bytes() == spec.read_bytes()


def test_newest_wins_between_oras_and_us(oras: Oras, push: PushImage, tmp_path: Path) -> None:
    image = push(oras.registry)
    vfio, nvme = _features(tmp_path, "vfio", HAS_VFIO), _features(tmp_path, "nvme", HAS_NVME)
    ours, theirs = tmp_path / "ours.yaml", tmp_path / "theirs.yaml"
    ours.write_text(SPEC)
    theirs.write_text(OTHER_SPEC)
    _attach_spec(image, ours)
    time.sleep(1.1)  # oras stamps whole seconds
    oras.attach(image, ARTIFACT_TYPE, f"theirs.yaml:{SPEC_TYPE}")
    assert _verdict(image, nvme) == 0 and _verdict(image, vfio) == 1
    got = nfd("compat", "get-spec", "--image", image, "--plain-http")
    assert got.returncode == 0 and got.stdout == OTHER_SPEC, got.stderr
    time.sleep(0.01)
    _attach_spec(image, ours)
    assert _verdict(image, vfio) == 0 and _verdict(image, nvme) == 1


def _fallback_entries(registry: Registry, image: str, subject: str) -> dict[str, Any]:
    """The ``sha256-<hex>`` index's entries by digest (empty without the tag)."""
    repo = Reference.parse(image).repository
    reply = httpx.get(f"{registry.url}/v2/{repo}/manifests/{fallback_tag(subject)}",
                      headers={"Accept": INDEX})
    if reply.status_code == 404:
        return {}
    return {m["digest"]: m for m in reply.json()["manifests"]}


def test_remove_all_leaves_other_tools_referrers(
    oras: Oras, push: PushImage, tmp_path: Path
) -> None:
    image = push(oras.registry)
    subject = oras("resolve", image).strip()
    (tmp_path / "sbom.json").write_text('{"packages": []}\n')
    (tmp_path / "spec.yaml").write_text(SPEC)
    sbom = oras.attach(image, SBOM_TYPE, "sbom.json")
    ours = {_attach_spec(image, tmp_path / "spec.yaml"),
            oras.attach(image, ARTIFACT_TYPE, f"spec.yaml:{SPEC_TYPE}")}
    assert {sbom} | ours <= {r["digest"] for r in oras.referrers(image)}
    tagged_before = _fallback_entries(oras.registry, image, subject)
    proc = nfd("compat", "remove-spec", "--image", image, "--all", "--plain-http")
    assert proc.returncode == 0, proc.stderr
    assert [r["digest"] for r in oras.referrers(image)] == [sbom]
    # the tag-schema index (oras writes one on both registries) keeps the SBOM's entry as is
    assert set(tagged_before) == {sbom} | ours
    assert _fallback_entries(oras.registry, image, subject) == {sbom: tagged_before[sbom]}
    oras("manifest", "fetch", f"{image.rsplit(':', 1)[0]}@{sbom}")  # still there
