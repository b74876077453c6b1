"""Kubernetes API discovery (the legacy, unaggregated wire format) for ``kubectl``.

``kubectl create --dry-run=client`` never sends the objects, but it maps each
kind to its resource first, through discovery: ``/api``, ``/apis`` and one
``APIResourceList`` per group version. This server answers exactly that, for
the kinds the webhook's manifests hold, so kubectl can read them back here.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

# group/version -> (kind, resource name, namespaced)
RESOURCES: dict[str, list[tuple[str, str, bool]]] = {
    "v1": [("Namespace", "namespaces", False), ("ServiceAccount", "serviceaccounts", True),
           ("Service", "services", True), ("Secret", "secrets", True)],
    "apps/v1": [("Deployment", "deployments", True)],
    "policy/v1": [("PodDisruptionBudget", "poddisruptionbudgets", True)],
    "rbac.authorization.k8s.io/v1": [("ClusterRole", "clusterroles", False),
                                     ("ClusterRoleBinding", "clusterrolebindings", False)],
    "admissionregistration.k8s.io/v1": [
        ("MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False)],
    "cert-manager.io/v1": [("Certificate", "certificates", True)],
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _documents() -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for gv in RESOURCES:
        if "/" in gv:
            group, version = gv.split("/")
            groups.setdefault(group, []).append(version)
    docs: dict[str, Any] = {
        "/api": {"kind": "APIVersions", "versions": ["v1"],
                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                 "serverAddress": "127.0.0.1"}]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in groups.items()]},
    }
    for gv, kinds in RESOURCES.items():
        path = "/api/v1" if gv == "v1" else f"/apis/{gv}"
        docs[path] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                      "resources": [{"name": name, "singularName": kind.lower(),
                                     "namespaced": namespaced, "kind": kind, "verbs": VERBS}
                                    for kind, name, namespaced in kinds]}
    return docs


class DiscoveryServer:
    """Serves the discovery documents on a loopback port, in a thread."""

    def __init__(self) -> None:
        docs = _documents()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                doc = docs.get(self.path.split("?", 1)[0])
                body = json.dumps(doc or {"kind": "Status", "code": 404}).encode()
                self.send_response(200 if doc else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def kubeconfig(self, path: Path) -> Path:
        config = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": "t", "cluster": {"server": self.url}}],
                  "users": [{"name": "t", "user": {"token": "t"}}],
                  "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
                  "current-context": "t"}
        path.write_text(yaml.safe_dump(config))
        return path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
