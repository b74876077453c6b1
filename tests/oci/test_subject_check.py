"""A compatibility artifact is used only when its own manifest says it belongs to the image we
resolved and carries exactly one spec layer; anything else a listing names is passed over with
a warning. Forged listings on both real registries: Debian's docker-registry (the ``sha256-<hex>``
tag schema, which anyone with push access rewrites) and one serving the Referrers API (where
the registry builds the listing, but from manifests anyone with push access writes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests._cli import nfd
from tests.oci._images import push_image
from tests.oci._registry import Registry
from tests.oci._specs import spec_text

from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
from nfd.compat import attach_compat_spec, fetch_compat_spec
from nfd.errors import NoArtifactError
from nfd.oci import (
    EMPTY_DATA,
    EMPTY_MEDIA_TYPE,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Reference,
    RegistryClient,
    RegistryOptions,
    canonical_json,
    digest_of,
    fallback_tag,
    update_fallback_index,
)

ANON = RegistryOptions(use_auth_files=False)
NEWEST = "2099-01-01T00:00:00Z"


def push_raw_referrer(image: str, subject: Descriptor, document: dict[str, Any],
                      media_type: str = OCI_MANIFEST,
                      listed_as: str | None = ARTIFACT_TYPE) -> str:
    """Push ``document`` (its blobs must exist) with ``subject`` as a referrer of it: the
    Referrers API indexes it by itself; on the tag schema it is added to the fallback index
    as ``listed_as`` (a listing may claim any type). Returns its digest."""
    ref = Reference.parse(image)
    body = canonical_json({**document, "subject": subject.to_obj()})
    with RegistryClient(ANON) as client:
        reply = client.push_manifest(ref, body, media_type)
        descriptor = Descriptor(media_type, digest_of(body), len(body), listed_as,
                                {"org.opencontainers.image.created": NEWEST})
        if reply.headers.get("OCI-Subject") != subject.digest:
            update_fallback_index(client, ref, subject.digest, add=descriptor)
    return descriptor.digest


def artifact_document(ref: Reference, *layers: tuple[bytes, str]) -> dict[str, Any]:
    """An nfd artifact manifest over ``layers`` (data, media type), blobs pushed."""
    with RegistryClient(ANON) as client:
        client.push_blob(ref, EMPTY_DATA, EMPTY_MEDIA_TYPE)
        pushed = [client.push_blob(ref, data, kind).to_obj() for data, kind in layers]
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": digest_of(EMPTY_DATA),
                       "size": len(EMPTY_DATA)},
            "layers": pushed, "annotations": {"org.opencontainers.image.created": NEWEST}}


def image_descriptor(image: str) -> Descriptor:
    with RegistryClient(ANON) as client:
        return client.get_manifest(Reference.parse(image)).descriptor


def assert_passed_over(image: str, ours: str, forged: str, reason: str) -> None:
    """The image's own spec is used, the forged artifact is not, and the CLI says why."""
    fetched = fetch_compat_spec(image, ANON)
    assert (fetched.artifact_digest, fetched.spec_bytes) == (ours, spec_text("ours"))
    with pytest.raises(NoArtifactError, match=reason):
        fetch_compat_spec(image, ANON, digest=forged)
    proc = nfd("compat", "get-spec", "--image", image)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == spec_text("ours").decode()
    warnings = [line for line in proc.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and forged in warnings[0] and reason in warnings[0], proc.stderr


@pytest.fixture
def image(both_registries: Registry, push: Any) -> tuple[str, Descriptor, str]:
    """An image with its own (older) spec attached: (reference, its manifest, that artifact)."""
    image = push(both_registries)
    ours = attach_compat_spec(image, spec_text("ours"), ANON).artifact_digest
    return image, image_descriptor(image), ours


@pytest.mark.parametrize("layers, reason", [
    ([(spec_text("forged"), SPEC_MEDIA_TYPE), (b"payload", "application/octet-stream")],
     "it has 2 layers"),
    ([(spec_text("forged"), SPEC_MEDIA_TYPE), (spec_text("twin"), SPEC_MEDIA_TYPE)],
     "it has 2 layers"),
    ([(spec_text("forged"), "application/octet-stream")], "its layer is of type"),
    ([], "it has 0 layers"),
], ids=["second-layer", "two-specs", "wrong-layer-type", "no-layer"])
def test_only_one_spec_layer_is_accepted(image: tuple[str, Descriptor, str],
                                         layers: list[tuple[bytes, str]], reason: str) -> None:
    name, subject, ours = image
    forged = push_raw_referrer(name, subject, artifact_document(Reference.parse(name), *layers))
    assert_passed_over(name, ours, forged, reason)


def test_a_declared_oversized_layer_is_not_fetched(image: tuple[str, Descriptor, str]) -> None:
    name, subject, ours = image
    document = artifact_document(Reference.parse(name), (spec_text("forged"), SPEC_MEDIA_TYPE))
    document["layers"][0]["size"] = 2 * 1024 * 1024  # a lie the blob fetch never gets to
    forged = push_raw_referrer(name, subject, document)
    assert_passed_over(name, ours, forged, "over the 1048576-byte limit")


def test_an_index_listed_as_an_artifact_is_not_used(image: tuple[str, Descriptor, str]) -> None:
    # An image index may carry a subject and an artifactType (image-spec 1.1), so the
    # registry lists it as a compatibility artifact; it is not one.
    name, subject, ours = image
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": ARTIFACT_TYPE,
             "manifests": [], "annotations": {"org.opencontainers.image.created": NEWEST}}
    forged = push_raw_referrer(name, subject, index, OCI_INDEX)
    assert_passed_over(name, ours, forged, "it is an image index")


def test_another_images_artifact_is_not_attached_here(image: tuple[str, Descriptor, str],
                                                      push: Any,
                                                      both_registries: Registry) -> None:
    name, _, ours = image
    other = attach_compat_spec(push(both_registries), spec_text("other"), ANON)
    with pytest.raises(NoArtifactError, match="is attached"):
        fetch_compat_spec(name, ANON, digest=other.artifact_digest)
    assert fetch_compat_spec(name, ANON).artifact_digest == ours


# The tag schema: the listing itself is a tag anyone with push access rewrites.

def _add_to_fallback(registry: Registry, image: str, subject: str, entry: dict[str, Any]) -> None:
    repository = Reference.parse(image).repository
    url = f"{registry.url}/v2/{repository}/manifests/{fallback_tag(subject)}"
    index = httpx.get(url, headers={"Accept": OCI_INDEX}).json()
    index["manifests"].append(entry)
    httpx.put(url, content=json.dumps(index).encode(),
              headers={"Content-Type": OCI_INDEX}).raise_for_status()


def test_a_forged_listing_of_another_images_artifact(plain_registry: Registry,
                                                     image_layout: Path) -> None:
    repo = "subject/forged-other"
    push_image(image_layout, "amd64", plain_registry, f"{repo}:v1", None)
    push_image(image_layout, "arm64", plain_registry, f"{repo}:v2", None)
    name, other = f"{plain_registry.host}/{repo}:v1", f"{plain_registry.host}/{repo}:v2"
    ours = attach_compat_spec(name, spec_text("ours"), ANON).artifact_digest
    theirs = attach_compat_spec(other, spec_text("other"), ANON)
    with RegistryClient(ANON) as client:
        artifact = client.get_manifest(Reference.parse(other), theirs.artifact_digest).descriptor
    _add_to_fallback(plain_registry, name, image_descriptor(name).digest,
                     {**artifact.to_obj(), "artifactType": ARTIFACT_TYPE,
                      "annotations": {"org.opencontainers.image.created": NEWEST}})
    assert_passed_over(name, ours, theirs.artifact_digest, f"its subject is {theirs.subject}")


def test_a_listing_that_lies_about_the_type(plain_registry: Registry, push: Any) -> None:
    # The entry claims to be a compatibility artifact; the manifest is the image itself.
    name = push(plain_registry)
    ours = attach_compat_spec(name, spec_text("ours"), ANON).artifact_digest
    subject = image_descriptor(name)
    _add_to_fallback(plain_registry, name, subject.digest,
                     {**subject.to_obj(), "artifactType": ARTIFACT_TYPE,
                      "annotations": {"org.opencontainers.image.created": NEWEST}})
    assert_passed_over(name, ours, subject.digest, "its artifact type is")
