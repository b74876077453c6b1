"""Every object we print for kubectl, created for real by the real API server (not a dry
run): the NodeFeatureRule (``affinity``, through NFD v0.19.0's CRD schema), workloads
patched by ``affinity --patch``, the Jobs of ``job`` and the objects of ``webhook
manifests``; read back, each is what we emitted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from tests._cli import nfd
from tests.cluster.test_affinity import POD_SPEC, workloads
from tests.kube._control_plane import NODE_NAME, ControlPlane
from tests.kube.conftest import DATA

NAMESPACE = "emitted"
PLURALS = {"Pod": "pods", "Deployment": "deployments", "StatefulSet": "statefulsets",
           "DaemonSet": "daemonsets", "ReplicaSet": "replicasets", "Job": "jobs",
           "CronJob": "cronjobs"}


def _ok(*args: str) -> str:
    done = nfd(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _get(cluster: ControlPlane, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    done = cluster.kubectl("get", "-n", namespace, f"{obj['kind']}/{obj['metadata']['name']}",
                           "-o", "json")
    stored: dict[str, Any] = json.loads(done.stdout)
    return stored


def _subset(emitted: Any, stored: Any, path: str = "") -> None:
    """Everything we emitted is in the stored object, unchanged (the server may add
    defaults, never change or drop what we set)."""
    if isinstance(emitted, dict):
        assert isinstance(stored, dict), path
        for key, value in emitted.items():
            assert key in stored, f"{path}.{key} dropped by the API server"
            _subset(value, stored[key], f"{path}.{key}")
    elif isinstance(emitted, list):
        assert isinstance(stored, list) and len(stored) == len(emitted), path
        for i, (a, b) in enumerate(zip(emitted, stored, strict=True)):
            _subset(a, b, f"{path}[{i}]")
    else:
        assert emitted == stored, f"{path}: {emitted!r} stored as {stored!r}"


def test_rule_and_patched_workloads(cluster: ControlPlane, tmp_path: Path) -> None:
    cluster.create_namespace(NAMESPACE)
    docs = [*workloads(POD_SPEC), {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "app"},
        "spec": {"selector": {"matchLabels": {"app": "app"}}, "template": {
            "metadata": {"labels": {"app": "app"}}, "spec": POD_SPEC}}}]
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    out = _ok("compat", "affinity", "--spec", str(DATA / "spec-fits.yaml"), "--name",
              "emitted-app", "--patch", str(manifest))
    cluster.kubectl("create", "-n", NAMESPACE, "-f", "-", stdin=out)
    rule, *patched = yaml.safe_load_all(out)
    assert rule["kind"] == "NodeFeatureRule"
    _subset(rule, _get(cluster, rule, NAMESPACE))
    assert sorted(PLURALS) == sorted(d["kind"] for d in patched)
    for doc in patched:
        _subset(doc, _get(cluster, doc, NAMESPACE), doc["kind"])


def test_emit_all_is_a_stream_kubectl_applies(cluster: ControlPlane) -> None:
    out = _ok("compat", "affinity", "--spec", str(DATA / "spec-fails.yaml"), "--name",
              "emitted-all", "--emit", "all", "-o", "yaml")
    applied = cluster.kubectl("apply", "-f", "-", stdin=out)
    assert applied.stdout.strip() == ("nodefeaturerule.nfd.k8s-sigs.io/"
                                      "image-compat-emitted-all created")


def test_jobs(cluster: ControlPlane, tmp_path: Path) -> None:
    image = "registry.example.com/app:v1"
    one = _ok("compat", "job", "--image", image, "--node", NODE_NAME, "-n", "default",
              "--job-name", "validate-one")
    nodes = tmp_path / "nodes.txt"
    nodes.write_text(f"node/{NODE_NAME}\nnode/other-node\n")
    listed = _ok("compat", "job", "--image", image, "--nodes", str(nodes), "-n", "default",
                 "--toleration", "nvidia.com/gpu:NoSchedule")
    # The README's flow: `kubectl apply -f jobs.yaml`, with kubectl's own validation on.
    cluster.kubectl("create", "-f", "-", stdin=one)
    cluster.kubectl("apply", "-f", "-", stdin=listed)
    job = yaml.safe_load(one)
    _subset(job, _get(cluster, job, "default"))
    items = yaml.safe_load(listed)["items"]
    assert len(items) == 2
    for item in items:
        _subset(item, _get(cluster, item, "default"))


def test_webhook_manifests(cluster: ControlPlane, tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(cluster.ca.cert_pem)
    # A namespace and name of their own: tests/kube/test_webhook.py deploys the defaults.
    out = _ok("compat", "webhook", "manifests", "--allow-registry", "registry.example.com",
              "--ca-bundle", str(ca), "--workloads", "--namespace", "emitted-webhook",
              "--name", "emitted-webhook")
    cluster.kubectl("create", "-f", "-", stdin=out)
    objs = list(yaml.safe_load_all(out))
    assert {o["kind"] for o in objs} >= {"Namespace", "ServiceAccount", "ClusterRole",
                                          "ClusterRoleBinding", "Deployment", "Service",
                                          "PodDisruptionBudget", "MutatingWebhookConfiguration"}
    try:
        for obj in objs:
            _subset(obj, _get(cluster, obj, "emitted-webhook"), obj["kind"])
    finally:
        # Its Service is unreachable here: with it registered, every pod would wait 10 s.
        cluster.kubectl("delete", "mutatingwebhookconfiguration", "emitted-webhook")


def test_jobs_that_verify(cluster: ControlPlane, tmp_path: Path) -> None:
    """``--verify``: the trust ConfigMap and the Job that mounts it, and a Job mounting a
    cosign key Secret, as the API server stores them."""
    from tests.cluster.test_job_verify import write_policy

    image = "registry.example.com/app:v1"
    policy = write_policy(tmp_path / "notation")
    notation = _ok("compat", "job", "--image", image, "--node", NODE_NAME, "-n", "default",
                   "--job-name", "validate-notation", "--verify", "notation",
                   "--trust-configmap", "nfd-trust", "--trust-policy", str(policy))
    cosign = _ok("compat", "job", "--image", image, "--node", NODE_NAME, "-n", "default",
                 "--job-name", "validate-cosign", "--verify", "cosign",
                 "--cosign-key-secret", "cosign")
    cluster.kubectl("apply", "-f", "-", stdin=notation)
    cluster.kubectl("create", "-f", "-", stdin=cosign)
    items = yaml.safe_load(notation)["items"]
    assert [i["kind"] for i in items] == ["ConfigMap", "Job"]
    for item in [*items, yaml.safe_load(cosign)]:
        _subset(item, _get(cluster, item, "default"), item["kind"])
