"""Live mode: the real Kubernetes client against a server speaking the API wire format,
well behaved and hostile (loops, trickles, endless or non-UTF-8 bodies, hung plugins)."""

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
from tests.oci._fake_registry import send_endless, trickle

from nfd.api import NODE_NAME_LABEL, Features
from nfd.cli import main
from nfd.cluster import KubeOptions, iter_pages, list_node_features
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


# -- a hostile API server: each attack ends in a one-line ClusterError within its bound --

def _fast(kubeconfig: Path, **extra: Any) -> KubeOptions:
    return KubeOptions(kubeconfig=str(kubeconfig), **{"timeout": 1.5, **extra})


def _bounded(seconds: float) -> Any:
    import contextlib
    import time

    @contextlib.contextmanager
    def clocked() -> Iterator[None]:
        started = time.monotonic()
        yield
        assert time.monotonic() - started < seconds

    return clocked()


def _json_reply(handler: Any, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_repeating_continue_token_is_a_loop(kubeconfig: Path, state: ApiState) -> None:
    def loop(handler: Any, query: dict[str, str]) -> bool:
        _json_reply(handler, json.dumps({"metadata": {"continue": "same"},
                                         "items": []}).encode())
        return True

    state.fault = loop
    with _bounded(10), pytest.raises(ClusterError, match="pagination loop"):
        list_node_features(_fast(kubeconfig))
    assert len(state.requests) == 2


def test_pages_are_capped(kubeconfig: Path, state: ApiState) -> None:
    def fresh_token(handler: Any, query: dict[str, str]) -> bool:
        token = str(int(query.get("continue", "0")) + 1)
        _json_reply(handler, json.dumps({"metadata": {"continue": token},
                                         "items": []}).encode())
        return True

    state.fault = fresh_token
    with pytest.raises(ClusterError, match="more than 5 pages"):
        list_node_features(_fast(kubeconfig, max_pages=5))
    assert len(state.requests) == 5


@pytest.mark.parametrize("where", ["headers", "body"])
def test_trickled_answer_stops_at_the_request_timeout(kubeconfig: Path, state: ApiState,
                                                      where: str) -> None:
    def slow(handler: Any, query: dict[str, str]) -> bool:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if where == "headers":
            trickle(handler, head * 100, 0.1)
        else:
            handler.wfile.write(head + b"Content-Length: 100000\r\n\r\n")
            trickle(handler, b'{"items": [' + b" " * 1000, 0.1)
        return True

    state.fault = slow
    with _bounded(5), pytest.raises(ClusterError, match=r"timed out after 1\.5s"):
        list_node_features(_fast(kubeconfig))


def test_endless_body_is_cut_at_the_page_cap(kubeconfig: Path, state: ApiState) -> None:
    def endless(handler: Any, query: dict[str, str]) -> bool:
        send_endless(handler, 200, {"Content-Type": "application/json"})
        return True

    state.fault = endless
    with _bounded(10), pytest.raises(ClusterError, match="a page over 2000000 bytes"):
        list_node_features(_fast(kubeconfig, timeout=20, max_page_bytes=2_000_000))


def test_invalid_utf8_is_a_one_line_cluster_error(kubeconfig: Path, state: ApiState,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def latin1(handler: Any, query: dict[str, str]) -> bool:
        _json_reply(handler, b'{"items": [], "metadata": {"x": "caf\xe9"}}')
        return True

    state.fault = latin1
    rc = main(["compat", "validate-cluster", "--spec", str(SPEC), "--kubeconfig",
               str(kubeconfig)])
    err = capsys.readouterr().err.strip()
    assert rc == 3 and len(err.splitlines()) == 1 and "not UTF-8" in err, err


def test_exec_plugin_that_never_answers_times_out(tmp_path: Path, server: ApiServer) -> None:
    pid_file = tmp_path / "plugin.pid"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
                      "time.sleep(3600)\n")
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": sys.executable, "args": [str(plugin)]}}
    config = write_kubeconfig(tmp_path / "kc", server.url, {"sso": user}, current="sso")
    with _bounded(10), pytest.raises(ClusterError, match="did not answer within 1s"):
        list_node_features(KubeOptions(kubeconfig=str(config), exec_timeout=1))
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed, not left behind
        for _ in range(50):
            os.kill(pid, 0)
            import time
            time.sleep(0.1)


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "0"])
def test_unusable_request_timeout_is_a_usage_error(kubeconfig: Path, value: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["compat", "validate-cluster", "--spec", str(SPEC), "--kubeconfig",
               str(kubeconfig), "--request-timeout", value])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "--request-timeout" in err, err


def test_pages_are_an_iterator_restarted_after_410(kubeconfig: Path, state: ApiState) -> None:
    state.expire_continue_once = True
    numbers = [page.number for page in iter_pages(_fast(kubeconfig, page_size=10))]
    assert numbers == [1, 1, 2, 3]


def test_kubeconfig_proxy_url_is_used(tmp_path: Path, server: ApiServer,
                                      state: ApiState) -> None:
    import yaml

    # The API server's name does not resolve: only the proxy (our server) can answer.
    config = write_kubeconfig(tmp_path / "kc", "http://kube.example.invalid:6443",
                              {"admin": {"token": "good-token"}}, current="admin")
    doc = yaml.safe_load(config.read_text())
    doc["clusters"][0]["cluster"]["proxy-url"] = server.url
    config.write_text(yaml.safe_dump(doc))
    listing = list_node_features(KubeOptions(kubeconfig=str(config), timeout=5))
    assert len(listing.items) == len(state.items)
    assert listing.server == "http://kube.example.invalid:6443"
