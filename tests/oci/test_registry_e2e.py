"""Attach, list, fetch and remove against a real registry (distribution 2.8, tag fallback)."""

from __future__ import annotations

import threading

import httpx
import pytest
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.oci.conftest import PASSWORD, USER, PushImage

from nfd.compat import (
    attach_compat_spec,
    fetch_compat_spec,
    fetch_compat_spec_bytes,
    list_compat_artifacts,
    remove_compat_specs,
)
from nfd.errors import AuthError, NoArtifactError, NotFoundError, RegistryError, UsageError
from nfd.oci import Platform, Reference, RegistryClient, RegistryOptions, fallback_tag

ANON = RegistryOptions(use_auth_files=False)


def _fallback_digests(registry: Registry, image: str, subject: str) -> set[str]:
    repo = Reference.parse(image).repository
    url = f"{registry.url}/v2/{repo}/manifests/{fallback_tag(subject)}"
    reply = httpx.get(url, headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    if reply.status_code == 404:
        return set()
    return {m["digest"] for m in reply.json()["manifests"]}


def test_attach_then_fetch_roundtrip(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    result = attach_compat_spec(image, spec_text("one"), ANON)
    assert result.referrers_tag == fallback_tag(result.subject)  # 2.8 has no Referrers API
    fetched = fetch_compat_spec_bytes(image, ANON)
    assert fetched.spec_bytes == spec_text("one")
    assert fetched.artifact_digest == result.artifact_digest
    assert fetched.image_digest == result.subject
    assert fetched.image == image
    assert fetched.created == result.created
    assert _fallback_digests(plain_registry, image, result.subject) == {result.artifact_digest}


def test_newest_wins_and_digest_pins(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    first = attach_compat_spec(image, spec_text("old"), ANON)
    second = attach_compat_spec(image, spec_text("new"), ANON)
    listed = list_compat_artifacts(image, ANON)
    assert [a.digest for a in listed] == [second.artifact_digest, first.artifact_digest]
    assert fetch_compat_spec_bytes(image, ANON).spec_bytes == spec_text("new")
    pinned = fetch_compat_spec_bytes(image, ANON, digest=first.artifact_digest)
    assert pinned.spec_bytes == spec_text("old")
    with pytest.raises(NoArtifactError):
        fetch_compat_spec_bytes(image, ANON, digest="sha256:" + "0" * 64)


def test_no_artifact_and_missing_image(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    with pytest.raises(NoArtifactError):
        fetch_compat_spec_bytes(image, ANON)
    assert list_compat_artifacts(image, ANON) == []
    with pytest.raises(NotFoundError) as info:
        fetch_compat_spec_bytes(f"{plain_registry.host}/nothing/here:v1", ANON)
    assert plain_registry.host in str(info.value) and "nothing/here" in str(info.value)


def test_remove_keeps_the_others_in_the_fallback_index(
    plain_registry: Registry, push: PushImage
) -> None:
    image = push(plain_registry)
    a = attach_compat_spec(image, spec_text("a"), ANON)
    b = attach_compat_spec(image, spec_text("b"), ANON)
    with pytest.raises(UsageError, match="`digests`"):
        remove_compat_specs(image, ANON)  # two of them: refuse to guess
    removed = remove_compat_specs(image, ANON, digests=[a.artifact_digest]).removed
    assert [r.digest for r in removed] == [a.artifact_digest]
    assert _fallback_digests(plain_registry, image, a.subject) == {b.artifact_digest}
    assert fetch_compat_spec_bytes(image, ANON).artifact_digest == b.artifact_digest
    remove_compat_specs(image, ANON, every=True)
    assert _fallback_digests(plain_registry, image, a.subject) == set()
    with pytest.raises(NoArtifactError):
        fetch_compat_spec_bytes(image, ANON)
    with RegistryClient(ANON) as client, pytest.raises(NotFoundError):
        client.get_manifest(Reference.parse(image), b.artifact_digest)


def test_racing_attaches_both_listed(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def attach(marker: str) -> None:
        try:
            barrier.wait()
            results.append(attach_compat_spec(image, spec_text(marker), ANON).artifact_digest)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=attach, args=(m,)) for m in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {a.digest for a in list_compat_artifacts(image, ANON)} == set(results)


def test_multi_platform_index_and_platform_manifest(
    plain_registry: Registry, push: PushImage
) -> None:
    image = push(plain_registry, "multi")
    arm = RegistryOptions(use_auth_files=False, platform=Platform.parse("linux/arm64"))
    on_index = attach_compat_spec(image, spec_text("index"), ANON)
    on_arm = attach_compat_spec(image, spec_text("arm"), arm)
    assert on_index.subject != on_arm.subject
    # Looking from arm64, both are found; the newer (on the arm64 manifest) wins.
    seen = list_compat_artifacts(image, arm)
    assert [a.digest for a in seen] == [on_arm.artifact_digest, on_index.artifact_digest]
    assert fetch_compat_spec_bytes(image, arm).image_digest == on_arm.subject
    # From amd64 only the index's artifact applies.
    amd = RegistryOptions(use_auth_files=False, platform=Platform.parse("linux/amd64"))
    assert fetch_compat_spec_bytes(image, amd).spec_bytes == spec_text("index")
    with pytest.raises(NotFoundError, match="linux/amd64, linux/arm64"):
        fetch_compat_spec_bytes(image, RegistryOptions(platform=Platform.parse("linux/s390x")))


def test_basic_auth_over_tls(tls_registry: Registry, push: PushImage) -> None:
    image = push(tls_registry)
    ca = str(tls_registry.ca_file)
    good = RegistryOptions(ca_file=ca, username=USER, password=PASSWORD, use_auth_files=False)
    attach_compat_spec(image, spec_text("tls"), good)
    assert fetch_compat_spec_bytes(image, good).spec_bytes == spec_text("tls")
    with pytest.raises(AuthError, match="401"):
        fetch_compat_spec_bytes(image, RegistryOptions(ca_file=ca, username=USER, password="wrong",
                                                 use_auth_files=False))
    with pytest.raises(RegistryError, match="TLS") as info:
        fetch_compat_spec_bytes(image, RegistryOptions(username=USER, password=PASSWORD,
                                                 use_auth_files=False))
    assert PASSWORD not in str(info.value)
    insecure = RegistryOptions(insecure=True, username=USER, password=PASSWORD,
                               use_auth_files=False)
    assert fetch_compat_spec_bytes(image, insecure).spec_bytes == spec_text("tls")


def test_token_auth_scopes(token_registry: Registry, push: PushImage) -> None:
    image = push(token_registry)
    server = token_registry.token_server
    assert server is not None
    creds = RegistryOptions(username=USER, password=PASSWORD, use_auth_files=False)
    repo = Reference.parse(image).repository
    before = len(server.issued)
    attach_compat_spec(image, spec_text("token"), creds)
    scopes = [scope for _, scope in server.issued[before:]]
    # a pull token to resolve, then a separate push token to write
    assert f"repository:{repo}:pull" in scopes
    assert f"repository:{repo}:pull,push" in scopes
    before = len(server.issued)
    # anonymous pull allowed
    assert fetch_compat_spec_bytes(image, ANON).spec_bytes == spec_text("token")
    assert all(user == "" for user, _ in server.issued[before:])
    with pytest.raises(AuthError):
        attach_compat_spec(image, spec_text("anon"), ANON)  # anonymous push refused


def test_one_client_session_reuses_its_tokens_across_use_cases(
        token_registry: Registry, push: PushImage) -> None:
    image = push(token_registry)
    server = token_registry.token_server
    assert server is not None
    creds = RegistryOptions(username=USER, password=PASSWORD, use_auth_files=False)
    attach_compat_spec(image, spec_text("session"), creds)

    def tokens_for(calls: int, client: RegistryClient | None) -> int:
        before = len(server.issued)
        for _ in range(calls):
            if client is None:
                fetched = fetch_compat_spec(image, creds)
            else:
                fetched = fetch_compat_spec(image, client=client)
            assert fetched.spec_bytes == spec_text("session")
            assert [c.description for c in fetched.spec.compatibilities] == [
                "registry test session"]
        return len(server.issued) - before

    alone = tokens_for(3, None)
    with RegistryClient(creds) as client:
        shared = tokens_for(3, client)
        assert len(list_compat_artifacts(image, client=client)) == 1
        with pytest.raises(UsageError, match="`options` or `client`"):
            fetch_compat_spec(image, ANON, client=client)
    assert alone == 3 * shared and shared >= 1  # a token per call, against one per session


def test_secrets_not_in_repr() -> None:
    options = RegistryOptions(username="u", password="pw-123", token="tok-456")
    assert "pw-123" not in repr(options) and "tok-456" not in repr(options)
