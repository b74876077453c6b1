"""Interoperability with the PyPI ``oras`` client as an independent peer, both ways."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.oci.conftest import PushImage

from nfd.compat import attach_compat_spec, fetch_compat_spec_bytes, list_compat_artifacts
from nfd.oci import RegistryOptions, fallback_tag

oras_provider = pytest.importorskip("oras.provider")
oras_oci = pytest.importorskip("oras.oci")

ANON = RegistryOptions(use_auth_files=False)
ARTIFACT_TYPE = "application/vnd.nfd.image-compatibility.v1alpha1"
SPEC_TYPE = "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml"
INDEX = "application/vnd.oci.image.index.v1+json"


def _oras(registry: Registry) -> Any:
    return oras_provider.Registry(hostname=registry.host, insecure=True)


def test_oras_reads_what_we_attach(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    result = attach_compat_spec(image, spec_text("for-oras"), ANON)
    client = _oras(plain_registry)
    repo = image.split("/", 1)[1].split(":")[0]
    index = client.get_manifest(f"{plain_registry.host}/{repo}:{fallback_tag(result.subject)}",
                                allowed_media_type=[INDEX])
    assert [m["digest"] for m in index["manifests"]] == [result.artifact_digest]
    assert index["manifests"][0]["artifactType"] == ARTIFACT_TYPE
    manifest = client.get_manifest(f"{plain_registry.host}/{repo}@{result.artifact_digest}")
    assert manifest["subject"]["digest"] == result.subject
    assert manifest["artifactType"] == ARTIFACT_TYPE
    layer = manifest["layers"][0]
    assert layer["mediaType"] == SPEC_TYPE
    blob = client.get_blob(f"{plain_registry.host}/{repo}", layer["digest"])
    assert blob.content == spec_text("for-oras")


def test_we_find_what_oras_pushes(plain_registry: Registry, push: PushImage,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = push(plain_registry)
    host, rest = image.split("/", 1)
    repo = rest.split(":")[0]
    client = _oras(plain_registry)
    raw = client.do_request(f"http://{host}/v2/{repo}/manifests/v1", "GET", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json"})
    subject_digest = "sha256:" + hashlib.sha256(raw.content).hexdigest()
    subject = oras_oci.Subject(mediaType="application/vnd.oci.image.manifest.v1+json",
                               digest=subject_digest, size=len(raw.content))
    monkeypatch.chdir(tmp_path)  # oras-py wants relative file paths
    Path("spec.yaml").write_bytes(spec_text("from-oras"))
    Path("config.json").write_text("{}")
    client.push(f"{host}/{repo}:oras-artifact", files=[f"spec.yaml:{SPEC_TYPE}"],
                manifest_config=f"config.json:{ARTIFACT_TYPE}", subject=subject,
                manifest_annotations={"org.opencontainers.image.created": "2030-01-01T00:00:00Z"},
                quiet=True)
    pushed = client.do_request(f"http://{host}/v2/{repo}/manifests/oras-artifact", "GET",
                               headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    artifact_digest = "sha256:" + hashlib.sha256(pushed.content).hexdigest()
    # The referrers tag index, written by oras-py as a plain PUT.
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": artifact_digest,
        "size": len(pushed.content), "artifactType": ARTIFACT_TYPE,
        "annotations": {"org.opencontainers.image.created": "2030-01-01T00:00:00Z"}}]}
    reply = client.do_request(f"http://{host}/v2/{repo}/manifests/{fallback_tag(subject_digest)}",
                              "PUT", headers={"Content-Type": INDEX}, data=json.dumps(index))
    assert reply.status_code == 201
    listed = list_compat_artifacts(image, ANON)
    assert [a.digest for a in listed] == [artifact_digest]
    fetched = fetch_compat_spec_bytes(image, ANON)
    assert fetched.spec_bytes == spec_text("from-oras")
    assert fetched.image_digest == subject_digest
    # and attaching next to it keeps oras-py's entry
    ours = attach_compat_spec(image, spec_text("ours"), ANON)
    assert {a.digest for a in list_compat_artifacts(image, ANON)} == {
        artifact_digest, ours.artifact_digest}
