"""A registry serving arbitrary (but digest-consistent) documents never crashes the client:
every answer is a spec or a typed error."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.oci._fake_registry import FakeRegistry, sha256

from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
from nfd.compat import fetch_compat_spec
from nfd.errors import NfdError
from nfd.oci import RegistryOptions, fallback_tag

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
JUNK: list[Any] = [None, 1, -1, 2**70, 1.5, True, "", "x", "sha256:zz", [], {}, [None],
                   {"a": None}, "application/vnd.oci.image.index.v1+json"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeRegistry]:
    registry = FakeRegistry(referrers_api=False)
    yield registry
    registry.stop()


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(0, 3)):
        parents: list[Any] = [doc]
        node: Any = doc
        while isinstance(node, (dict, list)) and node and rng.random() < 0.6:
            key = rng.choice(list(node) if isinstance(node, dict) else range(len(node)))
            parents.append((node, key))
            node = node[key]
        if len(parents) > 1:
            container, key = parents[-1]
            container[key] = copy.deepcopy(rng.choice(JUNK))
    return doc


def _size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj).encode())  # what FakeRegistry.put_manifest stores


def _publish(server: FakeRegistry, repo: str, mutate: Any) -> tuple[str, str]:
    """An image, its artifact and the fallback index, each passed through ``mutate``."""
    config = server.put_blob(repo, b"{}")
    image = mutate({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": config, "size": 2}, "layers": []})
    subject = server.put_manifest(repo, image, tag="v1")
    spec = b"version: v1alpha1\ncompatibilities: [{rules: []}]\n"
    layer = server.put_blob(repo, spec)
    server.put_blob(repo, b"{}")
    artifact = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY,
                           "size": 2},
                "layers": [{"mediaType": SPEC_MEDIA_TYPE, "digest": layer, "size": len(spec)}],
                "subject": {"mediaType": OCI_MANIFEST, "digest": subject,
                            "size": _size(image)},
                "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}}
    artifact = mutate(artifact)
    artifact_digest = server.put_manifest(repo, artifact)
    index = mutate({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": artifact_digest, "size": _size(artifact),
         "artifactType": ARTIFACT_TYPE}]})
    server.put_manifest(repo, index, tag=fallback_tag(subject), media_type=OCI_INDEX)
    return f"{server.host}/{repo}:v1", layer


OPTIONS = RegistryOptions(plain_http=True, timeout=5, retries=0, use_auth_files=False)


def test_well_formed_documents_give_the_spec(server: FakeRegistry) -> None:
    image, layer = _publish(server, "wellformed", lambda doc: doc)
    assert sha256(fetch_compat_spec(image, OPTIONS).data) == layer


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(0, 10**9))
def test_arbitrary_documents_give_a_spec_or_a_typed_error(server: FakeRegistry,
                                                          rng: random.Random, n: int) -> None:
    image, layer = _publish(server, f"hostile{n}", lambda doc: _mutate(doc, rng))
    try:
        fetched = fetch_compat_spec(image, OPTIONS)
    except NfdError:
        return
    assert sha256(fetched.data) == layer
