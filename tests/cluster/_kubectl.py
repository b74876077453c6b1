"""``kubectl`` reading back what we emit, against a discovery-only API server.

``kubectl create --dry-run=client -o json -f -`` decodes every object with its typed
Kubernetes codecs (a field of the wrong type fails), but it first asks the server which
kinds exist. No real API server runs here, so this one answers discovery only (legacy
``/api`` and ``/apis``, the wire format kubectl falls back to) for the kinds we emit.
Schema validation is kubernetes-validate's job (``k8s_validate``), hence ``--validate=false``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

RESOURCES = {
    "/api/v1": ("v1", [("namespaces", "Namespace", False), ("secrets", "Secret", True)]),
    "/apis/batch/v1": ("batch/v1", [("jobs", "Job", True)]),
}
DISCOVERY: dict[str, dict[str, Any]] = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]},
    **{path: {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group,
              "resources": [{"name": name, "singularName": kind.lower(), "namespaced": ns,
                             "kind": kind, "verbs": ["create", "get", "list"]}
                            for name, kind, ns in resources]}
       for path, (group, resources) in RESOURCES.items()},
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        body = DISCOVERY.get(self.path.split("?")[0])
        data = json.dumps(body or {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                   "reason": "NotFound", "code": 404}).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def discovery_server() -> Iterator[str]:
    """The URL of a discovery-only API server on 127.0.0.1."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def kubectl_read_back(document: str, tmp_path: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl create --dry-run=client -o json -f -`` makes of ``document``
    (a List's items one by one)."""
    if shutil.which("kubectl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not installed (CI must have it)")
        pytest.skip("needs kubectl (reads back what we emit)")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    with discovery_server() as server:
        proc = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "--server", server,
             "--cache-dir", str(tmp_path / "kube-cache"), "create", "--dry-run=client",
             "--validate=false", "-o", "json", "-f", "-"],
            input=document, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    decoder, text, objects = json.JSONDecoder(), proc.stdout.strip(), []
    while text:
        obj, end = decoder.raw_decode(text)
        objects.append(obj)
        text = text[end:].strip()
    return objects
