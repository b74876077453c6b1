"""cosign v3 signatures made by the real cosign on both kinds of registry, in both formats it
has written (a Sigstore bundle referrer, and the older ``sha256-<hex>.sig`` tag), verified by
us with the public key; and the attacks that a key check alone would miss."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from nfd.compat import attach_compat_spec, fetch_compat_spec
from nfd.errors import VerificationError
from nfd.oci import OCI_MANIFEST, Descriptor, Reference, RegistryClient, RegistryOptions
from nfd.trust import CosignVerifier
from tests._cli import assert_one_line_error, nfd
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.trust._forge import BUNDLE_TYPE, push_signature, signatures_of
from tests.trust._signers import CosignSigner
from tests.trust.test_notation import Attached, attach

ANON = RegistryOptions(use_auth_files=False)


def cosign_sign(signer: CosignSigner, target: Attached, bundle: bool) -> None:
    signer.sign(target.pinned, bundle=bundle)


def failure(image: str, *keys: Path) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        fetch_compat_spec(image, ANON, verifier=CosignVerifier(list(keys)))
    return caught.value


@pytest.mark.parametrize("bundle", [True, False], ids=["bundle", "sig-tag"])
def test_a_trusted_key_verifies(both_registries: Registry, push: Any, cosign: CosignSigner,
                                cosign_stranger: CosignSigner, bundle: bool) -> None:
    target = attach(both_registries, push)
    cosign_sign(cosign, target, bundle)
    # Several keys may be trusted; the one that signed is named.
    verifier = CosignVerifier([cosign_stranger.public_key, cosign.public_key])
    fetched = fetch_compat_spec(target.image, ANON, verifier=verifier)
    assert fetched.artifact_digest == target.artifact.digest
    assert fetched.signer == verifier.keys[1][0]
    assert failure(target.image, cosign_stranger.public_key).reason == "untrusted signer"


def test_the_command_line(plain_registry: Registry, push: Any, cosign: CosignSigner) -> None:
    target = attach(plain_registry, push)
    flags = ["--verify", "cosign", "--cosign-key", str(cosign.public_key)]
    unsigned = nfd("compat", "get-spec", "--image", target.image, *flags)
    assert_one_line_error(unsigned, 5, "no signature")
    cosign_sign(cosign, target, True)
    got = nfd("compat", "get-spec", "--image", target.image, *flags)
    assert got.returncode == 0 and got.stdout == spec_text("signed").decode(), got.stderr
    listed = nfd("compat", "list", "--image", target.image, *flags, "-o", "json")
    assert json.loads(listed.stdout)[0]["signer"].startswith("cosign key sha256:")
    missing = nfd("compat", "get-spec", "--image", target.image, "--verify", "cosign")
    assert_one_line_error(missing, 2, "--cosign-key")


def test_a_bundle_of_another_artifact_replayed(both_registries: Registry, push: Any,
                                               cosign: CosignSigner) -> None:
    signed, victim = attach(both_registries, push), attach(both_registries, push, "victim")
    cosign_sign(cosign, signed, True)
    [(_, bundle)] = signatures_of(signed.image, signed.artifact.digest, BUNDLE_TYPE)
    push_signature(victim.image, victim.artifact, bundle, BUNDLE_TYPE, BUNDLE_TYPE)
    error = failure(victim.image, cosign.public_key)
    assert error.reason == "digest mismatch"
    assert signed.artifact.digest.split(":")[1] in error.detail


def test_a_sig_tag_of_another_artifact_replayed(plain_registry: Registry, push: Any,
                                                cosign: CosignSigner) -> None:
    signed, victim = attach(plain_registry, push), attach(plain_registry, push, "victim")
    cosign_sign(cosign, signed, False)

    def sig_url(target: Attached) -> str:
        ref = Reference.parse(target.image)
        tag = target.artifact.digest.replace(":", "-") + ".sig"
        return f"{plain_registry.url}/v2/{ref.repository}/manifests/{tag}"

    body = httpx.get(sig_url(signed), headers={"Accept": OCI_MANIFEST}).content
    ref = Reference.parse(victim.image)
    with RegistryClient(ANON) as client:  # its layers, into the victim's repository
        manifest = json.loads(body)
        source = Reference.parse(signed.image)
        for layer in [manifest["config"], *manifest["layers"]]:
            blob = client.get_blob(source, Descriptor(layer["mediaType"], layer["digest"],
                                                      layer["size"]), limit=1 << 20)
            client.push_blob(ref, blob, layer["mediaType"])
    httpx.put(sig_url(victim), content=body,
              headers={"Content-Type": OCI_MANIFEST}).raise_for_status()
    error = failure(victim.image, cosign.public_key)
    assert error.reason == "digest mismatch" and signed.artifact.digest in error.detail


def test_a_truncated_bundle(plain_registry: Registry, push: Any, cosign: CosignSigner) -> None:
    signed = attach(plain_registry, push)
    cosign_sign(cosign, signed, True)
    [(_, bundle)] = signatures_of(signed.image, signed.artifact.digest, BUNDLE_TYPE)
    target = attach(plain_registry, push, "truncated")
    push_signature(target.image, target.artifact, bundle[: len(bundle) // 2], BUNDLE_TYPE,
                   BUNDLE_TYPE)
    assert failure(target.image, cosign.public_key).reason == "invalid signature"


def test_a_newer_unsigned_spec_is_not_used(referrers_registry: Registry, push: Any,
                                           cosign: CosignSigner) -> None:
    import datetime as dt

    target = attach(referrers_registry, push)
    cosign_sign(cosign, target, True)
    attach_compat_spec(target.image, spec_text("tampered"), ANON,
                       created=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    fetched = fetch_compat_spec(target.image, ANON,
                                verifier=CosignVerifier([cosign.public_key]))
    assert fetched.spec_bytes == spec_text("signed")
