"""Certificate chains as Notation checks them, on ``cryptography``'s X.509 and signatures.

The rules are notation-core-go v1.3's ``ValidateCodeSigningCertChain``
(x509/codesigning_cert_validations.go): leaf first, each certificate issued (and signed) by
the next, the last one a self-signed root, CA basic constraints and ``keyCertSign`` on the
others, a critical key usage with ``digitalSignature`` on the leaf, which is no CA and whose
extended key usage, when present, names none of serverAuth, clientAuth, emailProtection,
timeStamping or OCSPSigning. Keys: RSA of at least 2048 bits, EC on P-256/384/521.
Which chain certificate the trust store must hold, and the trusted identities, are
notation-go's (verifier/verifier.go): any certificate of the chain, byte for byte; an
identity is a subset of the leaf's subject distinguished name.
"""

from __future__ import annotations

from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from nfd.errors import VerificationError

_EXCLUDED_EKU = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}
# The distinguished-name attributes Notation's trusted identities name (RFC 4514 short names).
_DN_NAMES = {"C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
             "L": NameOID.LOCALITY_NAME, "O": NameOID.ORGANIZATION_NAME,
             "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME,
             "EMAILADDRESS": NameOID.EMAIL_ADDRESS, "SERIALNUMBER": NameOID.SERIAL_NUMBER}
MAX_CHAIN = 10


def _invalid(detail: str) -> VerificationError:
    return VerificationError(VerificationError.INVALID_SIGNATURE, detail)


def load_chain(ders: list[bytes]) -> list[x509.Certificate]:
    """The envelope's certificate chain (DER, leaf first)."""
    if not ders or len(ders) > MAX_CHAIN:
        raise _invalid(f"the certificate chain has {len(ders)} certificates "
                       f"(1 to {MAX_CHAIN} expected)")
    try:
        return [x509.load_der_x509_certificate(der) for der in ders]
    except ValueError as exc:
        raise _invalid(f"a certificate of the chain does not parse: {exc}") from None


def subject_text(cert: x509.Certificate) -> str:
    """The subject as Notation prints it in trusted identities (``CN=..., O=...``)."""
    return ", ".join(reversed(cert.subject.rfc4514_string().split(",")))


def validate_code_signing_chain(chain: list[x509.Certificate], signing_time: datetime | None
                                ) -> None:
    """notation-core-go's chain rules; raises ``invalid signature`` or ``expired certificate``
    (a certificate not valid at ``signing_time``)."""
    for i, cert in enumerate(chain):
        if signing_time is not None:
            check_validity(cert, signing_time, "at signing time")
        last = i == len(chain) - 1
        self_signed = _self_signed(cert)
        if last and not self_signed:
            raise _invalid(f"the chain does not end in a self-signed root ({_name(cert)})")
        if not last:
            if self_signed:
                raise _invalid(f"{_name(cert)} is self-signed but not the chain's root")
            _check_issued(cert, chain[i + 1])
        if i == 0:
            _check_leaf(cert)
        else:
            _check_ca(cert, i - 1)


def check_validity(cert: x509.Certificate, when: datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise VerificationError(
            VerificationError.EXPIRED_CERTIFICATE,
            f"{_name(cert)} is valid from {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
            f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not {what}")


def check_valid_now(chain: list[x509.Certificate]) -> None:
    """Notation's "authentic timestamp" for the ``notary.x509`` scheme without a
    countersignature: the signing time is only claimed, so the chain must be valid now."""
    now = datetime.now(timezone.utc)
    for cert in chain:
        check_validity(cert, now, "now")


def _name(cert: x509.Certificate) -> str:
    return f"certificate {subject_text(cert)!r}"[:200]


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_issued(cert: x509.Certificate, parent: x509.Certificate) -> None:
    try:
        cert.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        raise _invalid(f"{_name(cert)} is not issued by {_name(parent)}") from None


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType]
               ) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage:
    found = _extension(cert, x509.KeyUsage)
    if found is None or not found.critical:
        raise _invalid(f"{_name(cert)}: a critical key usage extension must be present")
    assert isinstance(found.value, x509.KeyUsage)
    return found.value


def _check_leaf(cert: x509.Certificate) -> None:
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and isinstance(constraints.value, x509.BasicConstraints) \
            and constraints.value.ca:
        raise _invalid(f"{_name(cert)}: the signing certificate must not be a CA")
    if not _key_usage(cert).digital_signature:
        raise _invalid(f"{_name(cert)}: key usage must allow digitalSignature")
    eku = _extension(cert, x509.ExtendedKeyUsage)
    if eku is not None and isinstance(eku.value, x509.ExtendedKeyUsage):
        for usage in eku.value:
            if usage in _EXCLUDED_EKU:
                raise VerificationError(
                    VerificationError.UNTRUSTED_SIGNER,
                    f"{_name(cert)}: extended key usage {_EXCLUDED_EKU[usage]} is not for "
                    "code signing")
    check_key(cert)


def _check_ca(cert: x509.Certificate, below: int) -> None:
    constraints = _extension(cert, x509.BasicConstraints)
    value = constraints.value if constraints is not None else None
    if not isinstance(value, x509.BasicConstraints) or not value.ca:
        raise _invalid(f"{_name(cert)}: an issuing certificate must be a CA")
    if value.path_length is not None and value.path_length < below:
        raise _invalid(f"{_name(cert)}: path length {value.path_length} is exceeded")
    if not _key_usage(cert).key_cert_sign:
        raise _invalid(f"{_name(cert)}: key usage must allow keyCertSign")


def check_key(cert: x509.Certificate) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in (
            "secp256r1", "secp384r1", "secp521r1"):
        return
    raise _invalid(f"{_name(cert)}: unsupported key (RSA >= 2048 bits or EC P-256/384/521)")


def verify_signature(cert: x509.Certificate, algorithm: str, signature: bytes,
                     data: bytes) -> None:
    """Check a JWS/COSE signature (``PS256``.. ``ES512``) by ``cert``'s key over ``data``.

    The algorithm must be the one Notation derives from the key (RSA 2048/3072/4096 bits:
    PS256/384/512; P-256/384/521: ES256/384/512); ECDSA signatures arrive as r||s.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = cert.public_key()
    expected = _algorithm_for(key)
    if algorithm != expected:
        raise _invalid(f"signature algorithm {algorithm[:20]!r} does not fit the "
                       f"certificate's key ({expected})")
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[
        algorithm[2:]]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data,
                       padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            half = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * half:
                raise InvalidSignature
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                       int.from_bytes(signature[half:], "big"))
            key.verify(der, data, ec.ECDSA(digest))
    except InvalidSignature:
        raise _invalid("the signature does not verify with the signing certificate's key"
                       ) from None


def _algorithm_for(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return {2048: "PS256", 3072: "PS384", 4096: "PS512"}.get(key.key_size, "PS?")
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(
            key.curve.name, "ES?")
    return "?"


def parse_identity(text: str) -> dict[str, str]:
    """A trusted identity ``x509.subject: C=US, O=acme, CN=builder`` as attributes.

    Notation (verifier/trustpolicy: ``ParseDistinguishedName``) wants C, ST and O at least;
    commas inside values are escaped as ``\\,``.
    """
    prefix, _, value = text.partition(":")
    if prefix.strip() != "x509.subject" or not value.strip():
        raise ValueError(f"trusted identity {text[:100]!r} is not 'x509.subject: <DN>' or '*'")
    attributes: dict[str, str] = {}
    for part in _split_unescaped(value.strip()):
        name, eq, val = part.partition("=")
        name = name.strip().upper()
        if not eq or name not in _DN_NAMES or not val.strip():
            raise ValueError(f"trusted identity {text[:100]!r}: {part.strip()[:60]!r} is not "
                             f"an attribute of {', '.join(_DN_NAMES)}")
        if name in attributes:
            raise ValueError(f"trusted identity {text[:100]!r} names {name} twice")
        attributes[name] = val.strip().replace("\\,", ",")
    if not {"C", "ST", "O"} <= set(attributes):
        raise ValueError(f"trusted identity {text[:100]!r} must name C, ST and O")
    return attributes


def _split_unescaped(text: str) -> list[str]:
    parts, current, escaped = [], "", False
    for ch in text:
        if ch == "," and not escaped:
            parts.append(current)
            current = ""
            continue
        escaped = ch == "\\" and not escaped
        current += ch
    parts.append(current)
    return parts


def identity_matches(wanted: dict[str, str], cert: x509.Certificate) -> bool:
    """Every attribute of ``wanted`` is the leaf subject's (notation-go ``isSubsetDN``)."""
    for name, value in wanted.items():
        found = [a.value for a in cert.subject.get_attributes_for_oid(_DN_NAMES[name])]
        if found != [value]:
            return False
    return True
