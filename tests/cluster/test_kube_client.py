"""The one Kubernetes client: reads (NodeFeature pages), streams (watches) and writes
(NodeFeatureRules) go through the same transport, with the kubeconfig's proxy, CA and TLS
server name."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cluster._apiserver import LIST_PATH, ApiServer, ApiState, Watches, write_kubeconfig
from tests.oci._registry import issue_cert, make_ca

from nfd.cluster import KubeClient, KubeOptions, kube_client, list_node_features
from nfd.cluster._kubeconfig import load_access
from nfd.errors import ClusterError
from nfd.webhook._plan import owner_annotations
from nfd.webhook._rules import RuleWriter

# A rule as the webhook writes it: ours by label, this image's by annotation.
RULE: dict[str, Any] = {
    "apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureRule",
    "metadata": {"name": "image-compat-x",
                 "labels": {"app.kubernetes.io/managed-by": "nfd-compat-webhook"},
                 "annotations": owner_annotations("registry.example.com/app:v1", None)},
    "spec": {"rules": []}}


@pytest.fixture
def named_tls_server(tmp_path: Path) -> Iterator[tuple[ApiServer, bytes]]:
    """An API server whose certificate names only kube.internal (not 127.0.0.1)."""
    ca = make_ca()
    cert = issue_cert(ca, ("kube.internal",))
    (tmp_path / "server.crt").write_bytes(cert.cert_pem)
    (tmp_path / "server.key").write_bytes(cert.key_pem)
    server = ApiServer(ApiState(items=[]), tls=(tmp_path / "server.crt", tmp_path / "server.key"))
    yield server, ca.cert_pem
    server.close()


def _kubeconfig(path: Path, server: str, cluster: dict[str, Any]) -> Path:
    write_kubeconfig(path, server, {"admin": {"token": "good-token"}}, current="admin")
    doc = yaml.safe_load(path.read_text())
    doc["clusters"][0]["cluster"].update(cluster)
    path.write_text(yaml.safe_dump(doc))
    return path


def _stream(config: Path) -> tuple[int, list[bytes]]:
    """A watch-like stream through the client of ``config``: its status and lines."""
    client = kube_client(KubeOptions(kubeconfig=str(config), timeout=5))
    try:
        with client.stream_lines("GET", LIST_PATH, params={"watch": "1"}, what="watching",
                                 max_line_bytes=64, max_bytes=1024, idle_timeout=5,
                                 timeout=5) as stream:
            if stream.status != 200:
                return stream.status, [stream.error_body()]
            return stream.status, list(stream)
    finally:
        client.close()


def test_tls_server_name_is_used_for_reads_and_writes(
        tmp_path: Path, named_tls_server: tuple[ApiServer, bytes]) -> None:
    server, ca_pem = named_tls_server
    ca = {"certificate-authority-data": base64.b64encode(ca_pem).decode()}
    good = _kubeconfig(tmp_path / "good", server.url, {**ca, "tls-server-name": "kube.internal"})
    assert list_node_features(KubeOptions(kubeconfig=str(good), timeout=5)).items == []
    assert RuleWriter(kubeconfig=str(good))(RULE) == "created"
    assert server.state.rule_writes == [("POST", "image-compat-x")]
    server.state.fault = watches = Watches()
    watches.answers.append([b'{"type": "BOOKMARK",', b' "object": {}}\n{}\n'])
    assert _stream(good) == (200, [b'{"type": "BOOKMARK", "object": {}}', b"{}"])

    bad = _kubeconfig(tmp_path / "bad", server.url, ca)  # the certificate does not name the IP
    with pytest.raises(ClusterError, match="certificate is not trusted"):
        _stream(bad)
    with pytest.raises(ClusterError, match="certificate is not trusted"):
        list_node_features(KubeOptions(kubeconfig=str(bad), timeout=5))
    with pytest.raises(ClusterError, match="certificate is not trusted"):
        RuleWriter(kubeconfig=str(bad))(RULE)


def test_proxy_url_is_used_for_writes(tmp_path: Path) -> None:
    """The API server's name does not resolve: only the proxy (our server) can answer."""
    server = ApiServer(ApiState(items=[]))
    try:
        config = _kubeconfig(tmp_path / "kc", "http://kube.example.invalid:6443",
                             {"proxy-url": server.url})
        writer = RuleWriter(kubeconfig=str(config), timeout=5)
        assert writer(RULE) == "created"
        assert writer(RULE) == "unchanged"
        server.state.fault = watches = Watches()
        watches.answers.append([b"{}\n"])
        assert _stream(config) == (200, [b"{}"])
    finally:
        server.close()
    assert server.state.rule_writes == [("POST", "image-compat-x")]


def test_write_errors_are_one_line_and_hold_no_token(tmp_path: Path) -> None:
    server = ApiServer(ApiState(items=[], tokens={"other"}))
    try:
        config = _kubeconfig(tmp_path / "kc", server.url, {})
        with pytest.raises(ClusterError) as caught:
            RuleWriter(kubeconfig=str(config), timeout=5)(RULE)
    finally:
        server.close()
    message = str(caught.value)
    assert "HTTP 401" in message and "good-token" not in message and "\n" not in message
    # the 401 reloaded the credentials once, then gave up
    assert [r["method"] for r in server.state.requests] == ["POST", "POST"]


def test_a_stream_reloads_rotated_credentials_on_401(tmp_path: Path) -> None:
    """As a service account's token rotates on disk: a 401 loads the access once more."""
    server = ApiServer(ApiState(items=[], fault=Watches()))
    config = _kubeconfig(tmp_path / "kc", server.url, {})
    rotated = tmp_path / "rotated"
    write_kubeconfig(rotated, server.url, {"admin": {"token": "stale-token"}}, current="admin")
    paths = [str(rotated), str(config)]
    client = KubeClient(lambda: load_access(paths.pop(0), None, False), 5, reload_on_401=True)
    try:
        with client.stream_lines("GET", LIST_PATH, params={"watch": "1"}, what="watching",
                                 max_line_bytes=64, max_bytes=1024, idle_timeout=5,
                                 timeout=5) as stream:
            assert stream.status == 200 and list(stream) == []
    finally:
        client.close()
        server.close()
    assert [r["token"] for r in server.state.requests] == ["stale-token", "good-token"]


def test_a_stream_is_refused_in_our_words_and_without_the_token(tmp_path: Path) -> None:
    server = ApiServer(ApiState(items=[], tokens={"other"}))
    try:
        config = _kubeconfig(tmp_path / "kc", server.url, {})
        status, body = _stream(config)
        server.state.tokens.add("good-token")
        server.state.fault = watches = Watches()
        watches.answers.append([b"x" * 65])
        with pytest.raises(ClusterError) as caught:
            _stream(config)
    finally:
        server.close()
    assert status == 401 and b"Unauthorized" in body[0] and b"good-token" not in body[0]
    assert str(caught.value) == "watching: a line over 64 bytes"
