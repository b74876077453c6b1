"""Requests a registry session does not repeat: one connection for all of them, a manifest
named by its digest read once, and a registry without the Referrers API asked once."""

from __future__ import annotations

from tests.oci._fake_registry import FakeRegistry, image_with_artifact

from nfd.compat import fetch_compat_spec
from nfd.compat._artifacts import find_artifacts, resolve_image
from nfd.oci import Reference, RegistryClient, RegistryOptions

OPTIONS = RegistryOptions(plain_http=True, use_auth_files=False, timeout=5)


def _paths(server: FakeRegistry) -> list[str]:
    return [path for _, path, _ in server.log]


def test_a_manifest_named_by_digest_is_fetched_once(fake_registry: FakeRegistry) -> None:
    image = image_with_artifact(fake_registry, OPTIONS)
    ref = Reference.parse(image)
    with RegistryClient(OPTIONS) as client:
        digest = client.get_manifest(ref).descriptor.digest  # by tag: asked every time
        client.get_manifest(ref)
        first = client.get_manifest(ref, digest)
        again = client.get_manifest(ref, digest)
        assert again is first
        client.delete_manifest(ref, digest)
        assert client.requests_sent == 4  # two by tag, one by digest, the delete
    assert _paths(fake_registry).count(f"/v2/app/manifests/{digest}") == 2  # GET, DELETE


def test_a_registry_without_the_referrers_api_is_asked_once() -> None:
    server = FakeRegistry(referrers_api=False)
    try:
        images = [image_with_artifact(server, OPTIONS, repo) for repo in ("one", "two")]
        server.log.clear()
        with RegistryClient(OPTIONS) as client:
            for image in images:
                ref = Reference.parse(image)
                assert len(find_artifacts(client, resolve_image(client, ref, None))) == 1
        asked = [p for p in _paths(server) if "/referrers/" in p]
        assert len(asked) == 1 and asked[0].startswith("/v2/one/")
    finally:
        server.stop()


def test_one_connection_serves_the_whole_fetch(fake_registry: FakeRegistry) -> None:
    image = image_with_artifact(fake_registry, OPTIONS)
    before = fake_registry.connections
    fetch_compat_spec(image, OPTIONS)
    assert fake_registry.connections - before == 1
