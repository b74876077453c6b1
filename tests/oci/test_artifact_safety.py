"""remove-spec deletes only what is checked to be ours; a forged referrers index cannot make
it delete another image (SECURITY.md: we delete only what is ours). Against a real registry
(distribution 2.8, whose referrers live in the ``sha256-<hex>`` tag index that anyone with
push access writes).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.oci._images import push_image
from tests.oci._registry import Registry
from tests.oci._specs import spec_text

from nfd.api import ARTIFACT_TYPE
from nfd.cli import main
from nfd.compat import (
    attach_compat_spec,
    fetch_compat_spec_bytes,
    list_compat_artifacts,
    remove_compat_specs,
)
from nfd.errors import NoArtifactError
from nfd.oci import OCI_INDEX, OCI_MANIFEST, Reference, RegistryOptions, fallback_tag

ANON = RegistryOptions(use_auth_files=False)
NEWER = {"org.opencontainers.image.created": "2099-01-01T00:00:00Z"}


def _manifest_url(registry: Registry, image: str, reference: str) -> str:
    return f"{registry.url}/v2/{Reference.parse(image).repository}/manifests/{reference}"


def _descriptor(registry: Registry, image: str, reference: str) -> dict[str, object]:
    accept = ", ".join((OCI_MANIFEST, OCI_INDEX))
    reply = httpx.get(_manifest_url(registry, image, reference), headers={"Accept": accept})
    reply.raise_for_status()
    return {"mediaType": reply.headers["Content-Type"],
            "digest": reply.headers["Docker-Content-Digest"], "size": len(reply.content)}


def _exists(registry: Registry, image: str, digest: str) -> bool:
    accept = ", ".join((OCI_MANIFEST, OCI_INDEX))
    reply = httpx.get(_manifest_url(registry, image, digest), headers={"Accept": accept})
    return reply.status_code == 200


def _forge(registry: Registry, image: str, subject: str, *victims: dict[str, object]) -> None:
    """Add ``victims`` to ``subject``'s fallback index, dressed as compatibility artifacts."""
    url = _manifest_url(registry, image, fallback_tag(subject))
    index = httpx.get(url, headers={"Accept": OCI_INDEX}).json()
    index["manifests"] += [{**v, "artifactType": ARTIFACT_TYPE, "annotations": NEWER}
                           for v in victims]
    body = json.dumps(index).encode()
    httpx.put(url, content=body, headers={"Content-Type": OCI_INDEX}).raise_for_status()


@pytest.fixture
def forged(plain_registry: Registry, image_layout: Path,
           request: pytest.FixtureRequest) -> dict[str, str]:
    """Image ``a`` (v1) with one real artifact, and image ``b`` (v2) in the same repository
    with its own artifact; ``a``'s fallback index also lists ``b``'s manifest and
    ``b``'s artifact, as if they were ``a``'s compatibility artifacts."""
    repo = f"safety/{request.node.name[:40].lower().replace('[', '-').strip(']')}"
    push_image(image_layout, "amd64", plain_registry, f"{repo}:v1", None)
    push_image(image_layout, "arm64", plain_registry, f"{repo}:v2", None)
    a, b = f"{plain_registry.host}/{repo}:v1", f"{plain_registry.host}/{repo}:v2"
    ours = attach_compat_spec(a, spec_text("a"), ANON)
    theirs = attach_compat_spec(b, spec_text("b"), ANON)
    b_manifest = _descriptor(plain_registry, b, "v2")
    b_artifact = _descriptor(plain_registry, b, theirs.artifact_digest)
    _forge(plain_registry, a, ours.subject, b_manifest, b_artifact)
    return {"a": a, "b": b, "ours": ours.artifact_digest, "b_manifest": str(b_manifest["digest"]),
            "b_artifact": theirs.artifact_digest, "subject": ours.subject}


def test_remove_all_deletes_only_what_is_ours(plain_registry: Registry,
                                              forged: dict[str, str]) -> None:
    removal = remove_compat_specs(forged["a"], ANON, every=True)
    assert [r.digest for r in removal.removed] == [forged["ours"]]
    refused = {item.digest: reason for item, reason in removal.refused}
    assert set(refused) == {forged["b_manifest"], forged["b_artifact"]}
    assert "artifact type" in refused[forged["b_manifest"]]
    assert f"its subject is {forged['subject']}" not in refused[forged["b_artifact"]]
    assert "subject" in refused[forged["b_artifact"]]
    # the other image and its artifact survive; our artifact is gone
    assert _exists(plain_registry, forged["a"], forged["b_manifest"])
    assert _exists(plain_registry, forged["a"], forged["b_artifact"])
    assert not _exists(plain_registry, forged["a"], forged["ours"])
    assert fetch_compat_spec_bytes(forged["b"], ANON).spec_bytes == spec_text("b")


def test_a_named_forged_entry_deletes_nothing(plain_registry: Registry,
                                              forged: dict[str, str]) -> None:
    with pytest.raises(NoArtifactError, match="not a compatibility artifact"):
        remove_compat_specs(forged["a"], ANON, digests=[forged["ours"], forged["b_manifest"]])
    assert _exists(plain_registry, forged["a"], forged["ours"])
    assert _exists(plain_registry, forged["a"], forged["b_manifest"])


def test_forged_entries_are_passed_over_when_reading(forged: dict[str, str]) -> None:
    # They claim to be newer, yet the spec read is the image's own.
    fetched = fetch_compat_spec_bytes(forged["a"], ANON)
    assert (fetched.artifact_digest, fetched.spec_bytes) == (forged["ours"], spec_text("a"))
    with pytest.raises(NoArtifactError, match="subject"):
        fetch_compat_spec_bytes(forged["a"], ANON, digest=forged["b_artifact"])
    listed = {item.digest: item for item in list_compat_artifacts(forged["a"], ANON)}
    assert listed[forged["ours"]].problem is None
    assert listed[forged["ours"]].descriptions == ("registry test a",)
    assert "not a compatibility artifact of this image" in (
        listed[forged["b_manifest"]].problem or "")


def test_cli_warns_about_what_it_left(plain_registry: Registry, forged: dict[str, str],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compat", "remove-spec", "--image", forged["a"], "--all"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"removed {forged['ours']}"]
    assert err.count("warning: left ") == 2 and forged["b_manifest"] in err
    assert _exists(plain_registry, forged["a"], forged["b_manifest"])
    # Only forged entries are left: nothing of ours to remove is exit 4, and nothing deleted.
    assert main(["compat", "remove-spec", "--image", forged["a"], "--all"]) == 4
    assert "nothing removed" in capsys.readouterr().err
    assert _exists(plain_registry, forged["a"], forged["b_artifact"])


def test_replace_leaves_forged_entries_alone(plain_registry: Registry,
                                             forged: dict[str, str]) -> None:
    result = attach_compat_spec(forged["a"], spec_text("a2"), ANON, replace=True)
    assert [r.digest for r in result.replaced] == [forged["ours"]]
    assert {item.digest for item, _ in result.refused} == {forged["b_manifest"],
                                                           forged["b_artifact"]}
    assert _exists(plain_registry, forged["a"], forged["b_manifest"])
    assert _exists(plain_registry, forged["a"], forged["b_artifact"])
    assert fetch_compat_spec_bytes(forged["a"], ANON).spec_bytes == spec_text("a2")


def test_one_digest_given_as_a_string(plain_registry: Registry, forged: dict[str, str]) -> None:
    removal = remove_compat_specs(forged["a"], ANON, digests=forged["ours"])
    assert [r.digest for r in removal.removed] == [forged["ours"]]


def test_listing_reads_a_bounded_number_of_artifacts(forged: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import nfd.compat._artifacts as artifacts

    monkeypatch.setattr(artifacts, "MAX_DESCRIBED", 1)
    listed = list_compat_artifacts(forged["a"], ANON)
    assert len(listed) == 3  # all listed, newest (a forged one) first, but only that one read
    assert "not a compatibility artifact of this image" in (listed[0].problem or "")
    assert all("not read" in (item.problem or "") for item in listed[1:])
