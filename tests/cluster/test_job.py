"""``nfd compat job``: a valid, hardened Job running validate-node on the chosen node."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from tests.cluster.conftest import k8s_validate

from nfd.cli import main
from nfd.cluster import HOST_MOUNTS, JobOptions, build_job
from nfd.errors import UsageError


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["compat", "job", *args])
    out, err = capsys.readouterr()
    return code, (yaml.safe_load(out) if out else {}), err


def test_job_on_a_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, job, _ = run(capsys, "--image", "registry.example.com/app:1.0", "--node", "worker-7",
                       "--namespace", "tools", "--tags", "gpu", "--", "--plain-http")
    assert code == 0
    k8s_validate(job)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeName"] == "worker-7" and pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    assert container["command"] + container["args"] == [
        "nfd", "compat", "validate-node", "--image", "registry.example.com/app:1.0",
        "--host-prefix", "/host-", "--tags", "gpu", "--plain-http", "--output-json"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"][
        "runAsUser"] != 0
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    expected = {"/boot": "/host-boot", "/etc/os-release": "/host-etc/os-release",
                "/sys": "/host-sys", "/proc/swaps": "/host-proc/swaps",
                "/usr/lib": "/host-usr/lib", "/lib": "/host-lib",
                "/etc/kubernetes/node-feature-discovery/features.d":
                    "/etc/kubernetes/node-feature-discovery/features.d"}
    assert {volumes[name]: m["mountPath"] for name, m in mounts.items()} == expected
    assert all(m["readOnly"] for m in mounts.values())
    assert job["metadata"]["namespace"] == "tools"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] == 3600


def test_node_selector_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compat", "job", "--image", "app", "--node", "worker-7", "--pin",
                 "nodeSelector", "--client-image", "example.com/nfd-client:dev",
                 "--backoff-limit", "2", "--ttl-seconds", "60", "-o", "json"])
    job = json.loads(capsys.readouterr().out)
    k8s_validate(job)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/hostname": "worker-7"}
    assert "nodeName" not in pod and pod["containers"][0]["image"] == "example.com/nfd-client:dev"
    assert (job["spec"]["backoffLimit"], job["spec"]["ttlSecondsAfterFinished"]) == (2, 60)
    assert code == 0


def test_names_are_valid_and_deterministic() -> None:
    long_node = "ip-10-0-0-1." + "a" * 200
    first = build_job(JobOptions(image="app", node=long_node))
    k8s_validate(first)
    name = first["metadata"]["name"]
    assert len(name) <= 63 and name == build_job(JobOptions(image="app", node=long_node))[
        "metadata"]["name"]
    assert name != build_job(JobOptions(image="other", node=long_node))["metadata"]["name"]
    assert len(HOST_MOUNTS) == 7


@pytest.mark.parametrize(("args", "needle"), [
    (["--image", "app", "--backoff-limit", "-1"], "--backoff-limit"),
    (["--image", "app", "--node", "n" * 70, "--pin", "nodeSelector"], "label value"),
    (["--image", "Not A Ref"], "invalid image reference"),
    (["--node", "x"], "--image"),
])
def test_bad_input(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and needle in err and "Traceback" not in err


def test_library_refuses_bad_ttl() -> None:
    with pytest.raises(UsageError, match="`ttl_seconds`"):
        build_job(JobOptions(image="app", ttl_seconds=-5))


@pytest.mark.parametrize(("args", "needle"), [
    (["--", "--platform=bogus"], "invalid platform 'bogus'"),
    (["--", "--platform", "linux/amd64/v9/x"], "invalid platform"),
    (["--", "--timeout=nan"], "--timeout must be a number"),
    (["--", "--timeout", "0"], "--timeout must be a number"),
    (["--", "--timeout=1e308"], "--timeout must be a number"),
    (["--", "--tags", 'a"b'], "bare \""),
    (["--", "--artifact-digest", "sha256:00"], "is not a digest"),
    (["--image", "Bad Ref:x"], "invalid image reference"),
    (["--job-name", "Bad_Name"], "--job-name 'Bad_Name': not a Job name"),
    (["--job-name", "a" * 64], "not a Job name"),
    (["--job-name=-a"], "not a Job name"),
    (["--namespace", "kube.system"], "--namespace 'kube.system': not a namespace name"),
    (["--namespace", "A"], "not a namespace name"),
    (["--namespace", "n" * 64], "not a namespace name"),
])
def test_values_refused_before_anything_is_emitted(
        args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    """validate-node's own value checks run on what `job` passes on, and the Job's name
    and namespace are checked as Kubernetes checks them: exit 2, nothing on stdout."""
    image = ["--image", "registry.example.com/app:v1"] if "--image" not in args else []
    code = main(["compat", "job", *image, *args])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_valid_names_and_pass_through_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, job, _ = run(capsys, "--image", "registry.example.com/app:v1", "--job-name",
                       "a" * 63, "--namespace", "n" * 63, "--", "--timeout", "5",
                       "--platform", "linux/arm64/v8", "--tags", "a,b")
    assert code == 0
    assert job["metadata"] == {**job["metadata"], "name": "a" * 63, "namespace": "n" * 63}
    assert "--timeout" in job["spec"]["template"]["spec"]["containers"][0]["args"]
