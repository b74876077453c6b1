"""``nfd compat job --verify``: the trust material is in the pod (a ConfigMap of the Notation
policy and store, or the cosign key of a Secret), mounted read-only, and validate-node's
flags point at it; every inconsistent combination is exit 2 before anything is emitted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.serialization import Encoding
from tests.cluster.conftest import k8s_validate
from tests.trust._signers import Pki

from nfd.cli import main
from nfd.cluster import JobOptions, build_job, build_trust_configmap
from nfd.cluster._job import COSIGN_DIR, NOTATION_DIR
from nfd.errors import UsageError
from nfd.trust import NotationVerifier

IMAGE = "registry.example.com/app:v1"


def write_policy(config: Path, store: str = "acme", name: str = "trustpolicy.json") -> Path:
    """A Notation config directory with a strict policy trusting one root for any identity."""
    directory = config / "truststore" / "x509" / "ca" / store
    directory.mkdir(parents=True)
    (directory / "root.crt").write_bytes(Pki().cert.public_bytes(Encoding.PEM))
    policy = config / name
    policy.write_text(json.dumps({"version": "1.0", "trustPolicies": [{
        "name": "specs", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": [f"ca:{store}"], "trustedIdentities": ["*"]}]}))
    return policy


def emit(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["compat", "job", "--image", IMAGE, *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    document: dict[str, Any] = yaml.safe_load(out)
    k8s_validate(document)
    return document


def _container(job: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


def test_notation_policy_and_store_travel_in_a_configmap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write_policy(tmp_path / "notation")
    listed = emit(capsys, "--node", "worker-1", "-n", "checks", "--verify", "notation",
                  "--trust-configmap", "nfd-trust", "--trust-policy", str(policy))
    configmap, job = listed["items"]
    assert configmap["kind"] == "ConfigMap" and configmap["metadata"]["name"] == "nfd-trust"
    assert configmap["metadata"]["namespace"] == job["metadata"]["namespace"] == "checks"
    assert configmap["data"]["trustpolicy.json"] == policy.read_text()
    assert "BEGIN CERTIFICATE" in configmap["data"]["ca.acme.certificates.pem"]
    volume = next(v for v in job["spec"]["template"]["spec"]["volumes"]
                  if v.get("configMap"))
    assert volume["configMap"]["items"] == [
        {"key": "trustpolicy.json", "path": "trustpolicy.json"},
        {"key": "ca.acme.certificates.pem",
         "path": "truststore/x509/ca/acme/certificates.pem"}]
    container = _container(job)
    mounts = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mounts == [
        {"name": "trust-policy", "mountPath": f"{NOTATION_DIR}/trustpolicy.json",
         "subPath": "trustpolicy.json", "readOnly": True},
        {"name": "trust-policy", "mountPath": f"{NOTATION_DIR}/truststore",
         "subPath": "truststore", "readOnly": True}]
    args = container["args"]
    assert args[-5:] == ["--verify", "notation", "--trust-policy",
                         f"{NOTATION_DIR}/trustpolicy.json", "--output-json"]
    # What the pod reads is what was checked here: the same policy, the same roots.
    pod_view = tmp_path / "pod"
    for item in volume["configMap"]["items"]:
        (pod_view / item["path"]).parent.mkdir(parents=True, exist_ok=True)
        (pod_view / item["path"]).write_text(configmap["data"][item["key"]])
    assert NotationVerifier(pod_view / "trustpolicy.json").policy_id == \
        NotationVerifier(policy).policy_id


def test_notation_default_policy_and_several_nodes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Notation's own location (here its 2.x name) is read when no --trust-policy is given;
    with --nodes the ConfigMap comes once, before the Jobs."""
    write_policy(tmp_path / "notation", name="trustpolicy.oci.json")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("a\nb\n")
    listed = emit(capsys, "--nodes", str(nodes), "--verify", "notation",
                  "--trust-configmap", "nfd-trust")
    assert [i["kind"] for i in listed["items"]] == ["ConfigMap", "Job", "Job"]
    assert "trustpolicy.oci.json" in listed["items"][0]["data"]
    for job in listed["items"][1:]:
        assert f"{NOTATION_DIR}/trustpolicy.oci.json" in _container(job)["args"]


def test_cosign_keys_from_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    job = emit(capsys, "--node", "worker-1", "--verify", "cosign", "--cosign-key-secret",
               "cosign", "--cosign-key-secret", "team-keys:release.pub")
    pod = job["spec"]["template"]["spec"]
    secrets = [v for v in pod["volumes"] if v.get("secret")]
    # Only the public key is mounted: `cosign generate-key-pair k8s://` also stores
    # cosign.key and cosign.password in the same Secret.
    assert [v["secret"]["items"] for v in secrets] == [
        [{"key": "cosign.pub", "path": "cosign.pub"}],
        [{"key": "release.pub", "path": "release.pub"}]]
    container = _container(job)
    assert all(m["readOnly"] for m in container["volumeMounts"])
    assert container["args"][-7:-1] == [
        "--verify", "cosign", "--cosign-key", f"{COSIGN_DIR}/0/cosign.pub",
        "--cosign-key", f"{COSIGN_DIR}/1/release.pub"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--verify", "notation"], "--verify notation in a Job needs --trust-configmap NAME"),
    (["--verify", "cosign"], "--verify cosign in a Job needs --cosign-key-secret"),
    (["--trust-configmap", "t"], "--trust-configmap carries a Notation trust policy"),
    (["--cosign-key-secret", "k"], "--cosign-key-secret goes with --verify cosign"),
    (["--verify", "notation", "--trust-configmap", "t", "--cosign-key-secret", "k"],
     "--cosign-key-secret goes with --verify cosign"),
    (["--verify", "cosign", "--cosign-key-secret", "k", "--trust-configmap", "t"],
     "--trust-configmap carries"),
    (["--verify", "cosign", "--trust-policy", "p.json", "--cosign-key-secret", "k"],
     "--trust-policy names what --trust-configmap carries"),
    (["--verify", "cosign", "--cosign-key-secret", "Bad_Name"], "not a Secret name"),
    (["--verify", "cosign", "--cosign-key-secret", "k:a/b"], "not a Secret name"),
    (["--verify", "cosign", "--cosign-key-secret", "k:.."], "not a Secret name"),
    (["--verify", "cosign", "--cosign-key-secret", "k", "--cosign-key-secret", "k:cosign.pub"],
     "a key is given twice"),
    (["--verify", "notation", "--trust-configmap", "t", "--trust-policy", "missing.json"],
     "trust policy missing.json: No such file"),
    (["--", "--verify", "cosign"], "'--verify' is refused: the pod needs the trust material: "
     "use --verify with --trust-configmap or --cosign-key-secret"),
    (["--", "--verify=notation"], "use --verify with --trust-configmap"),
    (["--verify", "cosign", "--cosign-key-secret", "k", "--", "--cosign-key", "k.pub"],
     "'--cosign-key' is refused: a file here is not in the pod: use --cosign-key-secret"),
    (["--", "--trust-policy", "p.json"], "use --trust-configmap"),
])
def test_inconsistent_combinations_are_exit_2(args: list[str], needle: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compat", "job", "--image", IMAGE, *args])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_store_names_that_cannot_be_keys_are_refused(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "notation", store="acme roots")
    files = tuple(NotationVerifier(policy).trust_files().items())
    with pytest.raises(UsageError, match="cannot be a ConfigMap key"):
        build_trust_configmap(JobOptions(image=IMAGE, verify="notation",
                                         trust_configmap="t", trust_files=files))
    big = (("trustpolicy.json", b"{}"), ("truststore/x509/ca/a/c.pem", b"x" * (1 << 20)))
    with pytest.raises(UsageError, match="more than a ConfigMap holds"):
        build_job(JobOptions(image=IMAGE, verify="notation", trust_configmap="t",
                             trust_files=big))
