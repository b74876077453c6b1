"""A real Kubernetes control plane on loopback, with the real NFD on top.

etcd, kube-apiserver and kube-scheduler are the ones ``scripts/install-peers`` builds
(``tests/peers/kubernetes``); nfd-master and nfd-worker are NFD v0.19.0
(``tests/peers/nfd``), and NFD's CRDs are copied from that module by the same script.
Everything listens on 127.0.0.1 (nfd-master's health port excepted: NFD v0.19.0 binds it
on every interface and has no flag to choose), with a throwaway CA, x509 client
certificates, RBAC, the admission webhooks on and service-account tokens signed by a
throwaway key. There is no kubelet: the test Node is created as a kubelet leaves it
(annotations, capacity, a Ready condition, and without the not-ready taint that the
TaintNodesByCondition admission plugin puts on every new Node and the node lifecycle
controller would remove).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import ssl
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.oci._registry import KeyPair, free_port, issue_cert, issue_client_cert, make_ca

KUBE_VERSION = "v1.37.2"  # scripts/install-peers KUBE_VERSION
NFD_VERSION = "v0.19.0"  # scripts/install-peers NFD_VERSION
NFD_NAMESPACE = "node-feature-discovery"
NODE_NAME = "nfd-test-node"
START_SECONDS = 90  # a cold apiserver on two loaded cores
CONTROL_PLANE_BINARIES = ("etcd", "kube-apiserver", "kube-scheduler", "nfd-master",
                          "nfd-worker")
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def nfd_crds_file(peers_bin: Path) -> Path:
    """Where ``scripts/install-peers`` copies NFD's CRDs."""
    return peers_bin.parent / f"nfd-{NFD_VERSION}-crds.yaml"


def node_arch() -> str:
    return _ARCH.get(platform.machine(), platform.machine())


def wait_until(predicate: Callable[[], bool], seconds: float, what: str,
               interval: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if not predicate():
        raise TimeoutError(f"{what}: not within {seconds:g} s")


@dataclass
class Component:
    """One running binary: its process and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # by its PID: Popen.terminate sends SIGTERM to it
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Identity:
    """A user of the API server: its client certificate and a kubeconfig for it."""

    user: str
    cert: Path
    key: Path
    kubeconfig: Path


@dataclass
class ControlPlane:
    """The running cluster; :meth:`start` builds it, :meth:`stop` stops every process."""

    bin_dir: Path
    workdir: Path
    ca: KeyPair = field(default_factory=lambda: make_ca("nfd-test-kubernetes-ca"))
    components: list[Component] = field(default_factory=list)
    server: str = ""
    ca_file: Path = Path()
    admin: Identity | None = None
    _http: httpx.Client | None = None

    # -- processes ---------------------------------------------------------------------

    def _spawn(self, name: str, args: Sequence[str | Path],
               env: dict[str, str] | None = None) -> Component:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(self.bin_dir / name), *map(str, args)],
                                       stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL,
                                       env={**os.environ, **(env or {})})
        component = Component(name, process, log)
        self.components.append(component)
        return component

    def _await(self, component: Component, ready: Callable[[], bool], what: str) -> None:
        def check() -> bool:
            if not component.alive():
                raise RuntimeError(f"{component.name} exited {component.process.returncode}: "
                                   f"{component.tail()}")
            return ready()

        try:
            wait_until(check, START_SECONDS, what, interval=0.2)
        except TimeoutError as exc:
            raise RuntimeError(f"{exc}\n{component.tail()}") from None

    # -- credentials -------------------------------------------------------------------

    def _identity(self, user: str, groups: tuple[str, ...] = ()) -> Identity:
        pair = issue_client_cert(self.ca, user, groups)
        cert, key = pair.write(self.workdir, user.replace(":", "-"))
        return Identity(user, cert, key, self.kubeconfig_for(user, {
            "client-certificate": str(cert), "client-key": str(key)}))

    def kubeconfig_for(self, name: str, user: dict[str, str]) -> Path:
        """A kubeconfig file for this cluster with ``user``'s credentials (JSON is YAML)."""
        path = self.workdir / f"{name.replace(':', '-')}.kubeconfig"
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {
                "server": self.server, "certificate-authority": str(self.ca_file)}}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": name}}],
        }
        path.write_text(json.dumps(config, indent=1))
        return path

    def _service_account_keys(self) -> tuple[Path, Path]:
        signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private, public = self.workdir / "sa.key", self.workdir / "sa.pub"
        private.write_bytes(signer.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        public.write_bytes(signer.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        return private, public

    # -- start -------------------------------------------------------------------------

    def start(self, *, scheduler: bool = True, nfd: bool = True) -> ControlPlane:
        """etcd and the API server; then the scheduler, the Node, NFD's CRDs, the worker's
        NodeFeature and nfd-master (``nfd=False``: the CRDs only)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.workdir / "ca.crt"
        self.ca_file.write_bytes(self.ca.cert_pem)
        etcd_url = self._start_etcd()
        self._start_apiserver(etcd_url)
        if scheduler:
            self._start_scheduler()
        self.create_namespace("default")
        self.create_node()
        self._install_nfd(run=nfd)
        return self

    def _start_etcd(self) -> str:
        client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        etcd = self._spawn("etcd", [
            "--name", "test", "--data-dir", self.workdir / "etcd",
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"test={peer}", "--log-level", "warn",
            # A test cluster's data is thrown away: no fsync keeps it fast on a busy disk.
            "--unsafe-no-fsync"])

        def healthy() -> bool:
            try:
                return bool(httpx.get(f"{client}/health", timeout=2).json().get("health")
                            == "true")
            except (httpx.HTTPError, ValueError):
                return False

        self._await(etcd, healthy, "etcd /health")
        return client

    def _start_apiserver(self, etcd_url: str) -> None:
        port = free_port()
        self.server = f"https://127.0.0.1:{port}"
        serving_cert, serving_key = issue_cert(self.ca).write(self.workdir, "apiserver")
        sa_key, sa_pub = self._service_account_keys()
        self.admin = self._identity("nfd-test-admin", ("system:masters",))
        apiserver = self._spawn("kube-apiserver", [
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            "--advertise-address=127.0.0.1",
            # The "kubernetes" Service's endpoints would be a loopback address, which
            # Endpoints validation refuses; nothing here needs them.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={serving_cert}", f"--tls-private-key-file={serving_key}",
            f"--client-ca-file={self.ca_file}",
            "--authorization-mode=RBAC",
            "--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_pub}",
            f"--service-account-signing-key-file={sa_key}",
            "--service-cluster-ip-range=10.96.0.0/24",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            "--profiling=false",
        ])
        self._http = self.client(self.admin)

        def ready() -> bool:
            try:
                return self.http.get("/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        self._await(apiserver, ready, "kube-apiserver /readyz")

    def _start_scheduler(self) -> None:
        scheduler = self._identity("system:kube-scheduler")
        serving_cert, serving_key = issue_cert(self.ca).write(self.workdir, "scheduler")
        port = free_port()
        component = self._spawn("kube-scheduler", [
            f"--kubeconfig={scheduler.kubeconfig}", "--leader-elect=false",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--tls-cert-file={serving_cert}", f"--tls-private-key-file={serving_key}"])
        verify = ssl.create_default_context(cafile=str(self.ca_file))

        def healthy() -> bool:
            try:  # /healthz needs no credentials (--authorization-always-allow-paths)
                reply = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify,
                                  timeout=2)
            except httpx.HTTPError:
                return False
            return reply.status_code == 200

        self._await(component, healthy, "kube-scheduler /healthz")

    # -- the API -----------------------------------------------------------------------

    def client(self, identity: Identity) -> httpx.Client:
        """An HTTP client of the API server, authenticated as ``identity``."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.load_cert_chain(identity.cert, identity.key)
        return httpx.Client(base_url=self.server, timeout=30, verify=context)

    @property
    def http(self) -> httpx.Client:
        """An HTTP client authenticated as the cluster admin (system:masters)."""
        assert self._http is not None, "the API server is not started"
        return self._http

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> Any:
        """One API call as the admin; a failure is an assertion with the server's Status."""
        reply = self.http.request(method, path, headers={"Content-Type": content_type},
                                  content=None if body is None else json.dumps(body))
        assert reply.status_code < 300, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json()

    def kubectl(self, *args: str, stdin: str | None = None, kubeconfig: Path | None = None,
                check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The machine's kubectl against this cluster (the admin unless ``kubeconfig``)."""
        assert self.admin is not None
        config = kubeconfig or self.admin.kubeconfig
        proc = subprocess.run(
            ["kubectl", "--kubeconfig", str(config), "--cache-dir",
             str(self.workdir / "kube-cache"), *args],
            input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        if check:
            assert proc.returncode == 0, f"kubectl {' '.join(args[:3])}: {proc.stderr}"
        return proc

    def create_namespace(self, name: str) -> None:
        """A namespace (``default`` exists) with the ServiceAccount ``default`` that
        kube-controller-manager's serviceaccount controller would add: the ServiceAccount
        admission plugin refuses pods without it."""
        if name != "default":
            self.request("POST", "/api/v1/namespaces",
                         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        self.request("POST", f"/api/v1/namespaces/{name}/serviceaccounts",
                     {"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default"}})

    # -- the Node and NFD --------------------------------------------------------------

    def create_node(self, name: str = NODE_NAME) -> dict[str, Any]:
        """A Node as a kubelet registers it and the node lifecycle controller leaves it."""
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        resources = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "20Gi"}
        conditions = [{"type": kind, "status": "False", "reason": f"KubeletHasNo{kind}",
                       "lastHeartbeatTime": now, "lastTransitionTime": now}
                      for kind in ("MemoryPressure", "DiskPressure", "PIDPressure")]
        conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                           "message": "kubelet is posting ready status",
                           "lastHeartbeatTime": now, "lastTransitionTime": now})
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                           "kubernetes.io/arch": node_arch()},
                # nfd-master patches annotations with JSON patches: the map must exist.
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            # Nodes take their status on create (pkg/registry/core/node/strategy.go).
            "status": {
                "capacity": resources, "allocatable": resources, "conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                              {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": KUBE_VERSION, "operatingSystem": "linux",
                             "architecture": node_arch(), "osImage": "test",
                             "kernelVersion": platform.release(), "machineID": "",
                             "systemUUID": "", "bootID": "", "containerRuntimeVersion": "",
                             "kubeProxyVersion": ""},
            },
        }
        created: dict[str, Any] = self.request("POST", "/api/v1/nodes", node)
        taints = [t for t in created["spec"].get("taints", []) if t["key"] != NOT_READY_TAINT]
        patched: dict[str, Any] = self.request(
            "PATCH", f"/api/v1/nodes/{name}", {"spec": {"taints": taints or None}},
            "application/merge-patch+json")
        return patched

    def _install_nfd(self, run: bool) -> None:
        assert self.admin is not None
        self.kubectl("apply", "-f", str(nfd_crds_file(self.bin_dir)))
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                     "crd/nodefeatures.nfd.k8s-sigs.io", "crd/nodefeaturerules.nfd.k8s-sigs.io")
        self.create_namespace(NFD_NAMESPACE)
        if not run:
            return
        self.run_worker()
        port = free_port()
        master = self._spawn("nfd-master", [
            "-kubeconfig", self.admin.kubeconfig, "-port", str(port),
            "-config", self.workdir / "nfd-master.conf"], env=self.nfd_env())

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz",
                                 timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        self._await(master, healthy, "nfd-master /healthz")

    def nfd_env(self) -> dict[str, str]:
        # NFD v0.19.0 no longer defaults its namespace (pkg/utils/kubernetes.go reads the
        # service account's namespace file, else KUBERNETES_NAMESPACE).
        return {"KUBERNETES_NAMESPACE": NFD_NAMESPACE, "NODE_NAME": NODE_NAME}

    def run_worker(self) -> None:
        """nfd-worker ``-oneshot``: discovers this machine and publishes its NodeFeature."""
        assert self.admin is not None
        done = subprocess.run(
            [str(self.bin_dir / "nfd-worker"), "-oneshot", "-kubeconfig",
             str(self.admin.kubeconfig), "-config", str(self.workdir / "nfd-worker.conf")],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, **self.nfd_env()})
        if done.returncode != 0:
            raise RuntimeError(f"nfd-worker -oneshot exited {done.returncode}: "
                               f"{done.stderr[-2000:]}")

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
        for component in reversed(self.components):
            component.stop()
