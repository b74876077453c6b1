"""The admission webhook called by the real API server.

``nfd compat webhook manifests`` is created for real (Namespace, ServiceAccount, RBAC,
Deployment, Service, PodDisruptionBudget, MutatingWebhookConfiguration). Nothing routes a
Service's ClusterIP here, so the configuration is then pointed at ``nfd compat webhook
serve`` by URL (loopback, a throwaway CA in ``caBundle``); everything else in it (rules,
selectors, failure policy, side effects) stays as emitted. The server creates
NodeFeatureRules with a token of the emitted ServiceAccount, so only the emitted RBAC
allows it; nfd-master labels the node from them and kube-scheduler places the pods.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._cli import nfd
from tests.kube._control_plane import NODE_NAME, ControlPlane, wait_until
from tests.kube.conftest import DATA, PushImage
from tests.oci._registry import Registry
from tests.webhook._webhook import WebhookProcess

from nfd.webhook._manifests import DEFAULT_NAME, DEFAULT_NAMESPACE
from nfd.webhook._review import SKIP_ANNOTATION, SKIP_VALUE

NAMESPACE = "apps"
SPECS_ANNOTATION = "nfd.k8s-sigs.io/image-compatibility-specs"
RULES = "/apis/nfd.k8s-sigs.io/v1alpha1/nodefeaturerules"
SERVICE_ACCOUNT = f"system:serviceaccount:{DEFAULT_NAMESPACE}:{DEFAULT_NAME}"
CONFIGURATION = ("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"
                 + DEFAULT_NAME)
SETTLE_SECONDS = 60
_names = iter(range(10_000))


def _pod(*images: str, annotations: dict[str, str] | None = None,
         labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"pod-{next(_names)}", "namespace": NAMESPACE}
    if annotations:
        meta["annotations"] = annotations
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": f"c{i}", "image": image}
                                    for i, image in enumerate(images)]}}


def _create(cluster: ControlPlane, obj: dict[str, Any],
            *flags: str) -> tuple[dict[str, Any], str]:
    """``kubectl create -o json`` as the admin: the object the API server stored (or would
    store), and kubectl's stderr (where admission warnings are printed)."""
    done = cluster.kubectl("create", "-o", "json", *flags, "-f", "-", stdin=json.dumps(obj))
    created: dict[str, Any] = json.loads(done.stdout)
    return created, done.stderr


def _node_affinity(pod_spec: dict[str, Any]) -> Any:
    return pod_spec.get("affinity", {}).get("nodeAffinity")


def _get_pod(cluster: ControlPlane, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = cluster.request("GET", f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")
    return pod


def _bound(cluster: ControlPlane, name: str) -> None:
    wait_until(lambda: _get_pod(cluster, name)["spec"].get("nodeName") == NODE_NAME,
               SETTLE_SECONDS, f"pod {name} bound to {NODE_NAME}")


def _unschedulable(cluster: ControlPlane, name: str) -> None:
    def refused() -> bool:
        return any(c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                   for c in _get_pod(cluster, name)["status"].get("conditions", []))

    wait_until(refused, SETTLE_SECONDS, f"the scheduler refuses pod {name}")
    assert "nodeName" not in _get_pod(cluster, name)["spec"]


def _rule(cluster: ControlPlane, name: str) -> dict[str, Any] | None:
    reply = cluster.http.get(f"{RULES}/{name}")
    if reply.status_code == 404:
        return None
    assert reply.status_code == 200, reply.text
    rule: dict[str, Any] = reply.json()
    return rule


def _expected_affinity(image: str) -> Any:
    """What ``nfd compat affinity --image`` gives for the image."""
    done = nfd("compat", "affinity", "--image", image, "--emit", "affinity", "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["affinity"]["nodeAffinity"]


def _rule_name(image: str) -> str:
    done = nfd("compat", "affinity", "--image", image, "--emit", "rule", "-o", "json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["metadata"]["name"])


@pytest.fixture(scope="module")
def images(push: PushImage) -> dict[str, str]:
    return {"fits": push(DATA / "spec-fits.yaml"), "fails": push(DATA / "spec-fails.yaml"),
            "bare": push(None)}


@pytest.fixture(scope="module")
def webhook(cluster: ControlPlane, registry: Registry, webhook_tls: tuple[Path, Path, bytes],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookProcess]:
    cert, key, ca_pem = webhook_tls
    ca_file = tmp_path_factory.mktemp("webhook-ca") / "ca.crt"
    ca_file.write_bytes(ca_pem)
    manifests = nfd("compat", "webhook", "manifests", "--allow-registry", registry.host,
                    "--ca-bundle", str(ca_file), "--workloads")
    assert manifests.returncode == 0, manifests.stderr
    cluster.kubectl("create", "-f", "-", stdin=manifests.stdout)
    token = cluster.kubectl("create", "token", DEFAULT_NAME, "-n", DEFAULT_NAMESPACE,
                            "--duration", "1h").stdout.strip()
    as_service_account = cluster.kubeconfig_for("webhook-sa", {"token": token})
    server = WebhookProcess((cert, key), ca_file, "--allow-registry", registry.host,
                            "--workloads", "--create-rules",
                            "--kubeconfig", str(as_service_account))
    cluster.request("PATCH", CONFIGURATION, [{
        "op": "replace", "path": "/webhooks/0/clientConfig",
        "value": {"url": f"{server.url}/mutate", "caBundle": base64.b64encode(ca_pem).decode()},
    }], "application/json-patch+json")
    cluster.create_namespace(NAMESPACE)

    # The API server picks the configuration up from its informer: wait for the first call.
    def called() -> bool:
        _create(cluster, _pod("probe.invalid/app:v1"), "--dry-run=server")
        return _reviews(server) > 0

    try:
        wait_until(called, SETTLE_SECONDS, "the API server calls the webhook", interval=0.5)
        yield server
    finally:
        cluster.request("DELETE", CONFIGURATION)
        server.stop()


def _reviews(server: WebhookProcess) -> float:
    """Admission reviews the server answered."""
    return sum(value for name, value in server.metrics().items()
               if name.startswith("nfd_webhook_reviews_total"))


def test_a_pod_is_bound_where_its_spec_says(cluster: ControlPlane, webhook: WebhookProcess,
                                            images: dict[str, str]) -> None:
    fits, _ = _create(cluster, _pod(images["fits"]))
    fails, _ = _create(cluster, _pod(images["fails"]))
    for created, image in ((fits, images["fits"]), (fails, images["fails"])):
        assert _node_affinity(created["spec"]) == _expected_affinity(image)
        assert image.split(":")[0] in created["metadata"]["annotations"][SPECS_ANNOTATION]
        # Created by the webhook with the emitted ServiceAccount's token, labelled as its own.
        rule = _rule(cluster, _rule_name(image))
        assert rule is not None
        assert rule["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "nfd-compat-webhook"
    _bound(cluster, fits["metadata"]["name"])
    _unschedulable(cluster, fails["metadata"]["name"])


def test_the_emitted_rbac_allows_rules_and_nothing_else(cluster: ControlPlane,
                                                        webhook: WebhookProcess) -> None:
    def can(verb: str, resource: str) -> bool:
        done = cluster.kubectl("auth", "can-i", verb, resource, "--as", SERVICE_ACCOUNT,
                               check=False)
        return done.stdout.strip() == "yes"

    # At start the server read what the cluster's NFD accepts from its CRD, with no warning.
    assert can("get", "customresourcedefinitions.apiextensions.k8s.io/"
               "nodefeaturerules.nfd.k8s-sigs.io")
    assert not [line for line in webhook.log if "warning" in line], webhook.log
    assert can("create", "nodefeaturerules.nfd.k8s-sigs.io")
    assert can("update", "nodefeaturerules.nfd.k8s-sigs.io")
    assert not can("delete", "nodefeaturerules.nfd.k8s-sigs.io")
    assert not can("create", "pods")
    assert not can("patch", "nodes")


def test_an_image_without_a_spec_is_left_alone(cluster: ControlPlane, webhook: WebhookProcess,
                                               images: dict[str, str]) -> None:
    before = _reviews(webhook)
    created, stderr = _create(cluster, _pod(images["bare"]))
    assert _reviews(webhook) == before + 1  # the webhook was asked, and changed nothing
    assert _node_affinity(created["spec"]) is None
    assert SPECS_ANNOTATION not in created["metadata"].get("annotations", {})
    assert "Warning" not in stderr
    _bound(cluster, created["metadata"]["name"])


def test_opting_out(cluster: ControlPlane, webhook: WebhookProcess,
                    images: dict[str, str]) -> None:
    before = _reviews(webhook)
    by_label, _ = _create(cluster, _pod(images["fails"], labels={SKIP_ANNOTATION: SKIP_VALUE}))
    # The label is the configuration's objectSelector: the API server does not even ask.
    assert _reviews(webhook) == before
    by_annotation, _ = _create(cluster, _pod(images["fails"],
                                             annotations={SKIP_ANNOTATION: SKIP_VALUE}))
    assert _reviews(webhook) == before + 1
    for created in (by_label, by_annotation):
        assert _node_affinity(created["spec"]) is None
        _bound(cluster, created["metadata"]["name"])


def test_a_registry_off_the_allow_list_is_not_contacted(cluster: ControlPlane,
                                                        webhook: WebhookProcess,
                                                        registry: Registry) -> None:
    elsewhere = "registry.invalid:5000/team/app:v1"
    calls = webhook.metrics()
    created, stderr = _create(cluster, _pod(elsewhere))
    assert _node_affinity(created["spec"]) is None
    assert "Warning:" in stderr and "registry.invalid:5000" in stderr, stderr
    step_calls = {k: v for k, v in webhook.metrics().items() if k.startswith("nfd_webhook_calls")}
    assert step_calls == {k: v for k, v in calls.items() if k.startswith("nfd_webhook_calls")}


def test_server_dry_run_mutates_and_creates_nothing(cluster: ControlPlane,
                                                    webhook: WebhookProcess,
                                                    push: PushImage) -> None:
    image = push(DATA / "spec-fits.yaml")  # a new image: its rule does not exist yet
    created, _ = _create(cluster, _pod(image), "--dry-run=server")
    assert _node_affinity(created["spec"]) == _expected_affinity(image)
    name = created["metadata"]["name"]
    assert cluster.http.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}").status_code == 404
    # sideEffects NoneOnDryRun: the webhook writes no rule for a dry run.
    assert _rule(cluster, _rule_name(image)) is None
    real, _ = _create(cluster, _pod(image))
    assert _rule(cluster, _rule_name(image)) is not None
    _bound(cluster, real["metadata"]["name"])


def test_several_images_in_one_pod(cluster: ControlPlane, webhook: WebhookProcess,
                                   images: dict[str, str]) -> None:
    fits_and_bare, _ = _create(cluster, _pod(images["fits"], images["bare"]))
    fits_and_fails, _ = _create(cluster, _pod(images["fits"], images["fails"]))
    recorded = fits_and_fails["metadata"]["annotations"][SPECS_ANNOTATION]
    assert images["fits"].split(":")[0] in recorded and images["fails"].split(":")[0] in recorded
    # Every image's requirement holds in each term: the fits label AND the fails label.
    terms = _node_affinity(fits_and_fails["spec"])[
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    wanted = {e["key"] for image in ("fits", "fails")
              for term in _expected_affinity(images[image])[
                  "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
              for e in term["matchExpressions"]}
    assert all({e["key"] for e in term["matchExpressions"]} == wanted for term in terms)
    _bound(cluster, fits_and_bare["metadata"]["name"])
    _unschedulable(cluster, fits_and_fails["metadata"]["name"])


def test_workload_templates(cluster: ControlPlane, webhook: WebhookProcess,
                            images: dict[str, str]) -> None:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NAMESPACE},
        "spec": {"selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": images["fits"]}]}}},
    }
    created, _ = _create(cluster, deployment)
    assert _node_affinity(created["spec"]["template"]["spec"]) == _expected_affinity(
        images["fits"])
    stored = cluster.request("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/web")
    assert stored["spec"]["template"] == created["spec"]["template"]


def test_a_big_answer_reaches_the_api_server(cluster: ControlPlane, webhook: WebhookProcess,
                                             images: dict[str, str]) -> None:
    """A pod with many required terms of its own: the patch is over the size at which a
    review worker gzips the answer when the client asks (the API server's Go transport
    does); the API server applies it all the same."""
    from nfd.webhook._work import COMPRESS_BYTES

    count = 1500
    obj = _pod(images["fits"])
    obj["spec"]["affinity"] = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": f"example.com/zone-{i}", "operator": "In",
                                   "values": [f"zone-with-a-long-name-{i}"]}]}
            for i in range(count)]}}}
    created, _ = _create(cluster, obj)
    terms = _node_affinity(created["spec"])["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"]
    ours = {e["key"] for term in _expected_affinity(images["fits"])[
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        for e in term["matchExpressions"]}
    assert len(terms) >= count and all(ours <= {e["key"] for e in term["matchExpressions"]}
                                       for term in terms)
    assert len(json.dumps(terms)) * 4 // 3 > COMPRESS_BYTES  # the answer's base64 patch
