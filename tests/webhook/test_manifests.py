"""``nfd compat webhook manifests``: valid Kubernetes objects that kubectl reads back."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests._cli import assert_one_line_error, nfd
from tests.cluster.conftest import k8s_validate
from tests.webhook._discovery import DiscoveryServer

from nfd.cluster import DEFAULT_CLIENT_IMAGE
from nfd.webhook import SKIP_ANNOTATION, ManifestOptions, build_manifests

ALLOW = ("--allow-registry", "ghcr.io/acme/*")


def _manifests(*flags: str) -> list[dict[str, Any]]:
    done = nfd("compat", "webhook", "manifests", *ALLOW, *flags)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


@pytest.fixture(scope="module")
def ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.oci._registry import make_ca

    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_bytes(make_ca().cert_pem)
    return path


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    server = DiscoveryServer()
    yield server.kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    server.close()


def test_every_object_is_valid_and_as_asked(ca_bundle: Path) -> None:
    objects = _manifests("--ca-bundle", str(ca_bundle), "--namespace", "compat")
    kinds = [o["kind"] for o in objects]
    assert kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                     "Deployment", "Service", "PodDisruptionBudget",
                     "MutatingWebhookConfiguration"]
    for obj in objects:
        k8s_validate(obj)
    by_kind = _by_kind(objects)
    deployment = by_kind["Deployment"]["spec"]
    pod = deployment["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["replicas"] == 2
    assert container["image"] == DEFAULT_CLIENT_IMAGE
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert container["args"][:3] == ["compat", "webhook", "serve"]
    assert "--create-rules" in container["args"]
    assert container["args"][container["args"].index("--allow-registry") + 1] == "ghcr.io/acme/*"
    webhook = by_kind["MutatingWebhookConfiguration"]["webhooks"][0]
    assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == ca_bundle.read_bytes()
    assert webhook["clientConfig"]["service"] == {
        "namespace": "compat", "name": "nfd-compat-webhook", "path": "/mutate", "port": 443}
    assert webhook["sideEffects"] == "NoneOnDryRun"  # it writes NodeFeatureRules
    assert webhook["timeoutSeconds"] == 10 and webhook["failurePolicy"] == "Ignore"
    assert webhook["namespaceSelector"]["matchExpressions"] == [{
        "key": "kubernetes.io/metadata.name", "operator": "NotIn",
        "values": ["compat", "kube-system"]}]
    assert webhook["objectSelector"]["matchExpressions"] == [{
        "key": SKIP_ANNOTATION, "operator": "NotIn", "values": ["skip"]}]
    assert by_kind["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    rules = by_kind["ClusterRole"]["rules"]
    assert rules == [{"apiGroups": ["nfd.k8s-sigs.io"], "resources": ["nodefeaturerules"],
                      "verbs": ["get", "create", "update"]},
                     # reading the NodeFeatureRule CRD tells which ops the cluster's NFD takes
                     {"apiGroups": ["apiextensions.k8s.io"],
                      "resources": ["customresourcedefinitions"],
                      "resourceNames": ["nodefeaturerules.nfd.k8s-sigs.io"], "verbs": ["get"]}]


def test_without_rules_there_is_no_rbac_and_no_side_effect(ca_bundle: Path) -> None:
    objects = _manifests("--ca-bundle", str(ca_bundle), "--no-create-rules", "--workloads",
                         "--failure-policy", "fail")
    for obj in objects:
        k8s_validate(obj)
    by_kind = _by_kind(objects)
    assert "ClusterRole" not in by_kind
    assert by_kind["ServiceAccount"]["automountServiceAccountToken"] is False
    webhook = by_kind["MutatingWebhookConfiguration"]["webhooks"][0]
    assert webhook["sideEffects"] == "None" and webhook["failurePolicy"] == "Fail"
    assert [(r["resources"], r["operations"]) for r in webhook["rules"]] == [
        (["pods"], ["CREATE"]), (["daemonsets", "deployments", "statefulsets"],
                                 ["CREATE", "UPDATE"]),
        (["cronjobs"], ["CREATE", "UPDATE"]), (["jobs"], ["CREATE"])]
    args = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--workloads" in args and "--create-rules" not in args
    assert args[args.index("--failure-policy") + 1] == "fail"


def test_cert_manager_certificate_and_injection() -> None:
    objects = _manifests("--cert-manager", "ClusterIssuer/cluster-ca",
                         "--registry-auth-secret", "pull-secret")
    by_kind = _by_kind(objects)
    for obj in objects:
        if obj["kind"] != "Certificate":  # a CRD: not in the Kubernetes schemas
            k8s_validate(obj)
    cert = by_kind["Certificate"]["spec"]
    assert cert["issuerRef"] == {"name": "cluster-ca", "kind": "ClusterIssuer",
                                 "group": "cert-manager.io"}
    assert cert["secretName"] == "nfd-compat-webhook-tls"
    assert cert["dnsNames"][0] == "nfd-compat-webhook.nfd-webhook.svc"
    configuration = by_kind["MutatingWebhookConfiguration"]
    assert configuration["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from": "nfd-webhook/nfd-compat-webhook"}
    assert "caBundle" not in configuration["webhooks"][0]["clientConfig"]
    container = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[args.index("--registry-auth-file") + 1] == \
        "/etc/nfd-webhook/registry-auth/.dockerconfigjson"
    mount = {"name": "registry-auth", "mountPath": "/etc/nfd-webhook/registry-auth",
             "readOnly": True}
    assert mount in container["volumeMounts"]
    assert {"name": "registry-auth", "secret": {"secretName": "pull-secret",
                                                "defaultMode": 0o440}} in by_kind[
        "Deployment"]["spec"]["template"]["spec"]["volumes"]


def _json_stream(text: str) -> list[dict[str, Any]]:
    """kubectl prints one JSON object after the other."""
    decoder, items, at = json.JSONDecoder(), [], 0
    while text[at:].strip():
        obj, end = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        items.append(obj)
        at = end
    return items


def test_kubectl_reads_them_back(kubeconfig: Path, ca_bundle: Path) -> None:
    if shutil.which("kubectl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is needed to read the manifests back")
        pytest.skip("needs kubectl to read the manifests back")
    for flags in (("--ca-bundle", str(ca_bundle)), ("--cert-manager", "issuer")):
        done = nfd("compat", "webhook", "manifests", *ALLOW, *flags)
        ours = [d for d in yaml.safe_load_all(done.stdout) if d]
        read = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "create", "--dry-run=client",
             "--validate=false", "-o", "json", "-f", "-"],
            input=done.stdout, capture_output=True, text=True, timeout=60, check=False)
        assert read.returncode == 0, read.stderr
        items = _json_stream(read.stdout)
        assert [(i["kind"], i["metadata"]["name"]) for i in items] == [
            (o["kind"], o["metadata"]["name"]) for o in ours]
        for item, obj in zip(items, ours, strict=True):
            assert item.get("spec") == obj.get("spec")
            assert item.get("webhooks") == obj.get("webhooks")


def test_json_is_a_list(ca_bundle: Path) -> None:
    done = nfd("compat", "webhook", "manifests", *ALLOW, "--ca-bundle", str(ca_bundle),
               "-o", "json")
    assert done.returncode == 0
    listed = json.loads(done.stdout)
    assert listed["kind"] == "List" and len(listed["items"]) == 8


def test_bad_input_is_one_line(tmp_path: Path, ca_bundle: Path) -> None:
    not_pem = tmp_path / "x.crt"
    not_pem.write_text("hello")
    assert_one_line_error(nfd("compat", "webhook", "manifests", *ALLOW, "--ca-bundle",
                              str(not_pem)), 2, str(not_pem), "PEM")
    assert_one_line_error(nfd("compat", "webhook", "manifests", *ALLOW, "--ca-bundle",
                              str(tmp_path / "absent")), 2, "absent")
    assert_one_line_error(nfd("compat", "webhook", "manifests", *ALLOW, "--ca-bundle",
                              str(ca_bundle), "--namespace", "Bad_NS"), 2, "Bad_NS")
    assert_one_line_error(nfd("compat", "webhook", "manifests", *ALLOW, "--cert-manager",
                              "Vault/x"), 2, "Vault/x")
    assert_one_line_error(nfd("compat", "webhook", "manifests", *ALLOW, "--ca-bundle",
                              str(ca_bundle), "--timeout", "12"), 2, "under the webhook")
    done = nfd("compat", "webhook", "manifests", *ALLOW)
    assert done.returncode == 2 and "--cert-manager" in done.stderr


def test_library_needs_exactly_one_tls_source() -> None:
    from nfd.errors import UsageError

    with pytest.raises(UsageError, match="exactly one"):
        build_manifests(ManifestOptions(allow_registries=("x",)))


def test_unsatisfiable_grants_list_and_watch_on_nodefeatures(ca_bundle: Path) -> None:
    def role_rules(*flags: str) -> list[dict[str, Any]]:
        objects = _by_kind(_manifests("--ca-bundle", str(ca_bundle), *flags))
        role = objects.get("ClusterRole")
        return role["rules"] if role else []

    watch = {"apiGroups": ["nfd.k8s-sigs.io"], "resources": ["nodefeatures"],
             "verbs": ["list", "watch"]}
    assert watch not in role_rules()  # off by default: nothing granted for it
    assert watch in role_rules("--unsatisfiable", "deny")
    # Without rule creation, the webhook still calls the API: the token is mounted, and the
    # role grants the NodeFeature reads alone.
    objects = _by_kind(_manifests("--ca-bundle", str(ca_bundle), "--no-create-rules",
                                  "--unsatisfiable", "warn"))
    assert objects["ClusterRole"]["rules"] == [watch]
    assert objects["ServiceAccount"]["automountServiceAccountToken"] is True
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    args = pod["containers"][0]["args"]
    assert args[args.index("--unsatisfiable") + 1] == "warn"
    assert "ClusterRole" not in _by_kind(_manifests("--ca-bundle", str(ca_bundle),
                                                    "--no-create-rules"))
