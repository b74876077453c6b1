"""The real NFD v0.19.0 on the real control plane: what nfd-worker publishes, what
``validate-cluster`` reads from it, and nfd-master and kube-scheduler acting on what
``nfd compat affinity`` emits."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests._cli import nfd
from tests.kube._control_plane import NFD_NAMESPACE, NODE_NAME, ControlPlane, wait_until
from tests.kube.conftest import DATA

FITS, FAILS = DATA / "spec-fits.yaml", DATA / "spec-fails.yaml"
NODEFEATURES = f"/apis/nfd.k8s-sigs.io/v1alpha1/namespaces/{NFD_NAMESPACE}/nodefeatures"
BIND_SECONDS = 60


def _affinity(*args: str) -> str:
    done = nfd("compat", "affinity", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _node_labels(cluster: ControlPlane) -> dict[str, str]:
    node = cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")
    labels: dict[str, str] = node["metadata"].get("labels", {})
    return labels


def _label_of(rule_json: str) -> str:
    """The label the rule's only set puts on a matching node."""
    doc = json.loads(rule_json)
    (label,) = doc["spec"]["rules"][-1]["labels"]
    return str(label)


def _pod(cluster: ControlPlane, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = cluster.request("GET", f"/api/v1/namespaces/default/pods/{name}")
    return pod


def test_the_worker_published_this_machines_features(cluster: ControlPlane) -> None:
    (item,) = cluster.request("GET", NODEFEATURES)["items"]
    assert item["metadata"]["name"] == NODE_NAME
    assert item["metadata"]["labels"]["nfd.node.kubernetes.io/node-name"] == NODE_NAME
    features = item["spec"]["features"]
    kernel = features["attributes"]["kernel.version"]["elements"]
    assert kernel["full"] == os.uname().release
    assert kernel["major"] == os.uname().release.split(".")[0]
    # This machine's CPU flags, as the CPUID instruction gives them.
    assert features["flags"]["cpu.cpuid"]["elements"]


def test_validate_cluster_live_and_from_a_dump_agree(cluster: ControlPlane,
                                                     tmp_path: Path) -> None:
    assert cluster.admin is not None
    dump = tmp_path / "nodefeatures.json"
    dump.write_text(cluster.kubectl("get", "nodefeatures", "-A", "-o", "json").stdout)
    for spec, code in ((FITS, 0), (FAILS, 1)):
        live = nfd("compat", "validate-cluster", "--spec", str(spec), "--kubeconfig",
                   str(cluster.admin.kubeconfig), "-o", "json")
        offline = nfd("compat", "validate-cluster", "--spec", str(spec), "--nodefeatures",
                      str(dump), "-o", "json")
        assert (live.returncode, offline.returncode) == (code, code), live.stderr
        live_report, offline_report = json.loads(live.stdout), json.loads(offline.stdout)
        # Only where the features came from differs.
        assert live_report.pop("cluster") == cluster.server
        assert offline_report.pop("nodeFeatures") == str(dump)
        assert live_report == offline_report
        (node,) = live_report["nodes"]
        assert node["name"] == NODE_NAME
        assert [s["isMatch"] for s in node["compatibilities"]] == [code == 0]


def test_master_labels_the_node_and_the_scheduler_follows(cluster: ControlPlane) -> None:
    fails_rule = _affinity("--spec", str(FAILS), "--emit", "rule", "-o", "json")
    fits_rule = _affinity("--spec", str(FITS), "--emit", "rule", "-o", "json")
    # Created for real (not a dry run) by the real API server, through its CRD's schema.
    for rule in (fails_rule, fits_rule):
        cluster.kubectl("create", "-f", "-", stdin=rule)
    fits_label, fails_label = _label_of(fits_rule), _label_of(fails_rule)
    wait_until(lambda: _node_labels(cluster).get(fits_label) == "true", BIND_SECONDS,
               f"nfd-master puts {fits_label} on {NODE_NAME}")
    # nfd-master evaluates every rule on each pass: the one created first was evaluated too.
    assert fails_label not in _node_labels(cluster)

    for name, spec in (("fits", FITS), ("fails", FAILS)):
        manifest = json.dumps({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": name, "namespace": "default"},
                               "spec": {"containers": [{"name": "app", "image": "app:v1"}]}})
        manifest_file = cluster.workdir / f"pod-{name}.json"
        manifest_file.write_text(manifest)
        # The rule again, and the pod patched: the README's `kubectl apply` flow.
        patched = _affinity("--spec", str(spec), "--patch", str(manifest_file), "-o", "json")
        cluster.kubectl("apply", "-f", "-", stdin=patched)

    wait_until(lambda: _pod(cluster, "fits")["spec"].get("nodeName") == NODE_NAME,
               BIND_SECONDS, "the scheduler binds the pod whose requirement holds")

    def unschedulable() -> bool:
        conditions = _pod(cluster, "fails")["status"].get("conditions", [])
        return any(c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                   for c in conditions)

    wait_until(unschedulable, BIND_SECONDS, "the scheduler refuses the other one")
    pod = _pod(cluster, "fails")
    assert "nodeName" not in pod["spec"] and pod["status"]["phase"] == "Pending"
