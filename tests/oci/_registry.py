"""Real registries for tests: Debian's ``docker-registry`` (CNCF distribution 2.8).

Plain functions, so that other test packages can start a registry too:
``start_registry`` (anonymous, htpasswd basic, token auth; plain HTTP or TLS),
``make_ca``/``issue_cert`` (a throwaway CA made with ``cryptography``) and
``TokenServer`` (issues RS256 JWTs the registry's ``auth.token`` accepts).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = "docker-registry"
SERVICE = "nfd-test-registry"
ISSUER = "nfd-test-issuer"


def missing_tools(*names: str) -> list[str]:
    return [n for n in names if shutil.which(n) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class KeyPair:
    cert_pem: bytes
    key_pem: bytes
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        return cert, key


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(name: str = "nfd-test-ca") -> KeyPair:
    """A self-signed CA (also usable as the token signing certificate)."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                       critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem(key), key, cert)


def issue_cert(ca: KeyPair, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> KeyPair:
    """A server certificate for ``hosts`` signed by ``ca``."""
    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem(key), key, cert)


def issue_client_cert(ca: KeyPair, user: str, groups: tuple[str, ...] = ()) -> KeyPair:
    """A client certificate signed by ``ca``: the Kubernetes API server reads the user from
    its CN and the groups from its O entries (x509 client-certificate authentication)."""
    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
                        + [x509.NameAttribute(NameOID.COMMON_NAME, user)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _pem(key), key, cert)


def _server_tls(pair: KeyPair) -> ssl.SSLContext:
    """A server-side TLS context serving ``pair`` (a certificate from :func:`issue_cert`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = pair.write(Path(tmp), "server")
        context.load_cert_chain(cert, key)
    return context


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A token endpoint (distribution's token auth spec) issuing RS256 JWTs.

    Anonymous callers get ``pull`` only; ``users`` (name -> password) get every
    action they ask for. ``issued`` records (user, scope) of each token issued.
    """

    def __init__(self, signer: KeyPair, users: dict[str, str], *,
                 tls: KeyPair | None = None) -> None:
        self.signer = signer
        self.scheme = "https" if tls else "http"
        self.users = users
        self.issued: list[tuple[str, str]] = []
        self.refused = 0
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if tls is not None:
            self._httpd.socket = _server_tls(tls).wrap_socket(self._httpd.socket,
                                                              server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/token"

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlparse(req.path).query)
        user = ""
        header = req.headers.get("Authorization", "")
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if self.users.get(name) != password:
                self.refused += 1
                req.send_response(401)
                req.send_header("Content-Length", "0")
                req.end_headers()
                return
            user = name
        access: list[dict[str, object]] = []
        for scope in query.get("scope", []):
            for part in scope.split(" "):
                kind, _, rest = part.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                granted = wanted if user else [a for a in wanted if a == "pull"]
                access.append({"type": kind, "name": name, "actions": granted})
                self.issued.append((user, part))
        body = json.dumps({"token": self.sign(user, query.get("service", [""])[0], access),
                           "expires_in": 300}).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def sign(self, subject: str, audience: str, access: list[dict[str, object]]) -> str:
        der = self.signer.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": subject, "aud": audience, "exp": now + 300,
                  "nbf": now - 30, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self.signer.key.sign(signing_input.encode(), padding.PKCS1v15(),
                                         hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class Registry:
    """A running ``docker-registry``."""

    host: str  # 127.0.0.1:port
    scheme: str
    process: subprocess.Popen[bytes]
    workdir: Path
    ca_file: Path | None = None
    users: dict[str, str] = field(default_factory=dict)
    token_server: TokenServer | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.token_server:
            self.token_server.stop()


def start_registry(
    workdir: Path,
    *,
    tls: KeyPair | None = None,
    ca: KeyPair | None = None,
    htpasswd_users: dict[str, str] | None = None,
    token_server: TokenServer | None = None,
) -> Registry:
    """Start ``docker-registry`` on a free 127.0.0.1 port and wait until it answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'data'}}}, delete: {{enabled: true}},"
        " cache: {blobdescriptor: inmemory}}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: nfd-test-secret",
    ]
    ca_file = None
    if tls is not None:
        cert, key = tls.write(workdir, "server")
        lines += ["  tls:", f"    certificate: {cert}", f"    key: {key}"]
        if ca is not None:
            # A directory of its own: skopeo's --dest-cert-dir reads every file in it.
            (workdir / "certs").mkdir(exist_ok=True)
            ca_file = workdir / "certs" / "ca.crt"
            ca_file.write_bytes(ca.cert_pem)
    if htpasswd_users:
        path = workdir / "htpasswd"
        for i, (user, password) in enumerate(htpasswd_users.items()):
            subprocess.run(["htpasswd", "-B", "-b", *(["-c"] if i == 0 else []), str(path),
                            user, password], check=True, capture_output=True)
        lines += ["auth:", "  htpasswd:", "    realm: nfd-test", f"    path: {path}"]
    if token_server is not None:
        bundle = workdir / "token-root.crt"
        bundle.write_bytes(token_server.signer.cert_pem)
        lines += ["auth:", "  token:", f"    realm: {token_server.realm}",
                  f"    service: {SERVICE}", f"    issuer: {ISSUER}",
                  f"    rootcertbundle: {bundle}"]
    config = workdir / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)], stdout=log, stderr=log)
    log.close()
    scheme = "https" if tls else "http"
    registry = Registry(f"127.0.0.1:{port}", scheme, process, workdir, ca_file,
                        dict(htpasswd_users or {}), token_server)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()}")
        try:
            httpx.get(f"{registry.url}/v2/", verify=False, timeout=1)
            return registry
        except httpx.HTTPError:
            time.sleep(0.02)
    registry.stop()
    raise RuntimeError("docker-registry did not answer within 15 s")
