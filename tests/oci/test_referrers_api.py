"""The native Referrers API, against a server speaking the spec's wire format."""

from __future__ import annotations

import pytest
from tests.oci._fake_registry import FakeRegistry
from tests.oci._specs import spec_text

from nfd.compat import (
    attach_compat_spec,
    fetch_compat_spec_bytes,
    list_compat_artifacts,
    remove_compat_specs,
)
from nfd.oci import (
    EMPTY_DIGEST,
    Reference,
    RegistryClient,
    RegistryOptions,
    fallback_tag,
    list_referrers,
)

OPTS = RegistryOptions(plain_http=True, use_auth_files=False)


def _image(server: FakeRegistry) -> str:
    config = server.put_blob("app", b'{"architecture":"amd64","os":"linux"}')
    server.put_manifest("app", {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": 38}, "layers": []}, tag="v1")
    return f"{server.host}/app:v1"


def test_attach_uses_api_and_writes_no_fallback_tag(fake_registry: FakeRegistry) -> None:
    image = _image(fake_registry)
    result = attach_compat_spec(image, spec_text("api"), OPTS)
    assert result.referrers_tag is None  # OCI-Subject came back
    assert ("app", fallback_tag(result.subject)) not in fake_registry.tags
    assert fetch_compat_spec_bytes(image, OPTS).spec_bytes == spec_text("api")
    assert any("/referrers/" in path for _, path, _ in fake_registry.log)


@pytest.mark.parametrize("server_filters", [True, False])
def test_pagination_and_client_side_filter(server_filters: bool) -> None:
    server = FakeRegistry(page_size=2, filter_on_server=server_filters)
    try:
        image = _image(server)
        ours = {attach_compat_spec(image, spec_text(str(i)), OPTS).artifact_digest
                for i in range(3)}
        subject = Reference.parse(image)
        with RegistryClient(OPTS) as client:
            digest = client.get_manifest(subject).descriptor.digest
            # someone else's artifact on the same image must not be taken for ours
            server.put_manifest("app", {
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/vnd.example.sbom",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                           "digest": EMPTY_DIGEST, "size": 2},
                "layers": [], "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                          "digest": digest, "size": 1}})
            everything = list_referrers(client, subject, digest)
        assert len(everything) == 4
        assert {a.digest for a in list_compat_artifacts(image, OPTS)} == ours
        pages = [p for _, p, _ in server.log if "/referrers/" in p and "last=" in p]
        assert pages  # the Link header was followed
    finally:
        server.stop()


def test_remove_through_api(fake_registry: FakeRegistry) -> None:
    image = _image(fake_registry)
    result = attach_compat_spec(image, spec_text("gone"), OPTS)
    assert [r.digest for r in remove_compat_specs(image, OPTS).removed] == [result.artifact_digest]
    assert list_compat_artifacts(image, OPTS) == []


def test_created_spelled_as_in_nfd_docs_is_honoured(fake_registry: FakeRegistry) -> None:
    image = _image(fake_registry)
    with RegistryClient(OPTS) as client:
        subject = client.get_manifest(Reference.parse(image)).descriptor
    layer_old = fake_registry.put_blob("app", spec_text("docs-old"))
    layer_new = fake_registry.put_blob("app", spec_text("docs-new"))
    for layer, data, stamp in ((layer_new, spec_text("docs-new"), "2024-03-27T08:08:08Z"),
                               (layer_old, spec_text("docs-old"), "2023-01-01T00:00:00Z")):
        fake_registry.put_manifest("app", {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.nfd.image-compatibility.v1alpha1",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": EMPTY_DIGEST, "size": 2},
            "layers": [{"mediaType": "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml",
                        "digest": layer, "size": len(data)}],
            "subject": subject.to_obj(),
            "annotations": {"oci.opencontainers.image.created": stamp}})
    fetched = fetch_compat_spec_bytes(image, OPTS)
    assert fetched.spec_bytes == spec_text("docs-new")
    assert fetched.created == "2024-03-27T08:08:08Z"


@pytest.mark.parametrize("lookups", [64, 2])
def test_artifact_type_read_from_the_manifest_when_the_server_reports_the_config_type(
    lookups: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("nfd.oci._referrers.MAX_ARTIFACT_TYPE_LOOKUPS", lookups)
    server = FakeRegistry(filter_on_server=False, artifact_type_from_config=True)
    try:
        image = _image(server)
        ours = {attach_compat_spec(image, spec_text(str(i)), OPTS).artifact_digest
                for i in range(3)}
        found = {a.digest for a in list_compat_artifacts(image, OPTS)}
        # at most ``lookups`` manifests are read to learn their type: a hostile
        # registry cannot make one listing fetch without end
        assert found == ours if lookups >= 3 else (len(found) == lookups and found < ours)
    finally:
        server.stop()
