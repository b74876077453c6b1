"""A small in-memory registry speaking the OCI distribution spec v1.1 wire format.

It serves the Referrers API (``GET /v2/<name>/referrers/<digest>``, ``artifactType``
filter, ``Link`` pagination, ``OCI-Subject`` on push), which Debian's
distribution 2.8 lacks, and lets tests inject faults: ``server.fault`` is
called first for every request and may answer it itself (returning True).
``server.log`` records (method, path, Authorization header) of every request.
The attack helpers at the end (:func:`trickle`, :func:`send_endless`) write raw
HTTP, as a hostile server would: slowly, or without end.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.oci._registry import free_port

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
_BLOB = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")
_UPLOADS = re.compile(r"^/v2/(.+)/blobs/uploads/([^/]*)$")
_REFERRERS = re.compile(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$")

Fault = Callable[["Handler"], bool]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    server: FakeRegistry
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status: int, code: str) -> None:
        body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
        self.reply(status, body, {"Content-Type": "application/json"})

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        srv = self.server
        with srv.lock:
            srv.log.append((self.command, self.path, self.headers.get("Authorization")))
        if srv.fault is not None and srv.fault(self):
            return
        if srv.password is not None and not self._authorised():
            return
        path = urlparse(self.path).path
        if path == "/v2/":
            return self.reply(200, b"{}")
        for pattern, method in ((_REFERRERS, self._referrers), (_MANIFEST, self._manifest),
                                (_UPLOADS, self._upload), (_BLOB, self._blob)):
            match = pattern.match(path)
            if match:
                return method(*match.groups())
        self.reply(404, b"404 page not found\n", {"Content-Type": "text/plain"})

    def _authorised(self) -> bool:
        import base64

        want = "Basic " + base64.b64encode(f"{self.server.username}:{self.server.password}"
                                           .encode()).decode()
        if self.headers.get("Authorization") == want:
            return True
        self.body()
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        self.reply(401, body, {"WWW-Authenticate": 'Basic realm="fake"',
                               "Content-Type": "application/json"})
        return False

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _dispatch

    def _manifest(self, repo: str, ref: str) -> None:
        srv = self.server
        if self.command == "PUT":
            data = self.body()
            digest = sha256(data)
            obj = json.loads(data)
            media_type = self.headers.get("Content-Type", obj.get("mediaType", ""))
            with srv.lock:
                srv.manifests[(repo, digest)] = (media_type, data)
                if not ref.startswith("sha256:"):
                    srv.tags[(repo, ref)] = digest
            headers = {"Docker-Content-Digest": digest,
                       "Location": f"/v2/{repo}/manifests/{digest}"}
            subject = obj.get("subject")
            if isinstance(subject, dict) and srv.referrers_api:
                headers["OCI-Subject"] = subject["digest"]
            return self.reply(201, b"", headers)
        with srv.lock:
            digest = ref if ref.startswith("sha256:") else srv.tags.get((repo, ref), "")
            found = srv.manifests.get((repo, digest))
            if found and self.command == "DELETE":
                del srv.manifests[(repo, digest)]
                for key in [k for k, v in srv.tags.items() if v == digest]:
                    del srv.tags[key]
                return self.reply(202)
        if not found:
            return self.error(404, "MANIFEST_UNKNOWN")
        self.reply(200, found[1], {"Content-Type": found[0], "Docker-Content-Digest": digest})

    def _blob(self, repo: str, digest: str) -> None:
        data = self.server.blobs.get((repo, digest))
        if data is None:
            return self.error(404, "BLOB_UNKNOWN")
        self.reply(200, data, {"Docker-Content-Digest": digest,
                               "Content-Type": "application/octet-stream"})

    def _upload(self, repo: str, session: str) -> None:
        if self.command == "POST":
            self.body()
            return self.reply(202, b"", {"Location": f"/v2/{repo}/blobs/uploads/{uuid.uuid4()}"})
        data = self.body()
        digest = parse_qs(urlparse(self.path).query).get("digest", [""])[0]
        if sha256(data) != digest:
            return self.error(400, "DIGEST_INVALID")
        self.server.blobs[(repo, digest)] = data
        self.reply(201, b"", {"Docker-Content-Digest": digest})

    def _referrers(self, repo: str, digest: str) -> None:
        srv = self.server
        if not srv.referrers_api:
            return self.reply(404, b"404 page not found\n", {"Content-Type": "text/plain"})
        query = parse_qs(urlparse(self.path).query)
        wanted = query.get("artifactType", [None])[0]
        start = int(query.get("last", ["0"])[0])
        entries = []
        for (r, d), (media_type, data) in list(srv.manifests.items()):
            obj = json.loads(data)
            if r != repo or (obj.get("subject") or {}).get("digest") != digest:
                continue
            artifact_type = obj.get("artifactType") or obj.get("config", {}).get("mediaType")
            if srv.artifact_type_from_config:  # as go-containerregistry's registry does
                artifact_type = obj.get("config", {}).get("mediaType")
            if wanted and srv.filter_on_server and artifact_type != wanted:
                continue
            entry: dict[str, Any] = {"mediaType": media_type, "digest": d, "size": len(data),
                                     "artifactType": artifact_type}
            if obj.get("annotations"):
                entry["annotations"] = obj["annotations"]
            entries.append(entry)
        entries.sort(key=lambda e: e["digest"])
        page = entries[start:start + srv.page_size]
        headers = {"Content-Type": OCI_INDEX}
        if wanted and srv.filter_on_server:
            headers["OCI-Filters-Applied"] = "artifactType"
        if start + srv.page_size < len(entries):
            headers["Link"] = f'</v2/{repo}/referrers/{digest}?last={start + srv.page_size}' \
                              f'{"&artifactType=" + wanted if wanted else ""}>; rel="next"'
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                           "manifests": page}).encode()
        self.reply(200, body, headers)


class FakeRegistry(ThreadingHTTPServer):
    """The server; ``host`` is ``127.0.0.1:port``. Stop with :meth:`stop`."""

    daemon_threads = True

    def __init__(self, *, referrers_api: bool = True, page_size: int = 2,
                 filter_on_server: bool = True, username: str | None = None,
                 password: str | None = None, artifact_type_from_config: bool = False) -> None:
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), Handler)
        self.referrers_api = referrers_api
        self.page_size = page_size
        self.filter_on_server = filter_on_server
        self.artifact_type_from_config = artifact_type_from_config
        self.username, self.password = username, password
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.tags: dict[tuple[str, str], str] = {}
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.log: list[tuple[str, str, str | None]] = []
        self.fault: Fault | None = None
        self.lock = threading.Lock()
        self.connections = 0  # TCP connections accepted
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-fault are expected here

    def put_blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        self.blobs[(repo, digest)] = data
        return digest

    def put_manifest(self, repo: str, obj: dict[str, Any], tag: str | None = None,
                     media_type: str = "application/vnd.oci.image.manifest.v1+json") -> str:
        data = json.dumps(obj).encode()
        digest = sha256(data)
        self.manifests[(repo, digest)] = (media_type, data)
        if tag:
            self.tags[(repo, tag)] = digest
        return digest

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def trickle(handler: BaseHTTPRequestHandler, data: bytes, delay: float, *,
            stop_after: float = 30.0) -> None:
    """Write ``data`` raw, one byte per ``delay`` seconds, until done or the client leaves."""
    handler.close_connection = True
    ends = time.monotonic() + stop_after
    try:
        for i in range(len(data)):
            handler.wfile.write(data[i:i + 1])
            handler.wfile.flush()
            if time.monotonic() > ends:
                return
            time.sleep(delay)
    except OSError:
        return


def send_endless(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], *,
                 chunk: bytes = b"x" * 65536, cap: int = 1 << 30) -> int:
    """A chunked body that never ends (up to ``cap`` bytes); returns the bytes sent."""
    handler.close_connection = True
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    sent = 0
    try:
        while sent < cap:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass
    return sent


def image_with_artifact(server: FakeRegistry, options: Any = None, repo: str = "app") -> str:
    """``host/repo:v1``: an image with a compatibility spec attached (``spec_text("fault")``)
    by our own client; the request log is cleared afterwards."""
    from tests.oci._specs import spec_text

    from nfd.compat import attach_compat_spec
    from nfd.oci import RegistryOptions

    options = options or RegistryOptions(plain_http=True, use_auth_files=False, timeout=5)
    config = server.put_blob(repo, b"{}")
    server.put_manifest(repo, {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": 2}, "layers": []}, tag="v1")
    image = f"{server.host}/{repo}:v1"
    attach_compat_spec(image, spec_text("fault"), options)
    server.log.clear()
    return image
