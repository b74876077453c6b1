"""The real signing tools, set up in a temporary home: Notation (a local key with a
certificate chain made here with ``cryptography``) and cosign (a key pair of its own).

``Pki`` makes a root CA and code-signing leaves (also expired ones, or with the wrong
extended key usage); ``NotationSigner`` writes Notation's ``signingkeys.json``,
``trustpolicy.json`` and ``truststore/x509/ca/NAME/`` exactly where Notation reads them and
signs with ``notation sign``; ``CosignSigner`` runs ``cosign generate-key-pair`` and
``cosign sign`` (bundle referrer, or the older ``.sig`` tag).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests._peers import peer, run

SUBJECT = {"C": "US", "ST": "WA", "O": "nfd-test", "CN": "compat-signer"}
_OIDS = {"C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
         "O": NameOID.ORGANIZATION_NAME, "CN": NameOID.COMMON_NAME}


def _name(attributes: dict[str, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(_OIDS[k], v) for k, v in attributes.items()])


def _usage(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


@dataclass
class Pki:
    """A root CA and the leaves it issues."""

    name: str = "nfd-test-root"
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        subject = _name({"C": "US", "ST": "WA", "O": "nfd-test", "CN": self.name})
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_usage(sign=False, cert_sign=True), critical=True)
            .sign(self.key, hashes.SHA256()))

    def leaf(self, subject: dict[str, str] | None = None, *, expired: bool = False,
             eku: x509.ObjectIdentifier = ExtendedKeyUsageOID.CODE_SIGNING
             ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.timezone.utc)
        start, end = ((now - dt.timedelta(days=3), now - dt.timedelta(days=1)) if expired
                      else (now - dt.timedelta(hours=1), now + dt.timedelta(days=7)))
        cert = (
            x509.CertificateBuilder().subject_name(_name(subject or SUBJECT))
            .issuer_name(self.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .sign(self.key, hashes.SHA256()))
        return key, cert


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class NotationSigner:
    """Notation's config directory under ``home`` (``XDG_CONFIG_HOME``), one signing key per
    name, and a trust policy trusting ``trusted`` roots for the ``identities``."""

    def __init__(self, home: Path) -> None:
        self.binary = peer("notation")
        self.home = home
        self.config = home / "notation"
        (self.config / "localkeys").mkdir(parents=True, exist_ok=True)
        self.keys: list[dict[str, str]] = []
        self.policy = self.config / "trustpolicy.json"

    @property
    def env(self) -> dict[str, str]:
        return {"XDG_CONFIG_HOME": str(self.home), "HOME": str(self.home)}

    def add_key(self, name: str, key: rsa.RSAPrivateKey, chain: list[x509.Certificate]) -> None:
        key_path = self.config / "localkeys" / f"{name}.key"
        cert_path = self.config / "localkeys" / f"{name}.crt"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        cert_path.write_bytes(b"".join(_pem_cert(c) for c in chain))
        self.keys.append({"name": name, "keyPath": str(key_path), "certPath": str(cert_path)})
        (self.config / "signingkeys.json").write_text(json.dumps(
            {"default": self.keys[0]["name"], "keys": self.keys}))

    def trust(self, store: str, *roots: x509.Certificate,
              identities: tuple[str, ...] = ("*",), level: str = "strict",
              policy_name: str = "trustpolicy.json") -> Path:
        directory = self.config / "truststore" / "x509" / "ca" / store
        directory.mkdir(parents=True, exist_ok=True)
        for i, root in enumerate(roots):
            (directory / f"root{i}.crt").write_bytes(_pem_cert(root))
        policy = {"version": "1.0", "trustPolicies": [{
            "name": "compat-specs", "registryScopes": ["*"],
            "signatureVerification": {"level": level},
            "trustStores": [f"ca:{store}"], "trustedIdentities": list(identities)}]}
        path = self.config / policy_name
        path.write_text(json.dumps(policy))
        return path

    def sign(self, reference: str, key: str, *, envelope: str = "jws",
             referrers_api: bool = False) -> None:
        """``notation sign`` the manifest ``reference`` (host/repo@digest) with key ``key``."""
        run([self.binary, "sign", "--insecure-registry", "--key", key,
             "--signature-format", envelope,
             f"--force-referrers-tag={'false' if referrers_api else 'true'}", reference],
            env=self.env, timeout=60)

    def verify(self, reference: str) -> None:
        """Notation's own verdict, to show the setup is one Notation accepts."""
        run([self.binary, "verify", "--insecure-registry", reference], env=self.env,
            timeout=60)


class CosignSigner:
    """A cosign key pair (``cosign generate-key-pair``) in ``directory``."""

    PASSWORD = "nfd-test-password"

    def __init__(self, directory: Path) -> None:
        self.binary = peer("cosign")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        run([self.binary, "generate-key-pair"], cwd=directory, env=self.env, timeout=60)
        self.public_key = directory / "cosign.pub"

    @property
    def env(self) -> dict[str, str]:
        return {"COSIGN_PASSWORD": self.PASSWORD, "HOME": str(self.directory),
                "DOCKER_CONFIG": str(self.directory / "docker"), "TUF_ROOT": str(
                    self.directory / "tuf"), "SIGSTORE_NO_CACHE": "1"}

    def sign(self, reference: str, *, bundle: bool = True) -> None:
        """``cosign sign`` with the key, offline (no transparency log)."""
        run([self.binary, "sign", "--key", str(self.directory / "cosign.key"),
             "--tlog-upload=false", "--allow-http-registry", "--yes",
             f"--new-bundle-format={'true' if bundle else 'false'}",
             "--use-signing-config=false", reference],
            cwd=self.directory, env=self.env,
            timeout=120)
