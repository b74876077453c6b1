"""What an attacker with push access can put beside an artifact: signature manifests of
their own making (hand-made Notation JWS envelopes, signed with ``cryptography``), copies
of real signatures moved to another subject, truncated envelopes, thousands of them."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from nfd.oci import (
    EMPTY_DATA,
    EMPTY_MEDIA_TYPE,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    Reference,
    RegistryClient,
    RegistryOptions,
    canonical_json,
    digest_of,
    list_referrers,
    update_fallback_index,
)

ANON = RegistryOptions(use_auth_files=False)
NOTATION_TYPE = "application/vnd.cncf.notary.signature"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
JWS = "application/jose+json"


def artifact_descriptor(image: str, digest: str) -> Descriptor:
    with RegistryClient(ANON) as client:
        return client.get_manifest(Reference.parse(image), digest).descriptor


def signature_manifest(subject: Descriptor, envelope: bytes, media_type: str,
                       artifact_type: str, created: str = "2026-01-01T00:00:00Z"
                       ) -> dict[str, Any]:
    layer = {"mediaType": media_type, "digest": digest_of(envelope), "size": len(envelope)}
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": digest_of(EMPTY_DATA),
                       "size": len(EMPTY_DATA)},
            "layers": [layer], "subject": subject.to_obj(),
            "annotations": {"org.opencontainers.image.created": created}}


def push_signature(image: str, subject: Descriptor, envelope: bytes, media_type: str,
                   artifact_type: str = NOTATION_TYPE, created: str = "2026-01-01T00:00:00Z"
                   ) -> str:
    """Push ``envelope`` as a signature referrer of ``subject`` (fallback index kept where
    the registry has no Referrers API); its manifest digest."""
    ref = Reference.parse(image)
    body = canonical_json(signature_manifest(subject, envelope, media_type, artifact_type,
                                             created))
    with RegistryClient(ANON) as client:
        client.push_blob(ref, EMPTY_DATA, EMPTY_MEDIA_TYPE)
        client.push_blob(ref, envelope, media_type)
        reply = client.push_manifest(ref, body, OCI_MANIFEST)
        descriptor = Descriptor(OCI_MANIFEST, digest_of(body), len(body), artifact_type,
                                {"org.opencontainers.image.created": created})
        if reply.headers.get("OCI-Subject") != subject.digest:
            update_fallback_index(client, ref, subject.digest, add=descriptor)
    return descriptor.digest


def signatures_of(image: str, subject: str, artifact_type: str) -> list[tuple[Manifest, bytes]]:
    """The signature manifests of ``subject`` and their envelopes, as the tools pushed them."""
    ref = Reference.parse(image)
    out = []
    with RegistryClient(ANON) as client:
        for desc in list_referrers(client, ref, subject, artifact_type):
            manifest = client.get_manifest(ref, expected=desc)
            layer = manifest.descriptors("layers")[0]
            out.append((manifest, client.get_blob(ref, layer, limit=1 << 20)))
    return out


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws_envelope(key: rsa.RSAPrivateKey, chain: list[x509.Certificate], target: Descriptor,
                 signing_time: dt.datetime | None = None) -> bytes:
    """A Notation JWS envelope as notation-core-go writes it (PS256, ``notary.x509``)."""
    when = signing_time or dt.datetime.now(dt.timezone.utc)
    protected = {"alg": "PS256", "crit": ["io.cncf.notary.signingScheme"],
                 "cty": "application/vnd.cncf.notary.payload.v1+json",
                 "io.cncf.notary.signingScheme": "notary.x509",
                 "io.cncf.notary.signingTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    payload = {"targetArtifact": {"mediaType": target.media_type, "digest": target.digest,
                                  "size": target.size}}
    head, body = _b64url(json.dumps(protected).encode()), _b64url(json.dumps(payload).encode())
    signature = key.sign(f"{head}.{body}".encode(),
                         padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
           for c in chain]
    return json.dumps({"payload": body, "protected": head, "header": {"x5c": x5c},
                       "signature": _b64url(signature)}).encode()
