"""attach-spec of a spec already attached does nothing; ``--replace`` leaves only the new one
(no duplicate artifacts). Against a real registry (distribution 2.8, tag fallback)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.oci.conftest import PushImage

from nfd.cli import main
from nfd.compat import attach_compat_spec, list_compat_artifacts
from nfd.oci import OCI_INDEX, Platform, Reference, RegistryOptions, fallback_tag

ANON = RegistryOptions(use_auth_files=False)


def _index_digests(registry: Registry, image: str, subject: str) -> set[str]:
    repo = Reference.parse(image).repository
    reply = httpx.get(f"{registry.url}/v2/{repo}/manifests/{fallback_tag(subject)}",
                      headers={"Accept": OCI_INDEX})
    return set() if reply.status_code == 404 else {m["digest"] for m in reply.json()["manifests"]}


def test_identical_spec_is_not_attached_again(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    first = attach_compat_spec(image, spec_text("same"), ANON)
    again = attach_compat_spec(image, spec_text("same"), ANON)
    assert not first.unchanged and again.unchanged
    assert (again.artifact_digest, again.created) == (first.artifact_digest, first.created)
    assert again.referrers_tag is None  # nothing was written
    assert [a.digest for a in list_compat_artifacts(image, ANON)] == [first.artifact_digest]
    other = attach_compat_spec(image, spec_text("other"), ANON)
    assert not other.unchanged
    assert len(list_compat_artifacts(image, ANON)) == 2


def test_replace_removes_the_older_ones(plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    old = [attach_compat_spec(image, spec_text(m), ANON).artifact_digest for m in ("1", "2")]
    new = attach_compat_spec(image, spec_text("3"), ANON, replace=True)
    assert {r.digest for r in new.replaced} == set(old)
    assert [a.digest for a in list_compat_artifacts(image, ANON)] == [new.artifact_digest]
    assert _index_digests(plain_registry, image, new.subject) == {new.artifact_digest}
    # The same spec again with replace: nothing to attach, nothing else to remove.
    again = attach_compat_spec(image, spec_text("3"), ANON, replace=True)
    assert again.unchanged and again.replaced == ()
    assert again.artifact_digest == new.artifact_digest


def test_replace_with_an_identical_older_spec_keeps_it_alone(plain_registry: Registry,
                                                             push: PushImage) -> None:
    image = push(plain_registry)
    kept = attach_compat_spec(image, spec_text("keep"), ANON)
    newer = attach_compat_spec(image, spec_text("newer"), ANON)
    result = attach_compat_spec(image, spec_text("keep"), ANON, replace=True)
    assert result.unchanged and result.artifact_digest == kept.artifact_digest
    assert [r.digest for r in result.replaced] == [newer.artifact_digest]
    assert [a.digest for a in list_compat_artifacts(image, ANON)] == [kept.artifact_digest]


def test_replace_touches_only_the_same_subject(plain_registry: Registry,
                                               push: PushImage) -> None:
    image = push(plain_registry, "multi")
    arm = RegistryOptions(use_auth_files=False, platform=Platform.parse("linux/arm64"))
    on_arm = attach_compat_spec(image, spec_text("arm"), arm)
    attach_compat_spec(image, spec_text("index-1"), ANON)
    on_index = attach_compat_spec(image, spec_text("index-2"), ANON, replace=True)
    assert len(on_index.replaced) == 1
    assert {a.digest for a in list_compat_artifacts(image, arm)} == {
        on_arm.artifact_digest, on_index.artifact_digest}


def test_cli_says_unchanged_and_removed(plain_registry: Registry, push: PushImage,
                                        tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    image = push(plain_registry)
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(spec_text("cli"))
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(spec)]) == 0
    attached = capsys.readouterr().out.split()[1]
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("unchanged: ") and f"already carries this spec as {attached}" in out
    spec.write_bytes(spec_text("cli-2"))
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(spec),
                 "--replace"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("attached ") and lines[1:] == [f"removed {attached}"]


def test_an_identical_but_older_spec_is_attached_again_to_be_the_newest(
        plain_registry: Registry, push: PushImage) -> None:
    image = push(plain_registry)
    first = attach_compat_spec(image, spec_text("first"), ANON)
    attach_compat_spec(image, spec_text("second"), ANON)
    again = attach_compat_spec(image, spec_text("first"), ANON)
    assert not again.unchanged and again.artifact_digest != first.artifact_digest
    assert list_compat_artifacts(image, ANON)[0].digest == again.artifact_digest
