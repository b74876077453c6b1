"""Kubeconfig, tokens and exec plugins, read as client-go reads them; secrets never printed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig

from nfd.cli import main
from nfd.cluster import KubeOptions, list_node_features, load_access
from nfd.errors import ClusterError, UsageError

SPEC = Path(__file__).parent / "data" / "spec-cpu-kernel.yaml"
SECRET = "s3cr3t-T0ken-value"


@pytest.fixture
def server() -> Iterator[ApiServer]:
    srv = ApiServer(ApiState(items=[], tokens={SECRET}))
    yield srv
    srv.close()


def _config(tmp_path: Path, server: ApiServer, user: dict[str, Any]) -> Path:
    return write_kubeconfig(tmp_path / "kc", server.url, {"u": user}, current="u")


def _cli(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["compat", "validate-cluster", "--spec", str(SPEC), "--kubeconfig", str(config)])
    return code, capsys.readouterr().err


def _plugin(tmp_path: Path, answer: Any) -> dict[str, Any]:
    plugin = tmp_path / "plugin.py"
    text = answer if isinstance(answer, str) else json.dumps(answer)
    plugin.write_text(f"import sys\nsys.stdout.write({text!r})\n")
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                     "args": [str(plugin)], "interactiveMode": "Never"}}


def _credential(status: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
            "status": status, **top}


@pytest.mark.parametrize("written", [f"{SECRET}\n", f"  {SECRET}\r\n\n", f"\t{SECRET} \n"])
def test_token_file_is_trimmed_as_client_go_trims_it(written: str, tmp_path: Path,
                                                     server: ApiServer) -> None:
    """``echo token > file``: client-go's file token source applies strings.TrimSpace."""
    (tmp_path / "token").write_text(written)
    config = _config(tmp_path, server, {"tokenFile": "token"})  # relative to the kubeconfig
    list_node_features(KubeOptions(kubeconfig=str(config)))
    assert {r["token"] for r in server.state.requests} == {SECRET}


def test_inline_token_trailing_blanks_are_dropped_as_go_does(tmp_path: Path,
                                                             server: ApiServer) -> None:
    config = _config(tmp_path, server, {"token": f"{SECRET}  \t"})
    list_node_features(KubeOptions(kubeconfig=str(config)))
    assert {r["token"] for r in server.state.requests} == {SECRET}


@pytest.mark.parametrize(("user", "code", "field"), [
    ({"token": f"{SECRET}\n"}, 2, "user 'u'.token"),  # a `token: |` block
    ({"token": f"{SECRET}\nmore"}, 2, "user 'u'.token"),
    ({"token": f"{SECRET}\x1b[2J"}, 2, "user 'u'.token"),
])
def test_inline_token_with_a_line_break_is_refused_unprinted(
        user: dict[str, Any], code: int, field: str, tmp_path: Path, server: ApiServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    """kubectl refuses these too (net/http: invalid header field value)."""
    rc, err = _cli(_config(tmp_path, server, user), capsys)
    assert rc == code and len(err.strip().splitlines()) == 1, err
    assert field in err and "control character" in err
    assert SECRET not in err and SECRET[:8] not in err
    assert server.state.requests == []


@pytest.mark.parametrize(("answer", "needle"), [
    (_credential({"token": f"{SECRET}\n"}), "status.token: the token holds a line break"),
    (_credential({"token": "tökén-" + SECRET}), "status.token: the token holds non-ASCII"),
    (_credential({"token": 42}), "status.token: not a string"),
    (_credential({"token": SECRET, "expirationTimestamp": "tomorrow"}),
     "status.expirationTimestamp: 'tomorrow' is not an RFC 3339 time"),
    (_credential({"token": SECRET, "expirationTimestamp": "2024-13-01T00:00:00Z"}),
     "status.expirationTimestamp"),
    (_credential({"token": SECRET, "expirationTimestamp": 5}),
     "status.expirationTimestamp: not a string"),
    (_credential({"token": SECRET}, kind="Secret"), "kind: 'Secret', not 'ExecCredential'"),
    (_credential({"token": SECRET}, apiVersion="v9"), "apiVersion: 'v9'"),
    (_credential({}), "neither a token nor a client certificate"),
    (_credential({"clientCertificateData": "x"}), "without its key"),
    (_credential("nope"), "status: missing or not an object"),
    ("[1, 2]", "not a JSON object"),
    ("{\"apiVersion\": ", "not a JSON ExecCredential"),
    ("\xff\xfe", "not a JSON ExecCredential"),
])
def test_exec_answers_are_checked_field_by_field(
        answer: Any, needle: str, tmp_path: Path, server: ApiServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _cli(_config(tmp_path, server, _plugin(tmp_path, answer)), capsys)
    assert rc == 3 and len(err.strip().splitlines()) == 1, err
    assert needle in err and "Traceback" not in err
    assert SECRET not in err


def test_exec_token_with_trailing_blanks_and_a_valid_expiry(tmp_path: Path,
                                                            server: ApiServer) -> None:
    answer = _credential({"token": SECRET + " ", "expirationTimestamp": "2030-01-02T03:04:05Z"})
    config = _config(tmp_path, server, _plugin(tmp_path, answer))
    list_node_features(KubeOptions(kubeconfig=str(config)))
    assert {r["token"] for r in server.state.requests} == {SECRET}


@pytest.mark.parametrize(("change", "needle"), [
    ({"current-context": None}, "no current-context"),
    ({"users": [{"name": "u", "user": {"auth-provider": {"name": "gcp"}}}]},
     "auth-provider 'gcp': not supported"),
    ({"users": [{"name": "u", "user": {"as-groups": ["a"]}}]}, "as-groups: not supported"),
    ({"clusters": [{"name": "test", "cluster": {"server": "ftp://x"}}]}, "expected an http(s)"),
    ({"contexts": [{"name": "u", "context": {"cluster": "gone", "user": "u"}}]},
     "no cluster named 'gone'"),
    ({"clusters": "x"}, "clusters must be a list"),
    ({"users": [{"name": "u", "user": {"client-key-data": "%%"}}]}, "not base64"),
])
def test_kubeconfig_faults_are_one_line_usage_errors(change: dict[str, Any], needle: str,
                                                     tmp_path: Path, server: ApiServer) -> None:
    config = _config(tmp_path, server, {"token": SECRET})
    doc = yaml.safe_load(config.read_text())
    doc.update(change)
    config.write_text(yaml.safe_dump(doc))
    with pytest.raises(UsageError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        load_access(str(config), None, False)


def test_kubeconfig_list_merges_first_wins(tmp_path: Path, server: ApiServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """clientcmd: the first file naming a user (or setting current-context) wins."""
    first = write_kubeconfig(tmp_path / "a", server.url, {"u": {"token": SECRET}}, current="u")
    second = write_kubeconfig(tmp_path / "b", "http://127.0.0.1:1",
                              {"u": {"token": "other"}, "v": {"token": "v"}}, current="v")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}:{second}")
    access = load_access(None, None, False)
    assert access.server == server.url and access.headers["Authorization"] == f"Bearer {SECRET}"
    assert load_access(None, "v", False).headers["Authorization"] == "Bearer v"


def test_kubeconfig_is_read_as_kubectl_reads_yaml(tmp_path: Path, server: ApiServer) -> None:
    """A plain `1:30` is the string kubectl reads, not YAML 1.1's 90."""
    config = tmp_path / "kc"
    config.write_text(f"apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n"
                      f"- name: k\n  cluster: {{server: '{server.url}'}}\n"
                      "users:\n- name: u\n  user: {token: 1:30}\n"
                      "contexts:\n- name: c\n  context: {cluster: k, user: u}\n")
    assert load_access(str(config), None, False).headers["Authorization"] == "Bearer 1:30"


def test_http_layer_errors_are_worded_by_us(tmp_path: Path, server: ApiServer,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A header httpx refuses (an impersonated user with a line break): our words, not
    the transport's text (which quotes the headers it was given)."""
    config = _config(tmp_path, server, {"token": SECRET, "as": "admin\nX-Evil: 1"})
    with pytest.raises(ClusterError) as caught:
        list_node_features(KubeOptions(kubeconfig=str(config)))
    message = str(caught.value)
    assert "not valid HTTP" in message and SECRET not in message and "X-Evil" not in message
