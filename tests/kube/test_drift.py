"""After admission, on the real control plane: drift, what-if and "no node can run this".

Pods of images whose specs need a kernel module this machine has (a ``kernel.config``
option built as a module, ``=m``, as nfd-worker publishes it; this sandbox has no
``/proc/modules``, so ``kernel.loadedmodule`` is empty) are bound by the real
kube-scheduler. Then the node's NodeFeature is changed as a kernel upgrade would change it:
the option is removed from the worker's own object (and the worker is not run again).
``audit`` (live and from dumps) must then report exactly the pods of that image; ``what-if``
with the node's new profile agrees; ``webhook serve --unsatisfiable deny``, registered by
URL under the emitted RBAC, refuses a pod of that image naming the missing option, and
admits it again once the option is back (the watch carried the change).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._cli import nfd
from tests.kube._control_plane import NFD_NAMESPACE, NODE_NAME, ControlPlane, wait_until
from tests.kube.conftest import DATA, PushImage
from tests.oci._registry import Registry
from tests.webhook._webhook import WebhookProcess

NAMESPACE = "drift"
NODEFEATURE = f"/apis/nfd.k8s-sigs.io/v1alpha1/namespaces/{NFD_NAMESPACE}/nodefeatures/{NODE_NAME}"
WEBHOOK_NAME = "nfd-drift"
CONFIGURATION = ("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"
                 + WEBHOOK_NAME)
SETTLE_SECONDS = 60


def _config_pointer(option: str) -> str:
    return f"/spec/features/attributes/kernel.config/elements/{option}"


def _module_option(cluster: ControlPlane) -> tuple[str, str]:
    """A kernel.config option the worker published for this machine: a module (``m``)
    when there is one, else a built-in (``y``)."""
    elements = cluster.request("GET", NODEFEATURE)["spec"]["features"]["attributes"][
        "kernel.config"]["elements"]
    for wanted in ("m", "y"):
        options = sorted(k for k, v in elements.items() if v == wanted)
        if options:
            return options[0], wanted
    pytest.fail(f"nfd-worker published no kernel.config option set to m or y: {elements}")


def _pod(name: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def _bound(cluster: ControlPlane, name: str) -> bool:
    pod = cluster.request("GET", f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")
    return bool(pod["spec"].get("nodeName") == NODE_NAME)


class Drift:
    """The scene: images, pods, the option removed, the dumps taken after."""

    def __init__(self, option: str, value: str, needs: str, fits: str, workdir: Path) -> None:
        self.option, self.value = option, value
        self.needs, self.fits = needs, fits
        self.workdir = workdir
        self.before: Any = None

    def dump(self, cluster: ControlPlane, what: str) -> Path:
        path = self.workdir / f"{what}.json"
        path.write_text(cluster.kubectl("get", what, "-A", "-o", "json").stdout)
        return path


def _audit(*args: str) -> tuple[int, dict[str, Any]]:
    done = nfd("compat", "audit", "--timeout", "5", "-o", "json", *args, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


@pytest.fixture(scope="module")
def drift(cluster: ControlPlane, push: PushImage,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drift]:
    assert cluster.admin is not None
    workdir = tmp_path_factory.mktemp("drift")
    option, value = _module_option(cluster)
    spec = workdir / "needs-option.yaml"
    spec.write_text(
        "version: v1alpha1\ncompatibilities:\n"
        f"- description: needs the {option} kernel option ({value})\n  rules:\n"
        f"  - name: {option.lower()}\n    matchFeatures:\n    - feature: kernel.config\n"
        f"      matchExpressions:\n        {option}: {{op: In, value: [\"{value}\"]}}\n")
    scene = Drift(option, value, push(spec), push(DATA / "spec-fits.yaml"), workdir)
    cluster.create_namespace(NAMESPACE)
    for name, image in (("needs-1", scene.needs), ("needs-2", scene.needs),
                        ("fits-1", scene.fits)):
        cluster.request("POST", f"/api/v1/namespaces/{NAMESPACE}/pods", _pod(name, image))
    for name in ("needs-1", "needs-2", "fits-1"):
        wait_until(lambda n=name: _bound(cluster, n), SETTLE_SECONDS,  # type: ignore[misc]
                   f"the scheduler binds {name}")
    scene.before = _audit("--kubeconfig", str(cluster.admin.kubeconfig))
    # The upgrade: the option is gone from the worker's object (the worker is not re-run).
    cluster.request("PATCH", NODEFEATURE, [{"op": "remove", "path": _config_pointer(option)}],
                    "application/json-patch+json")
    try:
        yield scene
    finally:
        _restore(cluster, scene)


def _restore(cluster: ControlPlane, scene: Drift) -> None:
    elements = cluster.request("GET", NODEFEATURE)["spec"]["features"]["attributes"][
        "kernel.config"]["elements"]
    if scene.option not in elements:
        cluster.request("PATCH", NODEFEATURE, [{"op": "add", "path": _config_pointer(
            scene.option), "value": scene.value}], "application/json-patch+json")


def _drifted(report: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """This test's drifted pods by image (the session's cluster holds other modules' pods)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for group in report["drift"]:
        ours = {(p["name"], p["node"]) for p in group["pods"]
                if p["name"].startswith(f"{NAMESPACE}/")}
        if ours:
            found.setdefault(group["image"], set()).update(ours)
    return found


def test_audit_reports_exactly_the_affected_pods(cluster: ControlPlane, drift: Drift) -> None:
    assert cluster.admin is not None
    _, before = drift.before
    assert _drifted(before) == {}, before
    assert before["checked"] >= 3

    live_code, live = _audit("--kubeconfig", str(cluster.admin.kubeconfig))
    assert live_code == 1
    assert _drifted(live) == {drift.needs: {(f"{NAMESPACE}/needs-1", NODE_NAME),
                                            (f"{NAMESPACE}/needs-2", NODE_NAME)}}
    (group,) = [g for g in live["drift"] if g["image"] == drift.needs]
    assert any(drift.option in reason for reason in group["reasons"]), group

    pods, nodefeatures = drift.dump(cluster, "pods"), drift.dump(cluster, "nodefeatures")
    dump_code, from_dumps = _audit("--pods", str(pods), "--nodefeatures", str(nodefeatures))
    assert (dump_code, from_dumps) == (live_code, live)


def test_what_if_with_the_new_profile_agrees(cluster: ControlPlane, drift: Drift) -> None:
    profile = drift.workdir / "new-node.json"
    profile.write_text(cluster.kubectl("get", "nodefeature", "-n", NFD_NAMESPACE, NODE_NAME,
                                       "-o", "json").stdout)
    pods = drift.dump(cluster, "pods")
    done = nfd("compat", "what-if", "--features", str(profile), "--pods", str(pods),
               "--timeout", "5", "-o", "json", timeout=120)
    assert done.returncode == 1, done.stderr
    (planned,) = json.loads(done.stdout)["profiles"]
    verdicts = {i["image"]: i for i in planned["images"]}
    assert not verdicts[drift.needs]["compatible"]
    assert any(drift.option in r for r in verdicts[drift.needs]["reasons"])
    assert verdicts[drift.fits]["compatible"]
    # The same as audit: the images that break are those whose pods drifted.
    broken = {image for image, v in verdicts.items() if not v["compatible"]}
    assert broken & {drift.needs, drift.fits} == {drift.needs}  # other modules add images

    # Live: the cluster's pods, and what they get today from its NodeFeatures.
    assert cluster.admin is not None
    live = nfd("compat", "what-if", "--features", str(profile), "--kubeconfig",
               str(cluster.admin.kubeconfig), "--timeout", "5", "-o", "json", timeout=120)
    assert live.returncode == 1, live.stderr
    (planned,) = json.loads(live.stdout)["profiles"]
    today = {i["image"]: (i["compatible"], i.get("today")) for i in planned["images"]}
    assert today[drift.needs] == (False, {"podsSatisfied": 0, "pods": 2})
    assert today[drift.fits] == (True, {"podsSatisfied": 1, "pods": 1})


@pytest.fixture
def denying(cluster: ControlPlane, registry: Registry, drift: Drift,
            webhook_tls: tuple[Path, Path, bytes]) -> Iterator[WebhookProcess]:
    """``webhook serve --unsatisfiable deny`` with the token of the ServiceAccount
    ``webhook manifests --unsatisfiable deny`` emits, registered by URL for this namespace."""
    cert, key, ca_pem = webhook_tls
    ca_file = drift.workdir / "ca.crt"
    ca_file.write_bytes(ca_pem)
    manifests = nfd("compat", "webhook", "manifests", "--name", WEBHOOK_NAME, "--namespace",
                    WEBHOOK_NAME, "--allow-registry", registry.host, "--ca-bundle",
                    str(ca_file), "--no-create-rules", "--unsatisfiable", "deny")
    assert manifests.returncode == 0, manifests.stderr
    cluster.kubectl("create", "-f", "-", stdin=manifests.stdout)
    token = cluster.kubectl("create", "token", WEBHOOK_NAME, "-n", WEBHOOK_NAME,
                            "--duration", "1h").stdout.strip()
    as_service_account = cluster.kubeconfig_for("drift-sa", {"token": token})
    server = WebhookProcess((cert, key), ca_file, "--allow-registry", registry.host,
                            "--unsatisfiable", "deny", "--index-watch-seconds", "2",
                            "--kubeconfig", str(as_service_account))
    try:
        # By URL, and for this namespace only: the other modules' pods are not its business.
        cluster.request("PATCH", CONFIGURATION, [
            {"op": "replace", "path": "/webhooks/0/clientConfig",
             "value": {"url": f"{server.url}/mutate",
                       "caBundle": base64.b64encode(ca_pem).decode()}},
            {"op": "replace", "path": "/webhooks/0/namespaceSelector",
             "value": {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}}],
            "application/json-patch+json")
        yield server
    finally:
        cluster.request("DELETE", CONFIGURATION)
        server.stop()


def _try(cluster: ControlPlane, image: str) -> Any:
    return cluster.kubectl("create", "--dry-run=server", "-o", "json", "-f", "-",
                           stdin=json.dumps(_pod("probe", image)), check=False)


def test_the_webhook_denies_a_pod_no_node_can_run(cluster: ControlPlane, drift: Drift,
                                                  denying: WebhookProcess) -> None:
    # The index is listed, then widened to what the image reads (a relist) on first sight.
    wait_until(lambda: _try(cluster, drift.needs).returncode != 0, SETTLE_SECONDS,
               "the webhook denies the pod", interval=0.5)
    refused = _try(cluster, drift.needs)
    assert "no node can run it" in refused.stderr and drift.option in refused.stderr, \
        refused.stderr
    assert NODE_NAME in refused.stderr  # the closest node, and what it lacks
    fits = _try(cluster, drift.fits)
    assert fits.returncode == 0 and "no node" not in fits.stderr, fits.stderr
    metrics = denying.metrics()
    assert metrics["nfd_webhook_index_nodes"] == 1
    assert 0 <= metrics["nfd_webhook_index_staleness_seconds"] < 10
    assert metrics['nfd_webhook_satisfiability_checks_total{result="unsatisfiable"}'] >= 1

    # The node gets the option back: the watch carries the change, the pod is admitted.
    generation = metrics["nfd_webhook_index_generation"]
    _restore(cluster, drift)
    wait_until(lambda: _try(cluster, drift.needs).returncode == 0, SETTLE_SECONDS,
               "the webhook admits the pod again", interval=0.5)
    assert denying.metrics()["nfd_webhook_index_generation"] > generation
    assert denying.metrics()["nfd_webhook_index_lists_total"] <= 3  # watched, not relisted
