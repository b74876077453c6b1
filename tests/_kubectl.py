"""kubectl reading back what we emit, as Go reads it.

``kubectl create --dry-run=client -o json`` parses YAML with sigs.k8s.io/yaml (go-yaml
v2) and prints JSON; ``kubectl kustomize`` parses with kyaml (go-yaml v3) and writes
YAML again. Client dry-run still asks the API for its resource mapping, so
:class:`Discovery` answers the discovery documents (``/api``, ``/apis``, and each
group-version's ``APIResourceList``, in the real wire format) for the kinds we emit,
plus ``test.nfd-client.dev/v1 Document``, a wrapper for documents that are not
Kubernetes objects (``validate-node -o yaml``). Nothing else is served: a create
that reached the server would fail.

With ``openapi`` (:func:`published_openapi`: a Kubernetes release's published OpenAPI v3
documents, ``api/openapi-spec/v3`` of the ``k8s.io/kubernetes`` module, plus NFD's
NodeFeatureRule CRD schema made into one) it also serves ``/openapi/v3`` as an API
server does, so ``kubectl create --dry-run=client --validate=strict`` validates against
that release's schemas exactly as against a real server of it.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class PublishedOpenApi:
    """What an API server of ``release`` publishes: ``/openapi/v3`` documents by path
    (``api/v1``, ``apis/batch/v1``, ...), ``swagger`` for ``/openapi/v2``, its CRDs."""

    release: str
    documents: dict[str, dict[str, Any]]
    swagger: dict[str, Any]
    crds: list[dict[str, Any]] = field(default_factory=list)


def published_openapi(release: str, nfd_rule_crd: dict[str, Any] | None = None
                      ) -> PublishedOpenApi:
    """The OpenAPI of ``k8s.io/kubernetes@release`` (Go module cache, ``go mod download``) for
    the groups we emit, and NFD's NodeFeatureRule CRD as a server publishes a CRD; a loud
    skip without Go."""
    import shutil

    import pytest

    go = shutil.which("go")
    if go is None:
        pytest.skip("needs Go (go mod download) for Kubernetes' published OpenAPI schemas")
    done = subprocess.run([go, "mod", "download", "-json", f"k8s.io/kubernetes@{release}"],
                          capture_output=True, text=True, timeout=600, check=False,
                          cwd=Path(__file__).parent)
    info = json.loads(done.stdout or "{}")
    assert done.returncode == 0 and "Dir" in info, info.get("Error") or done.stderr
    spec_dir = Path(info["Dir"]) / "api" / "openapi-spec" / "v3"
    documents = {}
    for group, (version, _) in GROUPS.items():
        path = f"api/{version}" if not group else f"apis/{group}/{version}"
        file = spec_dir / (path.replace("/", "__") + "_openapi.json")
        if file.exists():
            documents[path] = json.loads(file.read_text())
    published = PublishedOpenApi(release, documents,
                                 json.loads((spec_dir.parent / "swagger.json").read_text()))
    if nfd_rule_crd is not None:
        crd_document = _crd_openapi(nfd_rule_crd)
        documents["apis/nfd.k8s-sigs.io/v1alpha1"] = crd_document
        published.swagger["definitions"].update(crd_document["components"]["schemas"])
        published.crds.append(nfd_rule_crd)
    return published


def _v2_protobuf(swagger: dict[str, Any]) -> bytes:
    """``/openapi/v2`` as API servers serve it (and kubectl reads it): gnostic's protobuf."""
    from tests._peers import peer

    done = subprocess.run([str(peer("openapi-v2-proto"))], input=json.dumps(swagger).encode(),
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _crd_openapi(crd: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI v3 document an API server publishes for a CRD's served v1alpha1."""
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    schema = {**served["schema"]["openAPIV3Schema"],
              "x-kubernetes-group-version-kind": [
                  {"group": group, "version": "v1alpha1", "kind": kind}]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
            "paths": {}, "components": {"schemas": {f"io.k8s-sigs.nfd.v1alpha1.{kind}": schema}}}


class _Handler(BaseHTTPRequestHandler):
    openapi: PublishedOpenApi | None = None
    openapi_v2: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _openapi(self, path: str) -> dict[str, Any] | None:
        published = self.openapi
        if published is None:
            return None
        if path == "/openapi/v3":
            return {"paths": {p: {"serverRelativeURL": f"/openapi/v3/{p}?hash=0"}
                              for p in published.documents}}
        if path.startswith("/openapi/v3/"):
            return published.documents.get(path[len("/openapi/v3/"):])
        if path == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions":
            # kubectl lists the CRDs to learn which kinds are custom resources.
            return {"kind": "CustomResourceDefinitionList", "apiVersion": "apiextensions.k8s.io/v1",
                    "metadata": {}, "items": published.crds}
        return None

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/openapi/v2" and self.openapi_v2:
            self.send_response(200)
            self.send_header("Content-Type", "application/com.github.proto-openapi.spec.v2.v1.0"
                             "+protobuf")
            self.send_header("Content-Length", str(len(self.openapi_v2)))
            self.end_headers()
            self.wfile.write(self.openapi_v2)
            return
        document = _discovery_document(path) or self._openapi(path)
        body = json.dumps(document or {"kind": "Status", "apiVersion": "v1", "code": 404,
                                       "status": "Failure", "reason": "NotFound"}).encode()
        self.send_response(200 if document else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Kubectl:
    """The machine's kubectl, pointed at a discovery-only server."""

    def __init__(self, server: str, workdir: Path, server_release: str = "") -> None:
        self.binary = kubectl()
        self.server = server
        self.workdir = workdir
        self.server_release = server_release  # whose OpenAPI schemas it serves, if any

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

    def validate(self, yaml_text: str) -> subprocess.CompletedProcess[str]:
        """``kubectl create --dry-run=client --validate=strict -f -`` (its own client-side
        schema validation; needs ``openapi``): the finished process, for its exit and error."""
        return subprocess.run([*self._base(), "create", "--dry-run=client", "--validate=strict",
                               "-o", "name", "-f", "-"], input=yaml_text, capture_output=True,
                              text=True, timeout=60, check=False)

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
def kubectl_reader(workdir: Path, openapi: PublishedOpenApi | None = None
                   ) -> Iterator[Kubectl]:
    """A :class:`Kubectl` with its discovery server (and ``openapi``), stopped on exit."""
    v2 = _v2_protobuf(openapi.swagger) if openapi else b""
    handler = type("Handler", (_Handler,), {"openapi": openapi, "openapi_v2": v2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield Kubectl(f"http://{host!s}:{port}", workdir, openapi.release if openapi else "")
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
