"""A Kubernetes Job that runs ``nfd compat validate-node`` on one chosen node.

The host is seen the way NFD's worker sees it (``deployment/components/common/
worker-mounts.yaml``): read-only hostPath mounts under ``/host-*``, read with
``--host-prefix /host-``, and ``features.d`` at its own path, which NFD reads
literally. ``/proc/swaps`` is the only file NFD reads through the ``proc``
prefix, so only it is mounted (all of ``/proc`` would expose far more).

The pod runs hardened: not as root, read-only root file system, every
capability dropped, no privilege escalation, the runtime's default seccomp
profile, and no service account token (validate-node needs no API access).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfd import __version__
from nfd.cluster._labels import MAX_SUBDOMAIN, fit, is_label_name, short_hash
from nfd.errors import UsageError

# The image must hold this nfd-client (NFD's own `nfd` has no --host-prefix flag).
DEFAULT_CLIENT_IMAGE = "ghcr.io/nfd-client/nfd-client:v" + __version__
FEATURES_D = "/etc/kubernetes/node-feature-discovery/features.d"
HOST_PREFIX = "/host-"
HOSTNAME_LABEL = "kubernetes.io/hostname"
NONROOT_UID = 65534  # "nobody": every image has it, and it owns nothing on the host

# (volume name, host path, mount path). No hostPath ``type``, as in NFD's worker: a
# host without /boot or features.d must still be validated, not leave the pod pending.
HOST_MOUNTS: tuple[tuple[str, str, str], ...] = (
    ("host-boot", "/boot", "/host-boot"),
    ("host-os-release", "/etc/os-release", "/host-etc/os-release"),
    ("host-sys", "/sys", "/host-sys"),
    ("host-proc-swaps", "/proc/swaps", "/host-proc/swaps"),
    ("host-usr-lib", "/usr/lib", "/host-usr/lib"),
    ("host-lib", "/lib", "/host-lib"),
    ("features-d", FEATURES_D, FEATURES_D),
)


@dataclass(frozen=True)
class JobOptions:
    """What the Job validates, where, and how it is run."""

    image: str
    node: str | None = None
    pin: str = "nodeName"  # or "nodeSelector"
    client_image: str = DEFAULT_CLIENT_IMAGE
    namespace: str | None = None
    name: str | None = None
    backoff_limit: int = 0
    ttl_seconds: int = 3600
    extra_args: tuple[str, ...] = ()


def _check(options: JobOptions) -> None:
    if options.backoff_limit < 0:
        raise UsageError(f"`backoff_limit` must be 0 or more, not {options.backoff_limit}",
                         arguments=("backoff_limit",))
    if options.ttl_seconds < 0:
        raise UsageError(f"`ttl_seconds` must be 0 or more, not {options.ttl_seconds}",
                         arguments=("ttl_seconds",))
    if options.pin not in ("nodeName", "nodeSelector"):
        raise UsageError(f"`pin` must be nodeName or nodeSelector, not {options.pin!r}",
                         arguments=("pin",))
    if options.node is not None and (not options.node or len(options.node) > MAX_SUBDOMAIN):
        raise UsageError(f"`node` {options.node!r}: not a node name", arguments=("node",))
    if options.node and options.pin == "nodeSelector" and not is_label_name(options.node):
        raise UsageError(f"`node` {options.node!r}: cannot be a {HOSTNAME_LABEL} label value",
                         arguments=("node",))
    if not options.client_image.strip():
        raise UsageError("`client_image` must not be empty", arguments=("client_image",))


def job_name(options: JobOptions) -> str:
    """``nfd-validate-<node>-<hash>``: deterministic per (image, node), a valid object name."""
    if options.name:
        return options.name
    node = "".join(c if c.isalnum() else "-" for c in (options.node or "any").lower())
    raw = f"nfd-validate-{node}".strip("-")
    # 63, not 253: the Job controller copies the name into the pod's job-name label.
    return fit(f"{raw[:45].strip('-')}-{short_hash(f'{options.image} {options.node}', 8)}", 63)


def build_job(options: JobOptions) -> dict[str, Any]:
    """The Job object (``batch/v1``)."""
    _check(options)
    from nfd.oci import Reference

    Reference.parse(options.image)  # a bad reference fails here, not in the pod
    args = ["compat", "validate-node", "--image", options.image, "--host-prefix", HOST_PREFIX,
            *options.extra_args]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NONROOT_UID,
            "runAsGroup": NONROOT_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [{
            "name": "validate-node",
            "image": options.client_image,
            "command": ["nfd"],
            "args": args,
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                          "limits": {"memory": "256Mi"}},
            "volumeMounts": [{"name": name, "mountPath": mount, "readOnly": True}
                             for name, _, mount in HOST_MOUNTS],
        }],
        "volumes": [{"name": name, "hostPath": {"path": host}} for name, host, _ in HOST_MOUNTS],
    }
    if options.node:
        if options.pin == "nodeName":
            pod_spec["nodeName"] = options.node
        else:
            pod_spec["nodeSelector"] = {HOSTNAME_LABEL: options.node}
    metadata: dict[str, Any] = {"name": job_name(options),
                                "labels": {"app.kubernetes.io/name": "nfd-validate-node"}}
    if options.namespace:
        metadata["namespace"] = options.namespace
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": options.backoff_limit,
            "ttlSecondsAfterFinished": options.ttl_seconds,
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "nfd-validate-node"}},
                "spec": pod_spec,
            },
        },
    }
