"""Notation signatures made by the real Notation CLI on both kinds of registry, verified by
us against a trust policy and trust store in Notation's own files; and what an attacker with
push access can do instead."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from nfd.compat import attach_compat_spec, fetch_compat_spec, list_compat_artifacts
from nfd.errors import VerificationError
from nfd.oci import (
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Reference,
    RegistryClient,
    RegistryOptions,
    canonical_json,
    digest_of,
    fallback_tag,
)
from nfd.oci._referrers import MAX_ARTIFACT_TYPE_LOOKUPS
from nfd.trust import MAX_SIGNATURES, NotationVerifier, verify_artifact
from tests._cli import assert_one_line_error, nfd
from tests.oci._registry import Registry
from tests.oci._specs import spec_text
from tests.trust._forge import (
    JWS,
    NOTATION_TYPE,
    artifact_descriptor,
    jws_envelope,
    push_signature,
    signature_manifest,
    signatures_of,
)
from tests.trust._signers import NotationSigner, Pki

ANON = RegistryOptions(use_auth_files=False)


@dataclass
class Attached:
    image: str
    artifact: Descriptor
    api: bool

    @property
    def pinned(self) -> str:
        """``host/repo@artifact-digest``: what the signing tools are given."""
        ref = Reference.parse(self.image)
        return f"{ref.registry}/{ref.repository}@{self.artifact.digest}"


def attach(registry: Registry, push: Any, marker: str = "signed") -> Attached:
    image = push(registry)
    result = attach_compat_spec(image, spec_text(marker), ANON)
    return Attached(image, artifact_descriptor(image, result.artifact_digest),
                    "referrers" in registry.workdir.name)


def sign(notation: NotationSigner, target: Attached, key: str = "trusted",
         envelope: str = "jws") -> None:
    notation.sign(target.pinned, key, envelope=envelope, referrers_api=target.api)


def failure(image: str, verifier: NotationVerifier, **kwargs: Any) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        fetch_compat_spec(image, ANON, verifier=verifier, **kwargs)
    return caught.value


@pytest.mark.parametrize("envelope", ["jws", "cose"])
def test_a_trusted_signature_is_verified(both_registries: Registry, push: Any,
                                         notation: NotationSigner, envelope: str) -> None:
    target = attach(both_registries, push)
    sign(notation, target, envelope=envelope)
    notation.verify(target.pinned)  # Notation itself accepts what we accept
    fetched = fetch_compat_spec(target.image, ANON, verifier=NotationVerifier(notation.policy))
    assert fetched.artifact_digest == target.artifact.digest
    assert fetched.signer == "x509.subject: C=US, ST=WA, O=nfd-test, CN=compat-signer"
    listed = list_compat_artifacts(target.image, ANON, NotationVerifier(notation.policy))
    assert [(a.digest, a.signer, a.problem) for a in listed] == [
        (target.artifact.digest, fetched.signer, None)]


def test_the_commands_verify_and_fail_with_exit_5(plain_registry: Registry, push: Any,
                                                  notation: NotationSigner,
                                                  tmp_path: Path) -> None:
    target = attach(plain_registry, push)
    flags = ["--verify", "notation", "--trust-policy", str(notation.policy)]
    unsigned = nfd("compat", "get-spec", "--image", target.image, *flags)
    assert_one_line_error(unsigned, 5, target.artifact.digest, "no signature")
    sign(notation, target)
    got = nfd("compat", "get-spec", "--image", target.image, *flags)
    assert got.returncode == 0 and got.stdout == spec_text("signed").decode(), got.stderr
    listed = nfd("compat", "list", "--image", target.image, *flags)
    assert listed.stdout.splitlines()[0].split()[5:8] == ["SIGNED", "BY", "DESCRIPTIONS"]
    assert "CN=compat-signer" in listed.stdout
    features = tmp_path / "features.json"
    features.write_text('{"flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}}}')
    validated = nfd("compat", "validate-node", "--image", target.image, "--features",
                    str(features), *flags, "-o", "json")
    assert validated.returncode == 0, validated.stderr
    assert '"signer": "x509.subject: C=US, ST=WA, O=nfd-test, CN=compat-signer"' in \
        validated.stdout
    dump = tmp_path / "nodefeatures.json"
    dump.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    for command in (["validate-spec"], ["affinity"], ["validate-cluster", "--nodefeatures",
                                                      str(dump)]):
        done = nfd("compat", *command, "--image", target.image, *flags)
        assert done.returncode in (0, 1), done.stderr
        other = attach(plain_registry, push, "unsigned")  # nothing signed there: exit 5
        refused = nfd("compat", *command, "--image", other.image, *flags)
        assert_one_line_error(refused, 5, "no signature")
    # Notation's own default location: $XDG_CONFIG_HOME/notation/trustpolicy.json.
    default = nfd("compat", "get-spec", "--image", target.image, "--verify", "notation",
                  env=notation.env)
    assert default.returncode == 0, default.stderr
    wrong = nfd("compat", "get-spec", "--image", target.image, "--cosign-key", "k.pub")
    assert_one_line_error(wrong, 2, "--cosign-key", "--verify")


def test_notation_2_policy_name_is_read_first(plain_registry: Registry, push: Any,
                                              notation: NotationSigner, pki: Pki,
                                              tmp_path: Path) -> None:
    target = attach(plain_registry, push)
    sign(notation, target)
    home = NotationSigner(tmp_path)
    home.trust("other", Pki("unrelated-root").cert)  # trustpolicy.json: would refuse
    oci = home.trust("nfd", pki.cert, policy_name="trustpolicy.oci.json")
    verifier = NotationVerifier(oci)
    assert fetch_compat_spec(target.image, ANON, verifier=verifier).signer
    found = nfd("compat", "get-spec", "--image", target.image, "--verify", "notation",
                env=home.env)
    assert found.returncode == 0, found.stderr


def test_an_untrusted_key_is_refused(both_registries: Registry, push: Any,
                                     notation: NotationSigner) -> None:
    target = attach(both_registries, push)
    sign(notation, target, key="stranger")
    error = failure(target.image, NotationVerifier(notation.policy))
    assert error.reason == "untrusted signer" and "trust stores" in error.detail


def test_an_untrusted_identity_is_refused(plain_registry: Registry, push: Any,
                                          notation: NotationSigner, pki: Pki,
                                          tmp_path: Path) -> None:
    target = attach(plain_registry, push)
    sign(notation, target)
    home = NotationSigner(tmp_path)
    policy = home.trust("nfd", pki.cert, identities=(
        "x509.subject: C=US, ST=WA, O=nfd-test, CN=someone-else",))
    error = failure(target.image, NotationVerifier(policy))
    assert error.reason == "untrusted signer" and "trusted identity" in error.detail
    home.trust("nfd", pki.cert, identities=("x509.subject: C=US, ST=WA, O=nfd-test",))
    assert fetch_compat_spec(target.image, ANON, verifier=NotationVerifier(policy)).signer


def test_a_signature_of_another_artifact_replayed(both_registries: Registry, push: Any,
                                                  notation: NotationSigner) -> None:
    signed, victim = attach(both_registries, push), attach(both_registries, push, "victim")
    sign(notation, signed)
    [(manifest, envelope)] = signatures_of(signed.image, signed.artifact.digest, NOTATION_TYPE)
    layer = manifest.descriptors("layers")[0]
    push_signature(victim.image, victim.artifact, envelope, layer.media_type)
    error = failure(victim.image, NotationVerifier(notation.policy))
    assert error.reason == "digest mismatch" and signed.artifact.digest in error.detail


def test_a_signature_of_the_image_is_not_one_of_the_spec(both_registries: Registry,
                                                         push: Any,
                                                         notation: NotationSigner) -> None:
    target = attach(both_registries, push)
    with RegistryClient(ANON) as client:
        image_digest = client.get_manifest(Reference.parse(target.image)).descriptor.digest
    ref = Reference.parse(target.image)
    notation.sign(f"{ref.registry}/{ref.repository}@{image_digest}", "trusted",
                  referrers_api=target.api)
    error = failure(target.image, NotationVerifier(notation.policy))
    assert error.reason == "no signature"


def test_a_tampered_newer_unsigned_spec_is_passed_over(both_registries: Registry, push: Any,
                                                       notation: NotationSigner) -> None:
    target = attach(both_registries, push)
    sign(notation, target)
    tampered = attach_compat_spec(target.image, spec_text("tampered"), ANON,
                                  created=dt.datetime.now(dt.timezone.utc) + dt.timedelta(1))
    assert fetch_compat_spec(target.image, ANON).artifact_digest == tampered.artifact_digest
    warnings: list[str] = []
    options = RegistryOptions(use_auth_files=False, warning=warnings.append)
    fetched = fetch_compat_spec(target.image, options,
                                verifier=NotationVerifier(notation.policy))
    assert (fetched.artifact_digest, fetched.spec_bytes) == (target.artifact.digest,
                                                       spec_text("signed"))
    assert len(warnings) == 1 and tampered.artifact_digest in warnings[0]
    assert "no signature" in warnings[0]
    error = failure(target.image, NotationVerifier(notation.policy),
                    digest=tampered.artifact_digest)
    assert error.reason == "no signature"


@pytest.mark.parametrize("kind, reason", [
    ("expired", "expired certificate"),
    ("server-eku", "untrusted signer"),
    ("truncated", "invalid signature"),
    ("other-root", "untrusted signer"),
])
def test_hand_made_envelopes(plain_registry: Registry, push: Any, notation: NotationSigner,
                             pki: Pki, kind: str, reason: str) -> None:
    # Notation refuses to sign with such certificates, an attacker does not.
    target = attach(plain_registry, push)
    if kind == "other-root":
        issuer = Pki("forged-root")
        key, cert = issuer.leaf()
        envelope = jws_envelope(key, [cert, issuer.cert], target.artifact)
    else:
        key, cert = pki.leaf(expired=kind == "expired",
                             eku=ExtendedKeyUsageOID.SERVER_AUTH if kind == "server-eku"
                             else ExtendedKeyUsageOID.CODE_SIGNING)
        signing_time = cert.not_valid_before_utc + dt.timedelta(hours=1)
        envelope = jws_envelope(key, [cert, pki.cert], target.artifact, signing_time)
    if kind == "truncated":
        envelope = envelope[: len(envelope) // 2]
    push_signature(target.image, target.artifact, envelope, JWS)
    error = failure(target.image, NotationVerifier(notation.policy))
    assert error.reason == reason, error


def test_a_hand_made_envelope_with_a_good_chain_verifies(plain_registry: Registry, push: Any,
                                                         notation: NotationSigner,
                                                         pki: Pki) -> None:
    # The control for the cases above: the same construction, nothing wrong with it.
    target = attach(plain_registry, push)
    key, cert = pki.leaf()
    push_signature(target.image, target.artifact,
                   jws_envelope(key, [cert, pki.cert], target.artifact), JWS)
    assert fetch_compat_spec(target.image, ANON,
                             verifier=NotationVerifier(notation.policy)).signer


def test_a_thousand_signatures_stay_bounded(both_registries: Registry, push: Any,
                                            notation: NotationSigner) -> None:
    target = attach(both_registries, push)
    sign(notation, target)  # the real one, oldest: beyond the bound, so refused
    stranger = Pki("flood-root")
    key, cert = stranger.leaf()
    envelope = jws_envelope(key, [cert, stranger.cert], target.artifact)
    ref = Reference.parse(target.image)
    push_signature(target.image, target.artifact, envelope, JWS)  # the blobs, once
    flood = []
    with RegistryClient(ANON) as client:
        for i in range(1000):
            created = f"2099-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
            body = canonical_json(signature_manifest(target.artifact, envelope, JWS,
                                                     NOTATION_TYPE, created))
            client.push_manifest(ref, body, OCI_MANIFEST)
            flood.append({"mediaType": OCI_MANIFEST, "digest": digest_of(body),
                          "size": len(body), "artifactType": NOTATION_TYPE,
                          "annotations": {"org.opencontainers.image.created": created}})
    if not target.api:  # the tag schema: one rewrite of the index, as an attacker would
        url = (f"{both_registries.url}/v2/{ref.repository}/manifests/"
               f"{fallback_tag(target.artifact.digest)}")
        index = httpx.get(url, headers={"Accept": OCI_INDEX}).json()
        index["manifests"] += flood
        httpx.put(url, content=json.dumps(index).encode(),
                  headers={"Content-Type": OCI_INDEX}).raise_for_status()
    with RegistryClient(ANON) as client:
        with pytest.raises(VerificationError) as caught:
            verify_artifact(client, ref, target.artifact, NotationVerifier(notation.policy))
        sent = client.requests_sent
    assert caught.value.reason == "untrusted signer"
    assert re.search(rf"only the newest {MAX_SIGNATURES} of \d+ listed", caught.value.detail)
    # A listing, a manifest and a blob per examined signature, and (on a registry that does
    # not report artifact types) the bounded look-ups of list_referrers.
    assert sent <= MAX_ARTIFACT_TYPE_LOOKUPS + 2 * MAX_SIGNATURES + 10, sent
