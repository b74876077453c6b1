"""Live mode: the real Kubernetes client against a server speaking the API wire format."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig
from tests.cluster._synthetic import node_feature, synthetic_list

from nfd.api import NODE_NAME_LABEL, Features
from nfd.cli import main
from nfd.cluster import KubeOptions, list_node_features
from nfd.errors import ClusterError, UsageError

SPEC = Path(__file__).parent / "data" / "spec-cpu-kernel.yaml"


@pytest.fixture
def state() -> ApiState:
    return ApiState(items=synthetic_list(23, seed=7, extra_every=5)["items"], max_limit=10)


@pytest.fixture
def server(state: ApiState) -> Iterator[ApiServer]:
    srv = ApiServer(state)
    yield srv
    srv.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, server: ApiServer) -> Path:
    users: dict[str, dict[str, Any]] = {
        "admin": {"token": "good-token"},
        "stranger": {"token": "wrong-token"},
        "viewer": {"token": "readonly-token"},
    }
    return write_kubeconfig(tmp_path / "kubeconfig", server.url, users, current="admin")


def test_lists_every_object_across_pages(kubeconfig: Path, state: ApiState) -> None:
    listing = list_node_features(KubeOptions(kubeconfig=str(kubeconfig), page_size=4))
    assert [i["metadata"] for i in listing.items] == [i["metadata"] for i in state.items]
    assert listing.pages == 6  # 23 objects, 4 per page
    limits = {r["query"]["limit"] for r in state.requests}
    assert limits == {"4"}
    continues = [r["query"].get("continue") for r in state.requests]
    assert continues[0] is None and all(continues[1:])
    assert {r["token"] for r in state.requests} == {"good-token"}


def test_server_smaller_page_cap_is_followed(kubeconfig: Path, state: ApiState) -> None:
    listing = list_node_features(KubeOptions(kubeconfig=str(kubeconfig), page_size=500))
    assert len(listing.items) == len(state.items)
    assert listing.pages == 3  # the server caps pages at 10


def test_context_selects_the_user(kubeconfig: Path) -> None:
    with pytest.raises(ClusterError, match=r"unauthorized \(401\)"):
        list_node_features(KubeOptions(kubeconfig=str(kubeconfig), context="stranger"))


def test_forbidden_names_the_missing_permission(kubeconfig: Path) -> None:
    with pytest.raises(ClusterError) as info:
        list_node_features(KubeOptions(kubeconfig=str(kubeconfig), context="viewer"))
    assert "forbidden (403)" in str(info.value)
    assert 'cannot list resource "nodefeatures"' in str(info.value)


def test_missing_crd_is_explained(kubeconfig: Path, state: ApiState) -> None:
    state.missing_crd = True
    with pytest.raises(ClusterError, match="is Node Feature Discovery installed"):
        list_node_features(KubeOptions(kubeconfig=str(kubeconfig)))


def test_expired_continue_token_restarts_the_listing(kubeconfig: Path, state: ApiState) -> None:
    state.expire_continue_once = True
    listing = list_node_features(KubeOptions(kubeconfig=str(kubeconfig), page_size=10))
    assert len(listing.items) == len(state.items)
    assert sum(1 for r in state.requests if "continue" not in r["query"]) == 2


def test_unreachable_server(tmp_path: Path) -> None:
    from tests.oci._registry import free_port

    config = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{free_port()}",
                              {"admin": {"token": "good-token"}}, current="admin")
    with pytest.raises(ClusterError, match="cannot reach the API server"):
        list_node_features(KubeOptions(kubeconfig=str(config), timeout=2))


def test_unknown_context_is_bad_input(kubeconfig: Path) -> None:
    with pytest.raises(UsageError, match="nope"):
        list_node_features(KubeOptions(kubeconfig=str(kubeconfig), context="nope"))


def test_exec_credential_plugin(tmp_path: Path, server: ApiServer, state: ApiState) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': "
                      "'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential', "
                      "'status': {'token': 'good-token'}}))\n")
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": sys.executable, "args": [str(plugin)],
                     "interactiveMode": "Never"}}
    config = write_kubeconfig(tmp_path / "kc", server.url, {"sso": user}, current="sso")
    listing = list_node_features(KubeOptions(kubeconfig=str(config)))
    assert len(listing.items) == len(state.items)
    assert {r["token"] for r in state.requests} == {"good-token"}


def test_kubeconfig_from_environment(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent'}{os.pathsep}{kubeconfig}")
    assert len(list_node_features(KubeOptions()).items) == 23


def test_in_cluster_service_account(tmp_path: Path, state: ApiState,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.oci._registry import issue_cert, make_ca

    ca = make_ca()
    cert = issue_cert(ca)
    (tmp_path / "server.crt").write_bytes(cert.cert_pem)
    (tmp_path / "server.key").write_bytes(cert.key_pem)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("good-token")
    (sa / "ca.crt").write_bytes(ca.cert_pem)
    srv = ApiServer(state, tls=(tmp_path / "server.crt", tmp_path / "server.key"))
    try:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(srv.port))
        listing = list_node_features(KubeOptions(in_cluster=True,
                                                 service_account_dir=str(sa)))
    finally:
        srv.close()
    assert listing.server.startswith("https://127.0.0.1:")
    assert len(listing.items) == len(state.items)


def test_cli_live_cluster_report(kubeconfig: Path, state: ApiState,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    # A node whose features satisfy nothing: the verdicts must differ per node.
    state.items.append(node_feature("bare-node", Features()))
    code = main(["compat", "validate-cluster", "--spec", str(SPEC), "--kubeconfig",
                 str(kubeconfig), "--page-size", "7", "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    names = [n["name"] for n in report["nodes"]]
    expected = {i["metadata"]["labels"][NODE_NAME_LABEL] for i in state.items}
    assert names == sorted(expected) and "bare-node" in names
    bare = next(n for n in report["nodes"] if n["name"] == "bare-node")
    assert bare["compatible"] is False
    assert report["cluster"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize(("context", "code", "text"), [
    ("stranger", 3, "unauthorized (401)"),
    ("viewer", 3, "forbidden (403)"),
    ("nope", 2, "nope"),
])
def test_cli_access_errors_are_one_line(kubeconfig: Path, context: str, code: int, text: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["compat", "validate-cluster", "--spec", str(SPEC), "--kubeconfig",
               str(kubeconfig), "--context", context])
    err = capsys.readouterr().err.strip()
    assert rc == code
    assert len(err.splitlines()) == 1 and text in err and "Traceback" not in err


def test_kubeconfig_is_never_rewritten(kubeconfig: Path) -> None:
    before = kubeconfig.read_bytes(), kubeconfig.stat()[stat.ST_MTIME]
    list_node_features(KubeOptions(kubeconfig=str(kubeconfig)))
    assert (kubeconfig.read_bytes(), kubeconfig.stat()[stat.ST_MTIME]) == before
