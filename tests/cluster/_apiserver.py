"""A small server speaking the Kubernetes API wire format for NodeFeature lists.

No real API server can run here, so this one answers what ``validate-cluster``
asks: ``GET /apis/nfd.k8s-sigs.io/v1alpha1/nodefeatures`` with ``limit`` and
``continue``, bearer-token authentication (401 without a known token, 403 for a
token without rights), ``Status`` error bodies, and optionally an expired
continue token (410) or a missing CRD (404). Plain HTTP or TLS. ``fault`` may
answer an authorised list request itself (returning True), as a hostile server
would: trickling, endless, looping continue tokens, invalid UTF-8. :class:`Watches` is
such a ``fault``: it answers watch requests, whole or streamed line by line with pauses.

It also holds cluster-scoped NodeFeatureRules (``rules``, by name) for the
webhook: ``POST`` creates (409 ``AlreadyExists`` when taken), ``GET .../NAME``
reads, ``PUT .../NAME`` replaces (409 ``Conflict`` on a stale resourceVersion).
With ``rule_crd`` (NFD's NodeFeatureRule CRD) it serves that CRD as the
apiextensions API does and refuses a rule its schema refuses (422 ``Invalid``),
as a real API server checks a custom resource against its CRD.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

LIST_PATH = "/apis/nfd.k8s-sigs.io/v1alpha1/nodefeatures"
RULES_PATH = "/apis/nfd.k8s-sigs.io/v1alpha1/nodefeaturerules"
CRD_PATH = ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
            "nodefeaturerules.nfd.k8s-sigs.io")


@dataclass
class ApiState:
    """What the server holds and what it was asked."""

    items: list[dict[str, Any]]
    tokens: set[str] = field(default_factory=lambda: {"good-token"})
    forbidden: set[str] = field(default_factory=lambda: {"readonly-token"})
    max_limit: int = 1000
    expire_continue_once: bool = False
    missing_crd: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    fault: Callable[[BaseHTTPRequestHandler, dict[str, str]], bool] | None = None
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_writes: list[tuple[str, str]] = field(default_factory=list)  # (method, name)
    rule_crd: dict[str, Any] | None = None


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class _Handler(BaseHTTPRequestHandler):
    state: ApiState

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> tuple[str | None, Any, dict[str, str]] | None:
        """Record the request; answer 401 (and return None) for an unknown token."""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        scheme, _, credentials = self.headers.get("Authorization", "").partition(" ")
        # Auth schemes are case-insensitive (RFC 9110); the in-cluster loader sends "bearer".
        token = credentials.strip() if scheme.lower() == "bearer" else None
        self.state.requests.append({"path": url.path, "query": query, "token": token,
                                    "method": self.command})
        if token not in self.state.tokens and token not in self.state.forbidden:
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return None
        return token, url, query

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body: dict[str, Any] = json.loads(self.rfile.read(length))
        return body

    def _rules(self, name: str | None) -> None:
        """NodeFeatureRule create (POST), read (GET NAME), replace (PUT NAME)."""
        state = self.state
        if self.command == "GET" and name:
            if name not in state.rules:
                self._send(404, _status(404, "NotFound", f'nodefeaturerules "{name}" not found'))
                return
            self._send(200, state.rules[name])
            return
        obj = self._body()
        obj_name = obj.get("metadata", {}).get("name")
        if state.rule_crd is not None:
            invalid = _schema_errors(state.rule_crd, obj)
            if invalid:
                self._send(422, _status(422, "Invalid", f'NodeFeatureRule.nfd.k8s-sigs.io '
                                        f'"{obj_name}" is invalid: {invalid}'))
                return
        if self.command == "POST" and not name:
            if obj_name in state.rules:
                self._send(409, _status(409, "AlreadyExists",
                                        f'nodefeaturerules "{obj_name}" already exists'))
                return
            obj["metadata"]["resourceVersion"] = "1"
            state.rules[obj_name] = obj
            state.rule_writes.append(("POST", obj_name))
            self._send(201, obj)
            return
        if self.command == "PUT" and name and name == obj_name and name in state.rules:
            current = state.rules[name]["metadata"].get("resourceVersion")
            if obj["metadata"].get("resourceVersion") != current:
                self._send(409, _status(409, "Conflict", "the object has been modified"))
                return
            obj["metadata"]["resourceVersion"] = str(int(current or "0") + 1)
            state.rules[name] = obj
            state.rule_writes.append(("PUT", name))
            self._send(200, obj)
            return
        self._send(400, _status(400, "BadRequest", "unexpected NodeFeatureRule request"))

    def _route_rules(self) -> bool:
        path = urlsplit(self.path).path
        if path != RULES_PATH and not path.startswith(RULES_PATH + "/"):
            return False
        if self._authorized() is None:
            return True
        self._rules(path[len(RULES_PATH) + 1:] or None)
        return True

    def do_POST(self) -> None:
        if not self._route_rules():
            self._send(404, _status(404, "NotFound", "not found"))

    def do_PUT(self) -> None:
        if not self._route_rules():
            self._send(404, _status(404, "NotFound", "not found"))

    def do_GET(self) -> None:
        if self._route_rules():
            return
        if urlsplit(self.path).path == CRD_PATH and self._authorized() is not None:
            if self.state.rule_crd is None:
                self._send(404, _status(404, "NotFound", "customresourcedefinitions.apiextensions"
                                        '.k8s.io "nodefeaturerules.nfd.k8s-sigs.io" not found'))
            else:
                self._send(200, self.state.rule_crd)
            return
        state = self.state
        authorized = self._authorized()
        if authorized is None:
            return
        token, url, query = authorized
        if token in state.forbidden:
            self._send(403, _status(403, "Forbidden", 'nodefeatures.nfd.k8s-sigs.io is '
                                    'forbidden: User "viewer" cannot list resource '
                                    '"nodefeatures" in API group "nfd.k8s-sigs.io" at the '
                                    "cluster scope"))
            return
        if state.fault is not None and state.fault(self, query):
            return
        if url.path != LIST_PATH or state.missing_crd:
            self._send(404, _status(404, "NotFound", "the server could not find the requested "
                                    "resource"))
            return
        offset = 0
        if "continue" in query:
            if state.expire_continue_once:
                state.expire_continue_once = False
                self._send(410, _status(410, "Expired", "The provided continue parameter is "
                                        "too old"))
                return
            offset = int(base64.b64decode(query["continue"]).decode())
        limit = min(int(query.get("limit", state.max_limit)), state.max_limit)
        page = state.items[offset:offset + limit]
        meta: dict[str, Any] = {"resourceVersion": "4242"}
        if offset + limit < len(state.items):
            meta["continue"] = base64.b64encode(str(offset + limit).encode()).decode()
            meta["remainingItemCount"] = len(state.items) - offset - limit
        self._send(200, {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureList",
                         "metadata": meta, "items": page})


# One step of a streamed answer: bytes are written (one HTTP chunk), a float is slept, an
# Event is awaited (10 s at most: a test that forgets to set it still ends).
Step = bytes | float | threading.Event


class Watches:
    """What the server answers to each watch request (``watch=1``), in turn, then an empty,
    clean end. An answer is ``(status, body)``, sent whole, or a list of :data:`Step`,
    streamed as the API server streams a watch (HTTP/1.1 chunks, one write at a time)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes] | list[Step]] = []
        self.queries: list[dict[str, str]] = []
        self.written = 0  # streamed steps written so far

    def __call__(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> bool:
        if query.get("watch") != "1":
            return False
        self.queries.append(query)
        answer = self.answers.pop(0) if self.answers else (200, b"")
        if isinstance(answer, list):
            self._stream(handler, answer)
            return True
        status, body = answer
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True

    def _stream(self, handler: BaseHTTPRequestHandler, steps: list[Step]) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for step in steps:
                if isinstance(step, bytes):
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(step), step))
                    self.written += 1
                elif isinstance(step, threading.Event):
                    step.wait(10)
                else:
                    time.sleep(step)
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up on the watch


def _schema_errors(crd: dict[str, Any], obj: dict[str, Any]) -> str:
    """The CRD schema's complaints about ``obj`` (unknown fields included), one line."""
    import importlib

    from tests.cluster._nfd_crds import rule_schema

    jsonschema: Any = importlib.import_module("jsonschema")  # no type stubs installed
    validator = jsonschema.Draft7Validator(rule_schema(crd))
    return "; ".join(f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
                     for e in validator.iter_errors(obj))


class ApiServer:
    """The server running in a thread; ``url`` is where to reach it."""

    def __init__(self, state: ApiState, tls: tuple[Path, Path] | None = None) -> None:
        handler = type("Handler", (_Handler,), {"state": state})
        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_kubeconfig(path: Path, server: str, users: dict[str, dict[str, Any]],
                     current: str) -> Path:
    """A kubeconfig with one context per user (context name = user name)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "test", "cluster": {"server": server}}],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [{"name": name, "context": {"cluster": "test", "user": name}}
                     for name in users],
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(config))
    return path
