"""NodeFeatureRules for an older NFD, on the real API server: NFD v0.17.3's CRD.

The session's cluster serves NFD v0.19.0's NodeFeatureRule CRD; for this module it is
replaced, in place, by v0.17.3's (the published module's
``deployment/base/nfd-crds/nfd-api-crds.yaml``, read by ``tests/cluster/_nfd_crds.py``).
Both define the one version ``v1alpha1`` (served, storage), the same names and scope, so
the update keeps every stored rule; v0.17.3's schema only lacks the ops ``Ge``, ``Le``,
``GeLe`` in the ``op`` enums and the ``type`` field (added in NFD v0.18.0). The API server
then prunes ``type`` from rules it reads and refuses new ``Ge`` with HTTP 422. At the end the
saved v0.19.0 definition is put back and the module waits until the API server serves it
again (a server dry run of a ``Ge`` rule is accepted) and nfd-master has relabelled the node
as before: the other modules share this cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._cli import assert_one_line_error, nfd
from tests.cluster._nfd_crds import RULE_CRD, nodefeaturerule_crd
from tests.kube._control_plane import NODE_NAME, ControlPlane, wait_until
from tests.kube.conftest import PushImage
from tests.oci._registry import Registry
from tests.webhook._webhook import WebhookProcess, pod, review_for

OLD = "v0.17.3"
CRD = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{RULE_CRD}"
RULES = "/apis/nfd.k8s-sigs.io/v1alpha1/nodefeaturerules"
SETTLE_SECONDS = 60
INTEGERS = """version: v1alpha1
compatibilities:
- description: integer comparisons an old NFD takes once rewritten
  rules:
  - name: kernel
    matchFeatures:
    - feature: kernel.version
      matchExpressions:
        major: {op: Ge, value: ["3"]}
        minor: {op: GeLe, value: ["0", "999"]}
"""
VERSIONED = """version: v1alpha1
compatibilities:
- description: a version comparison no NFD before v0.18.0 has
  rules:
  - name: kernel
    matchFeatures:
    - feature: kernel.version
      matchExpressions:
        full: {op: Ge, value: ["3.0"], type: version}
"""

KEPT_NAME = "nfd-compat-old-crd-kept"
# Stored under v0.19.0's schema before the swap; it never matches (no kernel 999), so
# nfd-master labels nothing from it under either schema.
KEPT = {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureRule",
        "metadata": {"name": KEPT_NAME},
        "spec": {"rules": [{"name": "kept", "labels": {"old-crd-kept": "true"},
                            "matchFeatures": [{"feature": "kernel.version",
                                               "matchExpressions": {"full": {
                                                   "op": "Ge", "value": ["999.0"],
                                                   "type": "version"}}}]}]}}


def _probe(cluster: ControlPlane) -> int:
    """The HTTP status of a server dry run creating a rule with op ``Ge``: 201 under
    v0.19.0's schema, 422 under v0.17.3's."""
    rule = {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureRule",
            "metadata": {"name": "nfd-compat-crd-probe"},
            "spec": {"rules": [{"name": "probe", "labels": {"probe": "true"},
                                "matchFeatures": [{"feature": "kernel.version",
                                                   "matchExpressions": {
                                                       "major": {"op": "Ge",
                                                                 "value": ["1"]}}}]}]}}
    return cluster.http.post(f"{RULES}?dryRun=All", json=rule).status_code


def _put_spec(cluster: ControlPlane, spec: dict[str, Any]) -> None:
    """Replace the CRD's spec, keeping its metadata (kubectl's last-applied annotation)."""
    current = cluster.request("GET", CRD)
    current["spec"] = spec
    current.pop("status", None)
    cluster.request("PUT", CRD, current)


def _node_labels(cluster: ControlPlane) -> dict[str, str]:
    labels: dict[str, str] = cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")[
        "metadata"].get("labels", {})
    return labels


@pytest.fixture(scope="module")
def old_crd(cluster: ControlPlane) -> Iterator[dict[str, Any]]:
    old = nodefeaturerule_crd(OLD)
    saved = cluster.request("GET", CRD)
    # nfd-master's own labels are there once it has processed the node at least once.
    wait_until(lambda: any(k.startswith("feature.node.kubernetes.io/")
                           for k in _node_labels(cluster)), SETTLE_SECONDS,
               "nfd-master has labelled the node")
    labels = _node_labels(cluster)
    # Refuse to swap what we could not put back as it was.
    assert [(v["name"], v["served"], v["storage"]) for v in saved["spec"]["versions"]] == [
        (v["name"], v["served"], v["storage"]) for v in old["spec"]["versions"]] == [
        ("v1alpha1", True, True)]
    assert saved["status"]["storedVersions"] == ["v1alpha1"]
    assert _probe(cluster) == 201, "the session's CRD should be v0.19.0's"
    kept = cluster.request("POST", RULES, KEPT)
    try:
        _put_spec(cluster, {**saved["spec"], **old["spec"]})
        wait_until(lambda: _probe(cluster) == 422, SETTLE_SECONDS,
                   f"the API server serves NFD {OLD}'s schema")
        yield old
    finally:
        _put_spec(cluster, saved["spec"])
        wait_until(lambda: _probe(cluster) == 201, SETTLE_SECONDS,
                   "the API server serves the session's schema again")
        assert cluster.request("GET", CRD)["spec"] == saved["spec"]
        # What etcd holds was never rewritten: the field the old schema pruned is back.
        assert cluster.request("GET", f"{RULES}/{KEPT_NAME}")["spec"] == kept["spec"]
        cluster.request("DELETE", f"{RULES}/{KEPT_NAME}")
        try:
            wait_until(lambda: _node_labels(cluster) == labels, SETTLE_SECONDS,
                       "nfd-master labels the node as before")
        except TimeoutError:
            now = _node_labels(cluster)
            raise AssertionError({k: (labels.get(k), now.get(k))
                                  for k in labels.keys() | now.keys()
                                  if labels.get(k) != now.get(k)}) from None


@pytest.fixture
def created(cluster: ControlPlane) -> Iterator[list[str]]:
    """Names of rules a test created; deleted at its end (nfd-master drops their labels)."""
    names: list[str] = []
    yield names
    for name in names:
        reply = cluster.http.delete(f"{RULES}/{name}")
        assert reply.status_code in (200, 404), reply.text


def _rule(spec_file: Path, *flags: str) -> dict[str, Any]:
    done = nfd("compat", "affinity", "--spec", str(spec_file), "--emit", "rule", "-o", "json",
               *flags)
    assert done.returncode == 0, done.stderr
    rule: dict[str, Any] = json.loads(done.stdout)
    return rule


def _expressions(rule: dict[str, Any]) -> Any:
    return rule["spec"]["rules"][0]["matchFeatures"][0]["matchExpressions"]


def _write(tmp_path: Path, text: str) -> Path:
    """The spec in a file whose name (the default base of rule and label names) is this
    module's: no other module's rule is touched."""
    path = tmp_path / "old-nfd-crd.yaml"
    path.write_text(text)
    return path


def test_stored_rules_are_kept_and_read_through_the_old_schema(
        cluster: ControlPlane, old_crd: dict[str, Any]) -> None:
    """The same CRD, updated: the rule stored before is still there; read now, the field
    v0.17.3's schema lacks is pruned (structural schemas prune on read from etcd too) and
    the enum is not re-checked (validation applies to writes)."""
    stored = cluster.request("GET", f"{RULES}/{KEPT_NAME}")
    assert _expressions(stored) == {"full": {"op": "Ge", "value": ["999.0"]}}


def test_the_rewritten_rule_is_created_for_real(cluster: ControlPlane, old_crd: dict[str, Any],
                                                created: list[str], tmp_path: Path) -> None:
    rule = _rule(_write(tmp_path, INTEGERS), "--nfd-version", OLD)
    assert _expressions(rule) == {"major": {"op": "Gt", "value": ["2"]},
                                  "minor": {"op": "GtLt", "value": ["-1", "1000"]}}
    reply = cluster.http.post(RULES, json=rule)
    assert reply.status_code == 201, reply.text
    created.append(rule["metadata"]["name"])
    stored = cluster.request("GET", f"{RULES}/{rule['metadata']['name']}")
    assert stored["spec"] == rule["spec"]  # nothing pruned


def test_the_rule_as_written_is_refused_by_the_server(cluster: ControlPlane,
                                                      old_crd: dict[str, Any],
                                                      created: list[str],
                                                      tmp_path: Path) -> None:
    rule = _rule(_write(tmp_path, INTEGERS))
    assert _expressions(rule)["major"] == {"op": "Ge", "value": ["3"]}
    reply = cluster.http.post(RULES, json=rule)
    if reply.status_code == 201:
        created.append(rule["metadata"]["name"])
    assert reply.status_code == 422, reply.text
    message = reply.json()["message"]
    assert 'Unsupported value: "Ge"' in message and 'Unsupported value: "GeLe"' in message, \
        message
    assert "spec.rules[0].matchFeatures[0].matchExpressions.major.op" in message, message
    assert cluster.http.get(f"{RULES}/{rule['metadata']['name']}").status_code == 404


def test_what_cannot_be_rewritten_is_refused_by_us(old_crd: dict[str, Any],
                                                   tmp_path: Path) -> None:
    done = nfd("compat", "affinity", "--spec", str(_write(tmp_path, VERSIONED)),
               "--nfd-version", OLD)
    assert_one_line_error(done, 2, "matchExpressions.full.type", "op Ge with type: version",
                          "needs NFD v0.18.0 or newer", f"NFD {OLD}")


@pytest.fixture
def webhook(cluster: ControlPlane, registry: Registry, webhook_tls: tuple[Path, Path, bytes],
            old_crd: dict[str, Any], tmp_path: Path) -> Iterator[WebhookProcess]:
    """``webhook serve --create-rules`` as the admin: at start it reads the CRD served now."""
    cert, key, ca_pem = webhook_tls
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(ca_pem)
    assert cluster.admin is not None
    server = WebhookProcess((cert, key), ca_file, "--allow-registry", registry.host,
                            "--create-rules", "--kubeconfig", str(cluster.admin.kubeconfig))
    yield server
    server.stop()


def test_the_webhook_reads_the_crd_and_writes_rules_it_accepts(
        cluster: ControlPlane, webhook: WebhookProcess, push: PushImage, created: list[str],
        tmp_path: Path) -> None:
    image = push(_write(tmp_path, INTEGERS))
    answer = webhook.review(review_for(pod([image])))
    assert answer["response"]["allowed"] is True
    assert "patch" in answer["response"], answer
    done = nfd("compat", "affinity", "--image", image, "--emit", "rule", "-o", "json",
               "--nfd-version", OLD)
    assert done.returncode == 0, done.stderr
    wanted = json.loads(done.stdout)
    name = wanted["metadata"]["name"]
    created.append(name)
    stored = cluster.request("GET", f"{RULES}/{name}")
    assert stored["spec"] == wanted["spec"]
    assert _expressions(stored)["major"] == {"op": "Gt", "value": ["2"]}
    assert not answer["response"].get("warnings"), answer
    assert not [line for line in webhook.log if "warning" in line], webhook.log

    # A version comparison: nothing the old CRD takes means the same. The pod is admitted
    # unchanged with a warning that names the NFD release needed, and no rule is written.
    versioned = push(_write(tmp_path, VERSIONED))
    answer = webhook.review(review_for(pod([versioned])))
    assert "patch" not in answer["response"], answer
    [warning, _] = answer["response"]["warnings"]
    assert warning.startswith(f"image {versioned}: op Ge with type: version needs NFD v0.18.0 "
                              "or newer; the cluster's NodeFeatureRule CRD does not accept it "
                              "(at "), warning
    unfitted = json.loads(nfd("compat", "affinity", "--image", versioned, "--emit", "rule",
                              "-o", "json").stdout)
    assert cluster.http.get(f"{RULES}/{unfitted['metadata']['name']}").status_code == 404
