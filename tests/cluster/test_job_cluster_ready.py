"""Jobs a real cluster runs: private registries, tainted GPU nodes, typed host paths,
a verdict told apart from a crash, checked pass-through arguments, one Job per node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests._cli import assert_one_line_error, nfd
from tests._kubectl import as_kubectl_shows, kubectl_reader
from tests.cluster.conftest import k8s_validate

from nfd.cluster import HOST_MOUNTS, JobOptions, Toleration, build_job, build_jobs
from nfd.cluster._job import REGISTRY_AUTH_FILE
from nfd.errors import UsageError


def emit(*args: str, stdin: str | None = None) -> tuple[dict[str, Any], str]:
    proc = nfd("compat", "job", *args, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout), proc.stdout


def kubectl_read_back(text: str, workdir: Path) -> list[dict[str, Any]]:
    with kubectl_reader(workdir) as kube:
        return kube.read(text)


def pod_of(job: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job["spec"]["template"]["spec"]
    return spec


def test_gpu_node_behind_a_private_registry(tmp_path: Path) -> None:
    job, text = emit("--image", "registry.example.com/team/cuda-app:1.0", "--node", "gpu-7",
                     "--pin", "nodeSelector", "--client-image",
                     "registry.example.com/tools/nfd-client:v0.1.0",
                     "--image-pull-secret", "pull-creds", "--image-pull-secret", "mirror",
                     "--registry-auth-secret", "app-registry",
                     "--toleration", "nvidia.com/gpu:NoSchedule",
                     "--toleration", "dedicated=gpu:NoExecute")
    k8s_validate(job)
    pod = pod_of(job)
    assert pod["imagePullSecrets"] == [{"name": "pull-creds"}, {"name": "mirror"}]
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoExecute"}]
    container = pod["containers"][0]
    auth = next(v for v in pod["volumes"] if v["name"] == "registry-auth")
    assert auth["secret"]["secretName"] == "app-registry"
    assert auth["secret"]["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "registry-auth")
    assert mount["readOnly"] is True
    assert container["env"] == [{"name": "REGISTRY_AUTH_FILE", "value": REGISTRY_AUTH_FILE}]
    assert f"{mount['mountPath']}/config.json" == REGISTRY_AUTH_FILE
    # kubectl's typed codecs decode every field as we wrote it.
    assert kubectl_read_back(text, tmp_path) == as_kubectl_shows([job])


def test_host_paths_are_typed_and_never_created() -> None:
    job = build_job(JobOptions(image="app", node="worker-1"))
    k8s_validate(job)
    volumes = [v for v in pod_of(job)["volumes"] if "hostPath" in v]
    assert len(volumes) == len(HOST_MOUNTS)
    types = {v["hostPath"]["path"]: v["hostPath"]["type"] for v in volumes}
    assert types["/sys"] == "Directory" and types["/etc/os-release"] == "File"
    assert types["/proc/swaps"] == "File"
    assert all(t in ("Directory", "File") for t in types.values())
    assert not any(t.endswith("OrCreate") for t in types.values())


def test_skip_mount_leaves_a_path_out() -> None:
    job, _ = emit("--image", "app", "--node", "talos-1", "--skip-mount", "features-d",
                  "--skip-mount", "host-boot")
    k8s_validate(job)
    names = {v["name"] for v in pod_of(job)["volumes"]}
    mounts = {m["name"] for m in pod_of(job)["containers"][0]["volumeMounts"]}
    assert names == mounts == {n for n, _, _ in HOST_MOUNTS} - {"features-d", "host-boot"}


def test_not_compatible_is_a_verdict_not_a_crash() -> None:
    spec = build_job(JobOptions(image="app", backoff_limit=3))["spec"]
    rules = spec["podFailurePolicy"]["rules"]
    # Exit 1 (not compatible) and 5 (spec not trusted) end the Job at once (reason
    # PodFailurePolicy), whatever the retries: a retry cannot change either verdict.
    assert rules[0] == {"action": "FailJob", "onExitCodes": {
        "containerName": "validate-node", "operator": "In", "values": [1, 5]}}
    # A drained or preempted node is not the image's fault: not counted.
    assert rules[1] == {"action": "Ignore",
                        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
    assert not any(0 in r.get("onExitCodes", {}).get("values", []) for r in rules)
    assert spec["backoffLimit"] == 3 and spec["activeDeadlineSeconds"] == 600
    assert spec["ttlSecondsAfterFinished"] == 3600
    container = spec["template"]["spec"]["containers"][0]
    # kubectl logs shows NFD's JSON report; a one-line error becomes the termination message.
    assert container["args"][-1] == "--output-json"
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_one_job_per_node_in_a_list(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes.txt"
    nodes.write_text("# from kubectl get nodes -o name\nnode/gpu-1\n\ngpu-2  # spare\n")
    listing, text = emit("--image", "app:1", "--nodes", str(nodes), "-o", "json")
    assert listing["kind"] == "List" and listing["apiVersion"] == "v1"
    assert [pod_of(j)["nodeName"] for j in listing["items"]] == ["gpu-1", "gpu-2"]
    for job in listing["items"]:
        k8s_validate(job)
    assert len({j["metadata"]["name"] for j in listing["items"]}) == 2
    from_stdin, _ = emit("--image", "app:1", "--nodes", "-", "-o", "json",
                         stdin=nodes.read_text())
    assert from_stdin == listing
    assert kubectl_read_back(text, tmp_path) == as_kubectl_shows(json.loads(text)["items"])


@pytest.mark.parametrize(("args", "parts"), [
    (["--", "--registry-password-stdin"], ["--registry-password-stdin", "no stdin"]),
    (["--", "--registry-token-stdin"], ["--registry-token-stdin", "no stdin"]),
    (["--", "--registry-username", "bob"], ["--registry-username", "--registry-auth-secret"]),
    (["--", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["--", "--plain", "x"], ["unrecognized arguments"]),
    (["--", "--timeout", "soon"], ["--timeout", "soon"]),
    (["--", "--artifact-digest", "sha256:xyz"], ["--artifact-digest", "not a digest"]),
    (["--", "--output", "table"], ["--output", "--output-json"]),
    (["--", "-otable"], ["-otable"]),
    (["--", "--output-json"], ["--output-json", "the Job sets it"]),
    (["--", "--image=other"], ["--image=other"]),
    (["--", "--spec", "x.yaml"], ["--spec"]),
    (["--", "--host-root", "/"], ["--host-root"]),
    (["--", "-h"], ["-h"]),
    (["--node", "Worker_7"], ["Worker_7", "RFC 1123"]),
    (["--node=-worker"], ["-worker", "RFC 1123"]),
    (["--toleration", "nvidia.com/gpu"], ["nvidia.com/gpu", "KEY[=VALUE]:EFFECT"]),
    (["--toleration", "gpu:Sometimes"], ["gpu:Sometimes", "NoSchedule"]),
    (["--toleration", "bad key!:NoSchedule"], ["bad key!", "taint key"]),
    (["--toleration", "k=v v:NoSchedule"], ["taint value"]),
    (["--image-pull-secret", "Bad_Name"], ["Bad_Name", "RFC 1123"]),
    (["--registry-auth-secret", "x" * 254], ["not a Kubernetes object name"]),
    (["--skip-mount", "host-etc"], ["--skip-mount", "host-etc"]),
    (["--deadline-seconds", "0"], ["--deadline-seconds"]),
])
def test_refused(args: list[str], parts: list[str]) -> None:
    assert_one_line_error(nfd("compat", "job", "--image", "app", *args), 2, *parts)


@pytest.mark.parametrize(("text", "parts"), [
    ("gpu-1\nGPU_2\n", ["line 2", "GPU_2"]),
    ("gpu-1\ngpu-1\n", ["gpu-1", "twice"]),
    ("# nothing\n\n", ["no node names"]),
])
def test_bad_node_lists(text: str, parts: list[str]) -> None:
    assert_one_line_error(nfd("compat", "job", "--image", "app", "--nodes", "-", stdin=text),
                          2, *parts)


def test_node_list_bounds(tmp_path: Path) -> None:
    big = tmp_path / "nodes"
    big.write_bytes(b"n\n" * ((1 << 20) // 2 + 1))
    assert_one_line_error(nfd("compat", "job", "--image", "app", "--nodes", str(big)), 2,
                          "more than")
    assert_one_line_error(nfd("compat", "job", "--image", "app", "--nodes", "-",
                              "--job-name", "one", stdin="a\nb\n"), 2, "--job-name")
    assert_one_line_error(nfd("compat", "job", "--image", "app", "--nodes",
                              str(tmp_path / "missing")), 2, "missing")
    with pytest.raises(UsageError, match="more than 5000"):
        build_jobs(JobOptions(image="app"), [f"n{i}" for i in range(5001)])


def test_passed_through_arguments_reach_validate_node() -> None:
    job, _ = emit("--image", "app", "--platform", "linux/arm64", "--",
                  "--plain-http", "--timeout", "5", "--artifact-digest", "sha256:" + "a" * 64)
    args = pod_of(job)["containers"][0]["args"]
    assert args[args.index("--host-prefix") + 1:] == [
        "/host-", "--platform", "linux/arm64", "--plain-http", "--timeout", "5",
        "--artifact-digest", "sha256:" + "a" * 64, "--output-json"]


def test_toleration_library() -> None:
    assert Toleration.parse("example.com/spot=true:PreferNoSchedule").to_obj() == {
        "key": "example.com/spot", "operator": "Equal", "value": "true",
        "effect": "PreferNoSchedule"}
    with pytest.raises(UsageError, match="taint key"):
        Toleration.parse("=v:NoSchedule")
