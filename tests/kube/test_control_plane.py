"""The control plane itself: the release it claims to be, and a Node as a kubelet leaves it."""

from __future__ import annotations

import json

from tests.kube._control_plane import KUBE_VERSION, NODE_NAME, NOT_READY_TAINT, ControlPlane


def test_kubectl_reads_the_server_version(cluster: ControlPlane) -> None:
    # Set by install-peers' -X ldflags; without them the server says v0.0.0-master+$Format
    # and kubectl cannot parse it.
    shown = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    major, minor = KUBE_VERSION.removeprefix("v").split(".")[:2]
    assert (shown["gitVersion"], shown["major"], shown["minor"]) == (KUBE_VERSION, major, minor)


def test_the_node_is_ready_and_schedulable(cluster: ControlPlane) -> None:
    node = cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")
    assert isinstance(node["metadata"]["annotations"], dict)  # nfd-master patches into it
    assert node["status"]["allocatable"]["pods"] == "110"
    assert not [t for t in node["spec"].get("taints", []) if t["key"] == NOT_READY_TAINT]
    assert not node["spec"].get("unschedulable")
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert [c["status"] for c in ready] == ["True"]


def test_rbac_is_enforced(cluster: ControlPlane) -> None:
    nobody = cluster.kubeconfig_for("nobody", {"token": "not-a-token"})
    denied = cluster.kubectl("get", "nodes", kubeconfig=nobody, check=False)
    assert denied.returncode != 0 and "Unauthorized" in denied.stderr
    scheduler = "system:kube-scheduler"
    allowed = cluster.kubectl("auth", "can-i", "create", "pods", "--subresource=binding",
                              "--as", scheduler)
    assert allowed.stdout.strip() == "yes"
    refused = cluster.kubectl("auth", "can-i", "delete", "nodes", "--as", scheduler,
                              check=False)
    assert refused.stdout.strip() == "no"
