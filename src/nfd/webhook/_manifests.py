"""The objects that deploy the webhook: ``nfd compat webhook manifests``.

A Namespace, a ServiceAccount (and, with rule creation, the ClusterRole and
binding to write NodeFeatureRules), a Deployment of two hardened replicas
(non-root, read-only root, no capabilities, probes on ``/healthz``), its
Service and PodDisruptionBudget, and the MutatingWebhookConfiguration. The
serving certificate comes from cert-manager (a Certificate, and the CA injected
into the configuration), or from a Secret ``<name>-tls`` the user makes, with
its CA given as ``--ca-bundle``.

The webhook never sees its own pods nor kube-system's (namespaceSelector), nor
pods labelled ``nfd.k8s-sigs.io/image-compatibility: skip`` (objectSelector; the
annotation of the same name is honoured by the server itself).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from nfd.cluster import DEFAULT_CLIENT_IMAGE
from nfd.errors import UsageError
from nfd.webhook._allow import AllowList
from nfd.webhook._review import SKIP_ANNOTATION, SKIP_VALUE, WORKLOAD_OPERATIONS, FailurePolicy
from nfd.webhook._rules import CRD_NAME, GROUP, PLURAL

DEFAULT_NAMESPACE = "nfd-webhook"
DEFAULT_NAME = "nfd-compat-webhook"
WEBHOOK_NAME = "image-compatibility.nfd.k8s-sigs.io"
PORT = 8443
TLS_DIR = "/etc/nfd-webhook/tls"
AUTH_DIR = "/etc/nfd-webhook/registry-auth"
NONROOT_UID = 65534
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets",
            "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs"}


@dataclass(frozen=True)
class ManifestOptions:
    """What to deploy and how it is wired."""

    allow_registries: tuple[str, ...]
    namespace: str = DEFAULT_NAMESPACE
    name: str = DEFAULT_NAME
    client_image: str = DEFAULT_CLIENT_IMAGE
    cert_manager_issuer: str | None = None
    ca_bundle: bytes | None = None
    failure_policy: FailurePolicy = "ignore"
    serve_timeout: float = 5.0
    webhook_timeout: int = 10
    create_rules: bool = True
    workloads: bool = False
    registry_auth_secret: str | None = None
    replicas: int = 2
    # serve --unsatisfiable: off, warn or deny (list and watch on NodeFeatures then).
    unsatisfiable: str = "off"

    @property
    def uses_api(self) -> bool:
        """Whether the webhook calls the Kubernetes API (its token is mounted then)."""
        return self.create_rules or self.unsatisfiable != "off"


def _check(options: ManifestOptions) -> None:
    for what, value in (("namespace", options.namespace), ("name", options.name)):
        if not _DNS_LABEL.fullmatch(value):
            raise UsageError(f"{what} {value!r}: not a DNS label (lower-case letters, digits "
                             "and '-', at most 63 characters)")
    if (options.cert_manager_issuer is None) == (options.ca_bundle is None):
        raise UsageError("give exactly one of a cert-manager issuer or a CA bundle")
    if options.ca_bundle is not None and b"-----BEGIN CERTIFICATE-----" not in options.ca_bundle:
        raise UsageError("the CA bundle holds no PEM certificate")
    if not options.allow_registries:
        raise UsageError("at least one allowed registry is needed")
    AllowList.parse(options.allow_registries)  # serve would refuse them at start-up
    if not 1 <= options.webhook_timeout <= 30:
        raise UsageError(f"webhook timeout {options.webhook_timeout}: Kubernetes allows 1..30 s")
    if not 0 < options.serve_timeout < options.webhook_timeout:
        raise UsageError(f"serve timeout {options.serve_timeout:g} s must be under the webhook "
                         f"timeout ({options.webhook_timeout} s)")
    if not options.client_image.strip():
        raise UsageError("the client image must not be empty")
    if options.replicas < 1:
        raise UsageError(f"replicas must be at least 1, not {options.replicas}")


def _labels(options: ManifestOptions) -> dict[str, str]:
    return {"app.kubernetes.io/name": options.name, "app.kubernetes.io/component": "webhook",
            "app.kubernetes.io/part-of": "nfd-client"}


def _meta(options: ManifestOptions, namespaced: bool = True,
          name: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name or options.name, "labels": _labels(options)}
    if namespaced:
        meta["namespace"] = options.namespace
    return meta


def _serve_args(options: ManifestOptions) -> list[str]:
    args = ["compat", "webhook", "serve", "--listen", f"0.0.0.0:{PORT}",
            "--tls-cert-file", f"{TLS_DIR}/tls.crt", "--tls-key-file", f"{TLS_DIR}/tls.key",
            "--failure-policy", options.failure_policy, "--timeout", f"{options.serve_timeout:g}"]
    for pattern in options.allow_registries:
        args += ["--allow-registry", pattern]
    if options.registry_auth_secret:
        args += ["--registry-auth-file", f"{AUTH_DIR}/.dockerconfigjson"]
    if options.create_rules:
        args.append("--create-rules")
    if options.unsatisfiable != "off":
        args += ["--unsatisfiable", options.unsatisfiable]
    if options.workloads:
        args.append("--workloads")
    return args


def _container(options: ManifestOptions) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"},
             "periodSeconds": 10, "timeoutSeconds": 2}
    mounts = [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True}]
    if options.registry_auth_secret:
        mounts.append({"name": "registry-auth", "mountPath": AUTH_DIR, "readOnly": True})
    container: dict[str, Any] = {
        "name": "webhook",
        "image": options.client_image,
        "command": ["nfd"],
        "args": _serve_args(options),
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {**probe, "initialDelaySeconds": 1},
        "livenessProbe": {**probe, "initialDelaySeconds": 5, "failureThreshold": 3},
        "securityContext": {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {"requests": {"cpu": "100m", "memory": "96Mi"},
                      # The server and its two review processes, each with one 8 MiB review.
                      "limits": {"memory": "512Mi"}},
        "volumeMounts": mounts,
    }
    return container


def _deployment(options: ManifestOptions) -> dict[str, Any]:
    labels = _labels(options)
    volumes: list[dict[str, Any]] = [{"name": "tls", "secret": {
        "secretName": f"{options.name}-tls", "defaultMode": 0o440}}]
    if options.registry_auth_secret:
        volumes.append({"name": "registry-auth", "secret": {
            "secretName": options.registry_auth_secret, "defaultMode": 0o440}})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(options),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                # The skip label: even if its namespace were selected, it never gates itself.
                "metadata": {"labels": {**labels, SKIP_ANNOTATION: SKIP_VALUE}},
                "spec": {
                    "serviceAccountName": options.name,
                    "automountServiceAccountToken": options.uses_api,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": NONROOT_UID,
                                        "runAsGroup": NONROOT_UID, "fsGroup": NONROOT_UID,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "affinity": {"podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100, "podAffinityTerm": {
                                "labelSelector": {"matchLabels": labels},
                                "topologyKey": "kubernetes.io/hostname"}}]}},
                    "containers": [_container(options)],
                    "volumes": volumes,
                },
            },
        },
    }


def _rules(options: ManifestOptions) -> list[dict[str, Any]]:
    rules = [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
              "resources": ["pods"], "scope": "Namespaced"}]
    if options.workloads:
        # One rule per (group, operations): Jobs are matched on CREATE only.
        by_rule: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for (group, kind), operations in sorted(WORKLOAD_OPERATIONS.items()):
            by_rule.setdefault((group, operations), []).append(_PLURALS[kind])
        for (group, operations), resources in by_rule.items():
            rules.append({"operations": list(operations), "apiGroups": [group],
                          "apiVersions": ["v1"], "scope": "Namespaced",
                          "resources": sorted(resources)})
    return rules


def _webhook_configuration(options: ManifestOptions) -> dict[str, Any]:
    client: dict[str, Any] = {"service": {"namespace": options.namespace, "name": options.name,
                                          "path": "/mutate", "port": 443}}
    meta = _meta(options, namespaced=False)
    if options.ca_bundle is not None:
        client["caBundle"] = base64.b64encode(options.ca_bundle).decode()
    else:
        meta["annotations"] = {"cert-manager.io/inject-ca-from":
                               f"{options.namespace}/{options.name}"}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": meta,
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "admissionReviewVersions": ["v1"],
            "clientConfig": client,
            "rules": _rules(options),
            "failurePolicy": "Fail" if options.failure_policy == "fail" else "Ignore",
            "matchPolicy": "Equivalent",
            # Writing NodeFeatureRules is a side effect: skipped on dry runs, and said so.
            "sideEffects": "NoneOnDryRun" if options.create_rules else "None",
            "timeoutSeconds": options.webhook_timeout,
            # Another webhook may add containers after us: look again at their images.
            "reinvocationPolicy": "IfNeeded",
            "namespaceSelector": {"matchExpressions": [{
                "key": "kubernetes.io/metadata.name", "operator": "NotIn",
                "values": sorted({"kube-system", options.namespace})}]},
            "objectSelector": {"matchExpressions": [{
                "key": SKIP_ANNOTATION, "operator": "NotIn", "values": [SKIP_VALUE]}]},
        }],
    }


def _role_rules(options: ManifestOptions) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if options.create_rules:
        rules += [{"apiGroups": [GROUP], "resources": [PLURAL],
                   "verbs": ["get", "create", "update"]},
                  # the NodeFeatureRule CRD's schema says which ops the cluster's NFD takes
                  {"apiGroups": ["apiextensions.k8s.io"],
                   "resources": ["customresourcedefinitions"],
                   "resourceNames": [CRD_NAME], "verbs": ["get"]}]
    if options.unsatisfiable != "off":  # the NodeFeature index: list, then watch
        rules.append({"apiGroups": [GROUP], "resources": ["nodefeatures"],
                      "verbs": ["list", "watch"]})
    return rules


def _rbac(options: ManifestOptions) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _meta(options, namespaced=False), "rules": _role_rules(options)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta(options, namespaced=False),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": options.name},
         "subjects": [{"kind": "ServiceAccount", "name": options.name,
                       "namespace": options.namespace}]},
    ]


def _certificate(options: ManifestOptions) -> dict[str, Any]:
    issuer = options.cert_manager_issuer or ""
    kind, _, name = issuer.rpartition("/")
    service = f"{options.name}.{options.namespace}.svc"
    return {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": _meta(options),
        "spec": {"secretName": f"{options.name}-tls", "dnsNames": [service,
                                                                    f"{service}.cluster.local"],
                 "issuerRef": {"name": name, "kind": kind or "Issuer",
                               "group": "cert-manager.io"},
                 "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}},
    }


def build_manifests(options: ManifestOptions) -> list[dict[str, Any]]:
    """Every object, in the order ``kubectl apply`` needs them."""
    _check(options)
    if options.cert_manager_issuer is not None:
        kind, _, name = options.cert_manager_issuer.rpartition("/")
        if kind not in ("", "Issuer", "ClusterIssuer") or not name:
            raise UsageError(f"cert-manager issuer {options.cert_manager_issuer!r}: give NAME, "
                             "Issuer/NAME or ClusterIssuer/NAME")
    labels = _labels(options)
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": options.namespace, "labels": labels}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(options),
         "automountServiceAccountToken": options.uses_api},
    ]
    if options.uses_api:
        objects += _rbac(options)
    if options.cert_manager_issuer is not None:
        objects.append(_certificate(options))
    objects += [
        _deployment(options),
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(options),
         "spec": {"selector": labels, "ports": [{"name": "https", "port": 443,
                                                 "targetPort": "https", "protocol": "TCP"}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(options),
         "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}},
        _webhook_configuration(options),
    ]
    return objects

