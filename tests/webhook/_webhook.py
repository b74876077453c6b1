"""Running ``nfd compat webhook serve`` for tests, and AdmissionReview documents.

The server is the real command in a subprocess, over real TLS with a throwaway
CA; reviews start from ``data/admission-review-pod.json``, a request in the
shape the Kubernetes API reference documents.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import jsonpatch
import pytest

DATA = Path(__file__).parent / "data"
START_SECONDS = 30


def require_tools(*names: str) -> None:
    """Skip with the reason, or fail in CI, where the tools must be installed."""
    from tests.oci._registry import missing_tools

    missing = missing_tools(*names)
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (Debian: docker-registry, skopeo, umoci)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class WebhookProcess:
    """``nfd compat webhook serve`` on a free loopback port; ``url`` once it listens."""

    def __init__(self, tls: tuple[Path, Path], ca_file: Path, *flags: str,
                 env: dict[str, str] | None = None) -> None:
        self.ca_file = ca_file
        cmd = [sys.executable, "-m", "nfd", "compat", "webhook", "serve",
               "--listen", "127.0.0.1:0", "--tls-cert-file", str(tls[0]),
               "--tls-key-file", str(tls[1]), *flags]
        self.process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, **(env or {})})
        self.log: list[str] = []
        ready = threading.Event()
        self.url = ""

        def read() -> None:
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self.log.append(line.rstrip("\n"))
                if "listening on " in line and not ready.is_set():
                    text = json.loads(line)["msg"] if line.startswith("{") else line
                    self.url = text.split("listening on ", 1)[1].strip()
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(START_SECONDS) or not self.url:
            self.stop()
            raise RuntimeError(f"the webhook did not start: {self.log}")
        self.client = httpx.Client(base_url=self.url, timeout=30,
                                   verify=ssl.create_default_context(cafile=str(ca_file)))

    def review(self, body: dict[str, Any], query: str = "") -> dict[str, Any]:
        reply = self.client.post(f"/mutate{query}", json=body)
        assert reply.status_code == 200, reply.text
        answer: dict[str, Any] = reply.json()
        return answer

    def metrics(self) -> dict[str, float]:
        text = self.client.get("/metrics").text
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def stop(self) -> None:
        if hasattr(self, "client"):
            self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pod(images: Sequence[str], init_images: Sequence[str] = (), *,
        affinity: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """A Pod with one container per image (and init containers)."""
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": image}
                                           for i, image in enumerate(images)]}
    if init_images:
        spec["initContainers"] = [{"name": f"init{i}", "image": image}
                                  for i, image in enumerate(init_images)]
    if affinity is not None:
        spec["affinity"] = affinity
    meta: dict[str, Any] = {"name": "my-pod", "namespace": "my-namespace",
                            "labels": {"app": "demo"}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def review_for(obj: dict[str, Any], *, group: str = "", version: str = "v1",
               resource: str = "pods", operation: str = "CREATE",
               dry_run: bool = False) -> dict[str, Any]:
    """The reference AdmissionReview carrying ``obj``."""
    review: dict[str, Any] = json.loads((DATA / "admission-review-pod.json").read_text())
    request = review["request"]
    kind = {"group": group, "version": version, "kind": obj["kind"]}
    res = {"group": group, "version": version, "resource": resource}
    request.update(kind=kind, requestKind=kind, resource=res, requestResource=res,
                   operation=operation, dryRun=dry_run, object=copy.deepcopy(obj))
    request["name"] = obj["metadata"]["name"]
    return review


def patched(obj: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the answer's JSONPatch applied (RFC 6902, by the jsonpatch library)."""
    response = answer["response"]
    if "patch" not in response:
        return copy.deepcopy(obj)
    assert response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    result: dict[str, Any] = jsonpatch.apply_patch(obj, ops)
    return result


class SilentServer:
    """A socket that accepts connections and never answers (a hung registry)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.host = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def wait_for(predicate: Any, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())
