"""cosign key-based signatures, in both of the formats cosign has written.

cosign v3 (``cosign sign``, new bundle format: cmd/cosign/cli/sign/sign.go
``signDigestBundle``) pushes a Sigstore bundle v0.3 as an OCI 1.1 referrer of the signed
manifest: a DSSE envelope whose payload is an in-toto Statement v1 naming the signed digest
in ``subject[].digest``. Older cosign pushed ``sha256-<hex>.sig`` tags: an image whose
layers are "simple signing" payloads (``critical.image.docker-manifest-digest``) with the
base64 signature in the ``dev.cosignproject.cosign/signature`` annotation. Both are read.

Trust is a set of PEM public keys: a signature counts when one of them verifies it (ECDSA
with SHA-256, RSA PKCS#1 v1.5 with SHA-256, or Ed25519, as cosign's key pairs sign). The
transparency log (Rekor) and keyless certificates (Fulcio) are not checked: see README.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from nfd._io import read_bounded
from nfd.errors import NotFoundError, RegistryError, UsageError, VerificationError
from nfd.oci import Descriptor, Manifest, Reference, RegistryClient
from nfd.trust._verify import (
    MAX_ENVELOPE_BYTES,
    MAX_SIGNATURES,
    Verified,
    Verifier,
    require_libraries,
)

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
IN_TOTO_STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
MAX_KEY_FILE_BYTES = 64 * 1024


class CosignVerifier(Verifier):
    """Verifies cosign signatures made with one of ``keys`` (PEM public key files)."""

    scheme = "cosign"
    artifact_types = (BUNDLE_MEDIA_TYPE,)

    def __init__(self, key_files: list[str | os.PathLike[str]]) -> None:
        require_libraries("cryptography")
        from cryptography.hazmat.primitives import serialization

        if not key_files:
            raise UsageError("cosign verification needs `cosign_key` FILE",
                             arguments=("cosign_key",))
        self.keys: list[tuple[str, Any]] = []
        for name in key_files:
            for block in _pem_blocks(Path(name)):
                try:
                    key = serialization.load_pem_public_key(block)
                except (ValueError, TypeError):
                    raise UsageError(f"{name}: not a PEM public key") from None
                der = key.public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
                self.keys.append((f"cosign key sha256:{hashlib.sha256(der).hexdigest()[:16]}",
                                  key))
        fingerprint = hashlib.sha256("".join(sorted(k for k, _ in self.keys)).encode())
        self.policy_id = f"cosign:{fingerprint.hexdigest()}"

    def check_signature(self, client: RegistryClient, ref: Reference, artifact: Descriptor,
                        signature: Manifest, envelope: bytes, media_type: str) -> Verified:
        where = f"signature {signature.descriptor.digest}"
        if media_type != BUNDLE_MEDIA_TYPE:
            raise _invalid(where, f"layer type {media_type[:80]!r} is not a Sigstore bundle")
        payload_type, payload, signatures = _dsse(envelope, where)
        pae = _pae(payload_type, payload)
        signer = self._signer(signatures, pae, where)
        if payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise _invalid(where, f"DSSE payload type {payload_type[:60]!r} is not in-toto")
        _check_statement(payload, artifact, where)
        return Verified(signer, signature.descriptor.digest)

    def verify_elsewhere(self, client: RegistryClient, ref: Reference, artifact: Descriptor,
                         failures: list[VerificationError]) -> Verified | None:
        """The older format: the ``sha256-<hex>.sig`` tag, each layer a signed payload."""
        algorithm, _, hex_part = artifact.digest.partition(":")
        tag = f"{algorithm}-{hex_part}.sig"
        client.options.report(f"looking for the cosign signature tag {tag}")
        try:
            manifest = client.get_manifest(ref, tag)
            layers = manifest.descriptors("layers")
        except NotFoundError:
            return None
        except RegistryError as exc:
            failures.append(_invalid(f"signature tag {tag}", exc.message))
            return None
        for layer in layers[:MAX_SIGNATURES]:
            encoded = layer.annotations.get(SIGNATURE_ANNOTATION, "")
            if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE or not encoded:
                continue
            try:
                return self._check_simple_signing(client, ref, artifact, layer, encoded,
                                                  f"signature tag {tag} layer {layer.digest}")
            except VerificationError as exc:
                failures.append(exc)
        return None

    def _check_simple_signing(self, client: RegistryClient, ref: Reference,
                              artifact: Descriptor, layer: Descriptor, encoded: str,
                              where: str) -> Verified:
        """One simple-signing payload and its base64 signature."""
        try:
            signature = base64.b64decode(encoded, validate=True)
            payload = client.get_blob(ref, layer, limit=MAX_ENVELOPE_BYTES)
        except ValueError:
            raise _invalid(where, "the signature annotation is not base64") from None
        except RegistryError as exc:
            raise _invalid(where, exc.message) from None
        signer = self._signer([signature], payload, where)
        try:
            signed = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
        except (ValueError, UnicodeDecodeError, KeyError, TypeError):
            raise _invalid(where, "not a simple signing payload") from None
        if signed != artifact.digest:
            raise VerificationError(VerificationError.DIGEST_MISMATCH,
                                    f"{where} signs {str(signed)[:80]}, not {artifact.digest}")
        return Verified(signer, layer.digest)

    def _signer(self, signatures: list[bytes], data: bytes, where: str) -> str:
        """The name of the first trusted key that verifies one of ``signatures``."""
        for signature in signatures[:MAX_SIGNATURES]:
            for name, key in self.keys:
                if _verifies(key, signature, data):
                    return name
        raise VerificationError(VerificationError.UNTRUSTED_SIGNER,
                                f"{where}: no trusted key verifies its signature")


def _pem_blocks(path: Path) -> list[bytes]:
    try:
        data = read_bounded(path, MAX_KEY_FILE_BYTES)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise UsageError(f"{path}: over {MAX_KEY_FILE_BYTES} bytes for public keys")
    marker = b"-----END PUBLIC KEY-----"
    blocks = [part + marker for part in data.split(marker) if b"-----BEGIN" in part]
    if not blocks:
        raise UsageError(f"{path}: no PEM public key (-----BEGIN PUBLIC KEY-----)")
    return blocks


def _verifies(key: Any, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _invalid(where: str, detail: str) -> VerificationError:
    return VerificationError(VerificationError.INVALID_SIGNATURE, f"{where}: {detail}")


def _dsse(bundle_bytes: bytes, where: str) -> tuple[str, bytes, list[bytes]]:
    """(payload type, payload, signatures) of the bundle's DSSE envelope."""
    try:
        bundle = json.loads(bundle_bytes)
        envelope = bundle["dsseEnvelope"]
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise _invalid(where, "not a Sigstore bundle with a DSSE envelope (truncated?)"
                       ) from None
    if not str(bundle.get("mediaType", "")).startswith("application/vnd.dev.sigstore.bundle"):
        raise _invalid(where, "not a Sigstore bundle")
    if not isinstance(payload_type, str) or not signatures:
        raise _invalid(where, "the DSSE envelope has no signature")
    return payload_type, payload, signatures


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding (DSSE protocol v1): what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _check_statement(payload: bytes, artifact: Descriptor, where: str) -> None:
    """The in-toto statement must name the artifact's digest among its subjects."""
    try:
        statement = json.loads(payload)
        kind = statement["_type"]
        subjects = statement["subject"]
        digests = [s["digest"] for s in subjects]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise _invalid(where, "the DSSE payload is not an in-toto statement") from None
    if kind not in IN_TOTO_STATEMENT_TYPES:
        raise _invalid(where, f"statement type {str(kind)[:60]!r} is not in-toto's")
    algorithm, _, hex_part = artifact.digest.partition(":")
    named = [d.get(algorithm) for d in digests if isinstance(d, dict)]
    if hex_part not in named:
        shown = ", ".join(f"{algorithm}:{str(n)[:64]}" for n in named[:3]) or "nothing"
        raise VerificationError(VerificationError.DIGEST_MISMATCH,
                                f"{where} signs {shown}, not the artifact {artifact.digest}")
