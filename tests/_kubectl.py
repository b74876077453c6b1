"""kubectl reading back what we emit, as Go reads it.

``kubectl create --dry-run=client -o json`` parses YAML with sigs.k8s.io/yaml (go-yaml
v2) and prints JSON; ``kubectl kustomize`` parses with kyaml (go-yaml v3) and writes
YAML again. Client dry-run still asks the API for its resource mapping, so
:class:`Discovery` answers the discovery documents (``/api``, ``/apis``, and each
group-version's ``APIResourceList``, in the real wire format) for the kinds we emit,
plus ``test.nfd-client.dev/v1 Document``, a wrapper for documents that are not
Kubernetes objects (``validate-node -o yaml``). Nothing else is served: a create
that reached the server would fail.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests._peers import kubectl, run

WRAPPER_API = "test.nfd-client.dev/v1"
# group -> (version, [(plural, kind, namespaced)])
GROUPS: dict[str, tuple[str, list[tuple[str, str, bool]]]] = {
    "": ("v1", [("pods", "Pod", True), ("configmaps", "ConfigMap", True)]),
    "nfd.k8s-sigs.io": ("v1alpha1", [("nodefeaturerules", "NodeFeatureRule", False)]),
    "batch": ("v1", [("jobs", "Job", True), ("cronjobs", "CronJob", True)]),
    "apps": ("v1", [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True),
                    ("daemonsets", "DaemonSet", True), ("replicasets", "ReplicaSet", True)]),
    "test.nfd-client.dev": ("v1", [("documents", "Document", False)]),
}


def _resource_list(group_version: str, resources: list[tuple[str, str, bool]]) -> dict[str, Any]:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": plural, "singularName": kind.lower(), "namespaced": ns,
                           "kind": kind, "verbs": ["create", "get", "list"]}
                          for plural, kind, ns in resources]}


def _discovery_document(path: str) -> dict[str, Any] | None:
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/api/v1":
        return _resource_list("v1", GROUPS[""][1])
    if path == "/apis":
        groups = []
        for name, (version, _) in GROUPS.items():
            if name:
                gv = {"groupVersion": f"{name}/{version}", "version": version}
                groups.append({"name": name, "versions": [gv], "preferredVersion": gv})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "apis" and parts[2] in GROUPS:
        version, resources = GROUPS[parts[2]]
        if parts[3] == version:
            return _resource_list(f"{parts[2]}/{version}", resources)
    return None


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        document = _discovery_document(self.path.split("?")[0])
        body = json.dumps(document or {"kind": "Status", "apiVersion": "v1", "code": 404,
                                       "status": "Failure", "reason": "NotFound"}).encode()
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Kubectl:
    """The machine's kubectl, pointed at a discovery-only server."""

    def __init__(self, server: str, workdir: Path) -> None:
        self.binary = kubectl()
        self.server = server
        self.workdir = workdir

    def _base(self) -> list[str]:
        config = self.workdir / "kubeconfig"  # empty: nothing of the user's is read
        config.write_text("apiVersion: v1\nkind: Config\n")
        return [self.binary, "--server", self.server, "--cache-dir",
                str(self.workdir / "kube-cache"), "--kubeconfig", str(config)]

    def read(self, yaml_text: str) -> list[dict[str, Any]]:
        """The objects of a YAML stream, as ``kubectl create --dry-run=client -o json``
        prints them: one JSON object after another (a List is flattened into its items)."""
        out = run([*self._base(), "create", "--dry-run=client", "--validate=false", "-o",
                   "json", "-f", "-"], stdin=yaml_text).stdout
        decoder, objs, at = json.JSONDecoder(), [], 0
        while out[at:].strip():
            obj, end = decoder.raw_decode(out, at + len(out[at:]) - len(out[at:].lstrip()))
            objs += obj["items"] if obj.get("kind") == "List" else [obj]
            at = end
        return objs

    def kustomize(self, files: dict[str, str]) -> str:
        """``kubectl kustomize`` over a kustomization listing ``files`` (name -> text)."""
        directory = self.workdir / "kustomize"
        directory.mkdir(exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text)
        (directory / "kustomization.yaml").write_text(
            "resources:\n" + "".join(f"- {name}\n" for name in files))
        return run([self.binary, "kustomize", str(directory)]).stdout


@contextmanager
def kubectl_reader(workdir: Path) -> Iterator[Kubectl]:
    """A :class:`Kubectl` with its discovery server, stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield Kubectl(f"http://{host!s}:{port}", workdir)
    finally:
        server.shutdown()
        server.server_close()


def wrap(name: str, document_yaml: str) -> str:
    """A ``Document`` object whose ``spec`` is ``document_yaml``, indented as it stands."""
    body = "".join(f"  {line}\n" if line else "\n" for line in document_yaml.splitlines())
    return f"apiVersion: {WRAPPER_API}\nkind: Document\nmetadata:\n  name: {name}\nspec:\n{body}"



def as_kubectl_shows(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objs`` with the one thing client dry-run adds: a namespaced object without a
    namespace gets the context's, ``default``."""
    namespaced = {kind for _, resources in GROUPS.values() for _, kind, ns in resources if ns}
    shown = []
    for obj in objs:
        meta = obj.get("metadata", {})
        if obj.get("kind") in namespaced and "namespace" not in meta:
            obj = {**obj, "metadata": {**meta, "namespace": "default"}}
        shown.append(obj)
    return shown
