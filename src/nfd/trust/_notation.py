"""Notation signatures: its trust policy and trust store, as the Notation CLI keeps them, and
its JWS and COSE envelopes (notaryproject specs v1.1: "Signature Envelope JWS", "Signature
Envelope COSE", "Trust Store and Trust Policy").

Files, so that a team already using Notation writes nothing new: ``trustpolicy.oci.json``
(Notation 2.x's name), else ``trustpolicy.json`` (1.x), in Notation's config directory
(``$XDG_CONFIG_HOME/notation``, else ``~/.config/notation``) or the file given; the trust
store is the ``truststore/x509/{ca,signingAuthority}/NAME/`` beside it. As notation-go, a
policy or store that is a symbolic link is refused.

The verification levels (notation-go ``trustpolicy.LevelStrict`` ...) enforce or only log
each check: integrity always; authenticity (trust store and trusted identities) under
strict and permissive; the authentic timestamp (a chain valid now, for ``notary.x509``) and
expiry under strict only; ``skip`` verifies nothing. Revocation (OCSP/CRL) is not checked:
these machines reach no responder. Timestamp countersignatures are not read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nfd._io import read_bounded
from nfd.errors import UsageError, VerificationError
from nfd.oci import Descriptor, Manifest, Reference, RegistryClient
from nfd.trust._verify import Verified, Verifier, require_libraries

SIGNATURE_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
JWS_MEDIA_TYPE = "application/jose+json"
COSE_MEDIA_TYPE = "application/cose"
PAYLOAD_CONTENT_TYPE = "application/vnd.cncf.notary.payload.v1+json"
SCHEME_X509 = "notary.x509"
SCHEME_AUTHORITY = "notary.x509.signingAuthority"
POLICY_FILES = ("trustpolicy.oci.json", "trustpolicy.json")
LEVELS = ("strict", "permissive", "audit", "skip")
MAX_POLICY_BYTES = 1024 * 1024
MAX_STORE_FILES = 256
MAX_CERT_FILE_BYTES = 1024 * 1024
STORE_FILE = "certificates.pem"  # a store's certificates, as trust_files() writes them
# COSE algorithm identifiers (RFC 9053 / IANA) Notation signs with.
_COSE_ALGORITHMS = {-37: "PS256", -38: "PS384", -39: "PS512", -7: "ES256", -35: "ES384",
                    -36: "ES512"}
_COSE_X5CHAIN = 33
_KNOWN_CRITICAL = {"io.cncf.notary.signingScheme", "io.cncf.notary.expiry",
                   "io.cncf.notary.authenticSigningTime", "io.cncf.notary.signingTime"}


def default_config_dir() -> Path:
    """Notation's ``{NOTATION_CONFIG}``: Go's ``os.UserConfigDir()`` + ``notation``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "notation"


@dataclass(frozen=True)
class PolicyStatement:
    name: str
    scopes: tuple[str, ...]
    level: str
    stores: tuple[tuple[str, str], ...]  # (type, name)
    identities: tuple[dict[str, str], ...] | None  # None: "*"


@dataclass(frozen=True)
class Envelope:
    """What both envelope formats carry, once parsed."""

    algorithm: str
    signing_input: bytes
    signature: bytes
    payload: bytes
    headers: dict[str, Any]
    chain: list[bytes]


class NotationVerifier(Verifier):
    """Verifies Notation signatures against a trust policy and its trust store."""

    scheme = "notation"
    artifact_types = (SIGNATURE_ARTIFACT_TYPE,)

    def __init__(self, policy_file: str | os.PathLike[str] | None = None) -> None:
        require_libraries("cryptography", "cbor2")
        path = Path(policy_file) if policy_file else _find_policy(default_config_dir())
        raw = _read_regular(path, MAX_POLICY_BYTES, "trust policy")
        self.source = str(path)
        self._policy = (path.name, raw)
        self.statements = _parse_policy(raw, self.source)
        store_root = path.parent / "truststore" / "x509"
        self._stores: dict[tuple[str, str], list[bytes]] = {}
        for statement in self.statements:
            for store in statement.stores:
                if store not in self._stores and statement.level != "skip":
                    self._stores[store] = _load_store(store_root, store)
        fingerprint = hashlib.sha256(raw)
        for store, ders in sorted(self._stores.items()):
            fingerprint.update(repr(store).encode())
            for der in ders:
                fingerprint.update(der)
        self.policy_id = f"notation:{fingerprint.hexdigest()}"

    def trust_files(self) -> dict[str, bytes]:
        """What this verifier trusts, as files relative to the policy's directory: the
        policy as read, and each store it uses as one PEM file (notation-core-go's
        ``ReadCertificateFile`` reads every certificate of a PEM file), so that the same
        trust can be carried elsewhere (the ConfigMap of ``nfd compat job``)."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        name, raw = self._policy
        files = {name: raw}
        for (kind, store), ders in sorted(self._stores.items()):
            files[f"truststore/x509/{kind}/{store}/{STORE_FILE}"] = b"".join(
                x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM) for der in ders)
        return files

    def statement_for(self, ref: Reference) -> PolicyStatement:
        """The statement whose registry scope is ``registry/repository``, else the ``*`` one
        (notation-go ``GetApplicableTrustPolicy``)."""
        scope = f"{ref.registry}/{ref.repository}"
        exact = [s for s in self.statements if scope in s.scopes]
        wildcard = [s for s in self.statements if "*" in s.scopes]
        if not exact and not wildcard:
            raise VerificationError(VerificationError.NO_POLICY,
                                    f"no statement of {self.source} has registry scope {scope}")
        return (exact or wildcard)[0]

    def applies(self, ref: Reference) -> Verified | None:
        statement = self.statement_for(ref)
        if statement.level == "skip":
            return Verified(f"nobody (trust policy {statement.name!r} skips verification)", "")
        return None

    def check_signature(self, client: RegistryClient, ref: Reference, artifact: Descriptor,
                        signature: Manifest, envelope: bytes, media_type: str) -> Verified:
        from nfd.trust import _x509

        where = f"signature {signature.descriptor.digest}"
        statement = self.statement_for(ref)
        parsed = _parse_envelope(envelope, media_type, where)
        scheme, signing_time, expiry = _signed_attributes(parsed.headers, where)
        chain = _x509.load_chain(parsed.chain)
        enforce = _enforcement(statement.level)
        try:
            _x509.validate_code_signing_chain(chain, signing_time)
        except VerificationError as exc:
            if exc.reason != VerificationError.EXPIRED_CERTIFICATE or enforce["timestamp"]:
                raise _at(exc, where) from None
        try:
            _x509.verify_signature(chain[0], parsed.algorithm, parsed.signature,
                                   parsed.signing_input)
        except VerificationError as exc:
            raise _at(exc, where) from None
        _check_target(parsed.payload, artifact, where)
        signer = _x509.subject_text(chain[0])
        if enforce["authenticity"]:
            self._check_authenticity(statement, scheme, parsed.chain, chain, where)
        if enforce["timestamp"] and scheme == SCHEME_X509:
            try:
                _x509.check_valid_now(chain)
            except VerificationError as exc:
                raise _at(exc, where) from None
        if enforce["expiry"] and expiry is not None and expiry < datetime.now(timezone.utc):
            raise VerificationError(VerificationError.EXPIRED_SIGNATURE,
                                    f"{where} expired at {expiry:%Y-%m-%dT%H:%M:%SZ}")
        valid_until = min(c.not_valid_after_utc for c in chain).timestamp()
        return Verified(f"x509.subject: {signer}", signature.descriptor.digest, valid_until)

    def _check_authenticity(self, statement: PolicyStatement, scheme: str, ders: list[bytes],
                            chain: list[Any], where: str) -> None:
        from nfd.trust import _x509

        wanted_type = "ca" if scheme == SCHEME_X509 else "signingAuthority"
        trusted = {der for (kind, name), certs in self._stores.items()
                   if kind == wanted_type and (kind, name) in statement.stores for der in certs}
        if not trusted.intersection(ders):
            raise VerificationError(
                VerificationError.UNTRUSTED_SIGNER,
                f"{where}: no certificate of its chain ({_x509.subject_text(chain[0])!r}) is "
                f"in the {wanted_type} trust stores of policy {statement.name!r}")
        if statement.identities is not None and not any(
                _x509.identity_matches(identity, chain[0]) for identity in statement.identities):
            raise VerificationError(
                VerificationError.UNTRUSTED_SIGNER,
                f"{where}: signer {_x509.subject_text(chain[0])!r} is not a trusted identity "
                f"of policy {statement.name!r}")


def _at(exc: VerificationError, where: str) -> VerificationError:
    return VerificationError(exc.reason, f"{where}: {exc.detail}")


def _enforcement(level: str) -> dict[str, bool]:
    return {"authenticity": level in ("strict", "permissive"),
            "timestamp": level == "strict", "expiry": level == "strict"}


# -- policy and trust store ------------------------------------------------------------------


def _find_policy(config: Path) -> Path:
    for name in POLICY_FILES:
        if (config / name).exists() or (config / name).is_symlink():
            return config / name
    raise UsageError(f"no Notation trust policy: neither {config / POLICY_FILES[0]} nor "
                     f"{config / POLICY_FILES[1]} exists (give `trust_policy` FILE)",
                     arguments=("trust_policy",))


def _read_regular(path: Path, limit: int, what: str) -> bytes:
    try:
        info = path.lstat()
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{what} {path} is not a regular file (symbolic links are refused, "
                         "as Notation does)")
    data = read_bounded(path, limit)
    if len(data) > limit:
        raise UsageError(f"{what} {path} is over {limit} bytes")
    return data


def _parse_policy(raw: bytes, source: str) -> list[PolicyStatement]:
    from nfd.trust._x509 import parse_identity

    def bad(path: str, message: str) -> UsageError:
        return UsageError(f"{source}: {path}: {message}")

    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{source}: not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != "1.0":
        raise bad("version", "a Notation trust policy of version \"1.0\" is expected")
    items = doc.get("trustPolicies")
    if not isinstance(items, list) or not items:
        raise bad("trustPolicies", "at least one statement is expected")
    statements, names = [], set()
    for i, item in enumerate(items):
        at = f"trustPolicies[{i}]"
        if not isinstance(item, dict):
            raise bad(at, "not an object")
        name = item.get("name")
        if not isinstance(name, str) or not name or name in names:
            raise bad(f"{at}.name", "a unique, non-empty name is expected")
        names.add(name)
        scopes = _strings(item.get("registryScopes"), f"{at}.registryScopes", bad)
        level = (item.get("signatureVerification") or {}).get("level") \
            if isinstance(item.get("signatureVerification"), dict) else None
        if level not in LEVELS:
            raise bad(f"{at}.signatureVerification.level", f"one of {', '.join(LEVELS)}")
        stores: list[tuple[str, str]] = []
        for j, text in enumerate(_strings(item.get("trustStores") or [],
                                          f"{at}.trustStores", bad, empty=True)):
            kind, _, store = text.partition(":")
            if kind not in ("ca", "signingAuthority", "tsa") or not store or "/" in store \
                    or store in (".", ".."):
                raise bad(f"{at}.trustStores[{j}]", f"{text[:80]!r} is not TYPE:NAME")
            stores.append((kind, store))
        identities = _strings(item.get("trustedIdentities") or [],
                              f"{at}.trustedIdentities", bad, empty=True)
        if level != "skip" and (not stores or not identities):
            raise bad(at, "trustStores and trustedIdentities are required unless level is skip")
        try:
            parsed = None if "*" in identities else tuple(parse_identity(t) for t in identities)
        except ValueError as exc:
            raise bad(f"{at}.trustedIdentities", str(exc)) from None
        statements.append(PolicyStatement(name, tuple(scopes), level, tuple(stores), parsed))
    return statements


def _strings(value: Any, path: str, bad: Any, empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) \
            or (not value and not empty):
        raise bad(path, "a list of non-empty strings is expected")
    return list(value)


def _load_store(root: Path, store: tuple[str, str]) -> list[bytes]:
    """Every certificate (PEM or DER, as notation-core-go ``ReadCertificateFile``) of one
    named store, as DER."""
    from cryptography import x509

    kind, name = store
    directory = root / kind / name
    try:
        info = directory.lstat()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)[:MAX_STORE_FILES + 1]
    except OSError as exc:
        raise UsageError(f"trust store {kind}:{name} ({directory}): {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode) or len(entries) > MAX_STORE_FILES:
        raise UsageError(f"trust store {directory} is not a directory of at most "
                         f"{MAX_STORE_FILES} certificate files")
    ders: list[bytes] = []
    for entry in entries:
        data = _read_regular(Path(entry.path), MAX_CERT_FILE_BYTES, "trusted certificate")
        try:
            certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                     else [x509.load_der_x509_certificate(data)])
        except ValueError:
            raise UsageError(f"trusted certificate {entry.path} is not a PEM or DER "
                             "certificate") from None
        ders += [c.public_bytes(_der()) for c in certs]
    if not ders:
        raise UsageError(f"trust store {directory} holds no certificate")
    return ders


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


# -- envelopes -------------------------------------------------------------------------------


def _invalid(where: str, detail: str) -> VerificationError:
    return VerificationError(VerificationError.INVALID_SIGNATURE, f"{where}: {detail}")


def _b64url(text: Any, where: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise _invalid(where, f"{what} is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise _invalid(where, f"{what} is not base64url") from None


def _parse_envelope(data: bytes, media_type: str, where: str) -> Envelope:
    if media_type == JWS_MEDIA_TYPE:
        return _parse_jws(data, where)
    if media_type == COSE_MEDIA_TYPE:
        return _parse_cose(data, where)
    raise _invalid(where, f"envelope media type {media_type[:80]!r} is neither JWS nor COSE")


def _parse_jws(data: bytes, where: str) -> Envelope:
    """The JWS JSON serialization Notation writes: ``protected``, ``payload``,
    ``signature`` and an unprotected ``header`` with the ``x5c`` chain (standard base64)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise _invalid(where, "the JWS envelope is not JSON (truncated?)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("header"), dict):
        raise _invalid(where, "the JWS envelope has no unprotected header")
    protected_text = doc.get("protected")
    payload_text = doc.get("payload")
    try:
        headers = json.loads(_b64url(protected_text, where, "protected"))
    except (ValueError, UnicodeDecodeError):
        raise _invalid(where, "the JWS protected header is not JSON") from None
    if not isinstance(headers, dict):
        raise _invalid(where, "the JWS protected header is not an object")
    x5c = doc["header"].get("x5c")
    if not isinstance(x5c, list) or not all(isinstance(c, str) for c in x5c):
        raise _invalid(where, "the JWS header has no x5c certificate chain")
    try:
        chain = [base64.b64decode(c, validate=True) for c in x5c]
    except ValueError:
        raise _invalid(where, "an x5c certificate is not base64") from None
    algorithm = headers.get("alg")
    return Envelope(str(algorithm), f"{protected_text}.{payload_text}".encode(),
                    _b64url(doc.get("signature"), where, "signature"),
                    _b64url(payload_text, where, "payload"), headers, chain)


def _parse_cose(data: bytes, where: str) -> Envelope:
    """A tagged COSE_Sign1 (RFC 9052 section 4.2): [protected, unprotected, payload,
    signature]; the chain is the ``x5chain`` (label 33) unprotected header."""
    import cbor2

    try:
        message = cbor2.loads(data)
    except (ValueError, RecursionError, EOFError, cbor2.CBORDecodeError):
        raise _invalid(where, "the COSE envelope is not CBOR (truncated?)") from None
    # cbor2 gives a tag's array as a tuple and its maps as read-only mappings.
    if not isinstance(message, cbor2.CBORTag) or message.tag != 18 \
            or not isinstance(message.value, (list, tuple)) or len(message.value) != 4:
        raise _invalid(where, "the COSE envelope is not a tagged COSE_Sign1")
    protected_bytes, unprotected, payload, signature = message.value
    if not all(isinstance(b, bytes) for b in (protected_bytes, payload, signature)) \
            or not isinstance(unprotected, Mapping):
        raise _invalid(where, "the COSE_Sign1 fields have the wrong types")
    try:
        protected = cbor2.loads(protected_bytes)
    except (ValueError, RecursionError, EOFError, cbor2.CBORDecodeError):
        raise _invalid(where, "the COSE protected header is not CBOR") from None
    if not isinstance(protected, Mapping):
        raise _invalid(where, "the COSE protected header is not a map")
    chain = unprotected.get(_COSE_X5CHAIN)
    chain = [chain] if isinstance(chain, bytes) else chain
    if not isinstance(chain, (list, tuple)) or not all(isinstance(c, bytes) for c in chain):
        raise _invalid(where, "the COSE header has no x5chain certificate chain")
    headers: dict[Any, Any] = {
        ("alg" if k == 1 else "crit" if k == 2 else "cty" if k == 3 else k):
        (list(v) if isinstance(v, tuple) else v) for k, v in protected.items()}
    alg = headers.get("alg")
    algorithm = _COSE_ALGORITHMS.get(alg, str(alg)) if isinstance(alg, int) else str(alg)
    headers["alg"] = algorithm
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    return Envelope(algorithm, to_be_signed, signature, payload, headers, list(chain))


def _time(value: Any, where: str, what: str) -> datetime | None:
    """A signed time: RFC 3339 text (JWS) or a CBOR date (COSE: tag 1, decoded by cbor2)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(where, f"{what} {value[:40]!r} is not a time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise _invalid(where, f"{what} is not a time")


def _signed_attributes(headers: dict[str, Any], where: str
                       ) -> tuple[str, datetime | None, datetime | None]:
    """(signing scheme, signing time, expiry), after notation-core-go's header rules
    (jws/jws.go ``validateProtectedHeaders``, ``validateCriticalHeaders``)."""
    if headers.get("cty") != PAYLOAD_CONTENT_TYPE:
        raise _invalid(where, "the payload is not a Notation payload")
    scheme = headers.get("io.cncf.notary.signingScheme")
    if scheme not in (SCHEME_X509, SCHEME_AUTHORITY):
        raise _invalid(where, f"unsupported signing scheme {str(scheme)[:40]!r}")
    crit = headers.get("crit")
    if not isinstance(crit, list) or "io.cncf.notary.signingScheme" not in crit:
        raise _invalid(where, "the signing scheme is not marked critical")
    for name in crit:
        if name not in _KNOWN_CRITICAL or name not in headers:
            raise _invalid(where, f"critical header {str(name)[:60]!r} is unknown or absent")
    expiry = _time(headers.get("io.cncf.notary.expiry"), where, "expiry")
    if expiry is not None and "io.cncf.notary.expiry" not in crit:
        raise _invalid(where, "the expiry is not marked critical")
    if scheme == SCHEME_X509:
        return scheme, _time(headers.get("io.cncf.notary.signingTime"), where,
                             "signing time"), expiry
    if "io.cncf.notary.authenticSigningTime" not in crit:
        raise _invalid(where, "the authentic signing time is not marked critical")
    return scheme, _time(headers.get("io.cncf.notary.authenticSigningTime"), where,
                         "authentic signing time"), expiry


def _check_target(payload: bytes, artifact: Descriptor, where: str) -> None:
    """The signed descriptor (payload ``targetArtifact``) must be the artifact's."""
    try:
        target = json.loads(payload).get("targetArtifact")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise _invalid(where, "the payload is not a Notation payload") from None
    if not isinstance(target, dict):
        raise _invalid(where, "the payload names no targetArtifact")
    signed = (target.get("mediaType"), target.get("digest"), target.get("size"))
    if signed != (artifact.media_type, artifact.digest, artifact.size):
        raise VerificationError(
            VerificationError.DIGEST_MISMATCH,
            f"{where} signs {str(signed[1])[:80]} ({str(signed[0])[:80]}, {signed[2]!r} "
            f"bytes), not the artifact {artifact.digest}")
