"""Kubernetes Jobs that run ``nfd compat validate-node`` on chosen nodes.

The host is seen the way NFD's worker sees it (``deployment/components/common/
worker-mounts.yaml``): read-only hostPath mounts under ``/host-*``, read with
``--host-prefix /host-``, and ``features.d`` at its own path, which NFD reads
literally. ``/proc/swaps`` is the only file NFD reads through the ``proc``
prefix, so only it is mounted (all of ``/proc`` would expose far more). Unlike
NFD's worker, every hostPath has a ``type`` and none is ``*OrCreate``: the Job
never creates a path on the node (a node lacking one does not start the pod; leave
that mount out, and ``activeDeadlineSeconds`` ends a Job that cannot start).

The pod runs hardened: not as root, read-only root file system, every
capability dropped, no privilege escalation, the runtime's default seccomp
profile, and no service account token (validate-node needs no API access).
Its log is validate-node's ``--output-json`` (NFD's JSON, for ``kubectl logs``).
A podFailurePolicy tells the verdict from a crash: exit 1 ("not compatible")
fails the Job at once with reason ``PodFailurePolicy``; any other failure counts
against ``backoffLimit`` and ends as ``BackoffLimitExceeded``; a pod evicted by a
disruption (drain, preemption) is retried without counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nfd import __version__
from nfd._image import client_image
from nfd.cluster._labels import (
    MAX_NAME,
    fit,
    is_dns_label,
    is_label_name,
    is_subdomain,
    short_hash,
)
from nfd.errors import UsageError

# The image must hold this nfd-client (NFD's own `nfd` has no --host-prefix flag):
# the one scripts/build-image makes and tags from this version.
DEFAULT_CLIENT_IMAGE = client_image(__version__)
FEATURES_D = "/etc/kubernetes/node-feature-discovery/features.d"
HOST_PREFIX = "/host-"
HOSTNAME_LABEL = "kubernetes.io/hostname"
NONROOT_UID = 65534  # "nobody": every image has it, and it owns nothing on the host
CONTAINER = "validate-node"
EXIT_NOT_COMPATIBLE = 1
EXIT_UNTRUSTED = 5  # validate-node's exit code for a spec no trusted identity signed
REGISTRY_AUTH_DIR = "/etc/nfd-client/registry-auth"
# A kubernetes.io/dockerconfigjson Secret's key, and the file name podman and we read.
DOCKER_CONFIG_KEY = ".dockerconfigjson"
REGISTRY_AUTH_FILE = f"{REGISTRY_AUTH_DIR}/config.json"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Trust material for validate-node's --verify, mounted read-only. Each file is mounted with
# subPath: the kubelet resolves the volume's own symbolic links (AtomicWriter's ``..data``)
# for a subPath (pkg/volume/util/subpath: EvalSymlinks, then a bind mount), so the pod sees
# regular files and directories, which Notation's rules (and ours) require.
NOTATION_DIR = "/etc/nfd-client/notation"
COSIGN_DIR = "/etc/nfd-client/cosign"
# The public key's entry in the Secret `cosign generate-key-pair k8s://NS/NAME` makes (beside
# cosign.key and cosign.password, which are never mounted).
COSIGN_PUBLIC_KEY = "cosign.pub"
VERIFY_SCHEMES = ("notation", "cosign")
MAX_CONFIGMAP_BYTES = 1024 * 1024  # the API server's limit on a ConfigMap's data
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
MAX_NODES = 5000  # Kubernetes' tested maximum cluster size

# (volume name, host path, mount path).
HOST_MOUNTS: tuple[tuple[str, str, str], ...] = (
    ("host-boot", "/boot", "/host-boot"),
    ("host-os-release", "/etc/os-release", "/host-etc/os-release"),
    ("host-sys", "/sys", "/host-sys"),
    ("host-proc-swaps", "/proc/swaps", "/host-proc/swaps"),
    ("host-usr-lib", "/usr/lib", "/host-usr/lib"),
    ("host-lib", "/lib", "/host-lib"),
    ("features-d", FEATURES_D, FEATURES_D),
)
# The hostPath type of each: checked by the kubelet, never created.
HOST_PATH_TYPES: dict[str, str] = {
    "host-boot": "Directory",
    "host-os-release": "File",
    "host-sys": "Directory",
    "host-proc-swaps": "File",
    "host-usr-lib": "Directory",
    "host-lib": "Directory",
    "features-d": "Directory",
}


@dataclass(frozen=True)
class Toleration:
    """A pod toleration: ``key=value:effect`` (operator Equal) or ``key:effect`` (Exists)."""

    key: str
    effect: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Toleration:
        """``KEY[=VALUE]:EFFECT``, as ``kubectl taint`` writes a taint."""
        head, sep, effect = text.rpartition(":")
        if not sep or effect not in TAINT_EFFECTS:
            raise UsageError(f"`toleration` {text!r}: expected KEY[=VALUE]:EFFECT with EFFECT "
                             f"one of {', '.join(TAINT_EFFECTS)}", arguments=("toleration",))
        key, eq, value = head.partition("=")
        toleration = cls(key=key, effect=effect, value=value if eq else None)
        toleration.check(text)
        return toleration

    def check(self, text: str) -> None:
        prefix, slash, name = self.key.rpartition("/")
        if not is_label_name(name) or (slash and not is_subdomain(prefix)):
            raise UsageError(f"`toleration` {text!r}: {self.key!r} is not a taint key",
                             arguments=("toleration",))
        if self.value and not is_label_name(self.value):
            raise UsageError(f"`toleration` {text!r}: {self.value!r} is not a taint value",
                             arguments=("toleration",))

    def to_obj(self) -> dict[str, str]:
        if self.value is None:
            return {"key": self.key, "operator": "Exists", "effect": self.effect}
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


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
    deadline_seconds: int = 600
    extra_args: tuple[str, ...] = ()
    image_pull_secrets: tuple[str, ...] = ()
    registry_auth_secret: str | None = None
    tolerations: tuple[Toleration, ...] = ()
    skip_mounts: frozenset[str] = frozenset()
    #: validate-node's ``--verify``: "notation" (with ``trust_configmap`` and its
    #: ``trust_files``) or "cosign" (with ``cosign_key_secrets``).
    verify: str | None = None
    #: The ConfigMap that carries the Notation trust policy and trust store into the pod.
    trust_configmap: str | None = None
    #: Its files, relative to the policy's directory (``NotationVerifier.trust_files``):
    #: the policy first, then ``truststore/x509/TYPE/NAME/FILE``.
    trust_files: tuple[tuple[str, bytes], ...] = ()
    #: (Secret, key) pairs, each a PEM public key whose cosign signatures are trusted.
    cosign_key_secrets: tuple[tuple[str, str], ...] = ()


# validate-node's flags the pod cannot honour, or that the Job sets itself (a reason naming
# `registry_auth_secret` is worded as that argument's flag by the CLI).
REFUSED_ARGS = {
    "--registry-password-stdin": "the pod has no stdin (use `registry_auth_secret`)",
    "--registry-token-stdin": "the pod has no stdin (use `registry_auth_secret`)",
    "--image": "the Job sets it",
    "--host-prefix": "the Job sets it",
    "--output-json": "the Job sets it: the pod's log is validate-node's JSON",
    "--output": "the pod's log is validate-node's JSON (--output-json)",
    "-o": "the pod's log is validate-node's JSON (--output-json)",
    "--registry-username": "the pod has no stdin for the password (use "
                           "`registry_auth_secret`)",
    "--node": "it picks a node of a features file; the pod validates its own node",
    "--verify": "the pod needs the trust material: use `verify` with `trust_configmap` or "
                "`cosign_key_secret`",
    "--trust-policy": "a file here is not in the pod: use `trust_configmap`",
    "--cosign-key": "a file here is not in the pod: use `cosign_key_secret`",
}


def _refusal(arg: str) -> str | None:
    name = arg.split("=", 1)[0]
    if not name.startswith("--") and len(name) > 2:
        name = name[:2]  # -ojson
    return REFUSED_ARGS.get(name)


def _named_in(text: str) -> tuple[str, ...]:
    return tuple(name for name in ("registry_auth_secret", "verify", "trust_configmap",
                                   "cosign_key_secret") if f"`{name}`" in text)


def _check(options: JobOptions) -> None:
    if options.backoff_limit < 0:
        raise UsageError(f"`backoff_limit` must be 0 or more, not {options.backoff_limit}",
                         arguments=("backoff_limit",))
    if options.ttl_seconds < 0:
        raise UsageError(f"`ttl_seconds` must be 0 or more, not {options.ttl_seconds}",
                         arguments=("ttl_seconds",))
    if options.deadline_seconds <= 0:
        raise UsageError(f"`deadline_seconds` must be more than 0, not "
                         f"{options.deadline_seconds}", arguments=("deadline_seconds",))
    if options.pin not in ("nodeName", "nodeSelector"):
        raise UsageError(f"`pin` must be nodeName or nodeSelector, not {options.pin!r}",
                         arguments=("pin",))
    if options.node is not None:
        check_node_name(options.node, options.pin)
    check_object_names(options.name, options.namespace)
    if not options.client_image.strip():
        raise UsageError("`client_image` must not be empty", arguments=("client_image",))
    for secret in options.image_pull_secrets:
        if not is_subdomain(secret):
            raise UsageError(f"`image_pull_secret` {secret!r}: not a Kubernetes object name "
                             "(RFC 1123)", arguments=("image_pull_secret",))
    auth = options.registry_auth_secret
    if auth is not None and not is_subdomain(auth):
        raise UsageError(f"`registry_auth_secret` {auth!r}: not a Kubernetes object name "
                         "(RFC 1123)", arguments=("registry_auth_secret",))
    unknown = options.skip_mounts - set(HOST_PATH_TYPES)
    if unknown:
        raise UsageError(f"`skip_mount` {sorted(unknown)[0]!r}: not one of "
                         f"{', '.join(HOST_PATH_TYPES)}", arguments=("skip_mount",))
    for arg in options.extra_args:
        reason = _refusal(arg)
        if reason:
            raise UsageError(f"validate-node argument {arg!r} is refused: {reason}",
                             arguments=_named_in(reason))
    _check_verify(options)


def _check_verify(options: JobOptions) -> None:
    """``verify`` and its trust material go together: notation with a ConfigMap of its
    policy and store, cosign with key Secrets, and neither without ``verify``."""
    scheme, configmap, secrets = options.verify, options.trust_configmap, options.cosign_key_secrets
    if scheme not in (None, *VERIFY_SCHEMES):
        raise UsageError(f"`verify` {scheme!r}: not one of {', '.join(VERIFY_SCHEMES)}",
                         arguments=("verify",))
    if scheme != "notation" and (configmap or options.trust_files):
        raise UsageError("`trust_configmap` carries a Notation trust policy: it goes with "
                         "`verify` notation", arguments=("trust_configmap", "verify"))
    if scheme != "cosign" and secrets:
        raise UsageError("`cosign_key_secret` goes with `verify` cosign",
                         arguments=("cosign_key_secret", "verify"))
    if scheme == "notation":
        if not configmap or not options.trust_files:
            raise UsageError("`verify` notation in a Job needs `trust_configmap` NAME: the "
                             "trust policy and store it carries into the pod",
                             arguments=("verify", "trust_configmap"))
        if not is_subdomain(configmap):
            raise UsageError(f"`trust_configmap` {configmap!r}: not a Kubernetes object name "
                             "(RFC 1123)", arguments=("trust_configmap",))
        trust_configmap_data(options)  # keys and size checked before anything is emitted
    if scheme == "cosign" and not secrets:
        raise UsageError("`verify` cosign in a Job needs `cosign_key_secret` NAME[:KEY]: the "
                         "public key it carries into the pod", arguments=("verify",
                                                                           "cosign_key_secret"))
    for secret, key in secrets:
        if not is_subdomain(secret) or not _is_key(key):
            raise UsageError(f"`cosign_key_secret` {secret}:{key!r}: not a Secret name "
                             "(RFC 1123) and key ([-._a-zA-Z0-9]+)",
                             arguments=("cosign_key_secret",))
    if len(set(secrets)) != len(secrets):
        raise UsageError("`cosign_key_secret`: a key is given twice",
                         arguments=("cosign_key_secret",))


def _is_key(key: str) -> bool:
    """A ConfigMap or Secret key (``IsConfigMapKey``), never ``.`` or ``..``."""
    return 0 < len(key) <= 253 and set(key) <= _KEY_CHARS and key not in (".", "..") \
        and not key.startswith("..")


def _trust_key(path: str) -> str:
    """The ConfigMap key of a trust file: ``truststore/x509/ca/acme/certs.pem`` ->
    ``ca.acme.certs.pem`` (keys are flat; the volume's items put each back at its path)."""
    return path.removeprefix("truststore/x509/").replace("/", ".")


def trust_configmap_data(options: JobOptions) -> tuple[dict[str, str], dict[str, str]]:
    """(data, binaryData) of the trust ConfigMap, with its keys and size checked."""
    import base64

    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    total = 0
    for path, content in options.trust_files:
        key = _trust_key(path)
        parts = path.split("/")
        if not _is_key(key) or key in data or key in binary or "" in parts or ".." in parts:
            raise UsageError(f"`trust_configmap`: trust file {path!r} cannot be a ConfigMap "
                             "key (store names must be [-._a-zA-Z0-9]+)",
                             arguments=("trust_configmap",))
        total += len(key) + len(content)
        try:
            data[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode("ascii")
    if total > MAX_CONFIGMAP_BYTES:
        raise UsageError(f"`trust_configmap`: the trust policy and store take {total} bytes, "
                         f"more than a ConfigMap holds ({MAX_CONFIGMAP_BYTES})",
                         arguments=("trust_configmap",))
    return data, binary


def build_trust_configmap(options: JobOptions) -> dict[str, Any]:
    """The ConfigMap (``v1``) that carries the Notation trust policy and store into the Jobs'
    pods; it belongs before the Jobs in what ``kubectl apply`` reads."""
    _check(options)
    if options.verify != "notation" or not options.trust_configmap:
        raise UsageError("a trust ConfigMap is for `verify` notation",
                         arguments=("verify",))
    data, binary = trust_configmap_data(options)
    metadata: dict[str, Any] = {"name": options.trust_configmap,
                                "labels": {"app.kubernetes.io/name": "nfd-validate-node"}}
    if options.namespace:
        metadata["namespace"] = options.namespace
    configmap: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if data:
        configmap["data"] = data
    if binary:
        configmap["binaryData"] = binary
    return configmap


def check_object_names(name: str | None, namespace: str | None) -> None:
    """The Job's name and namespace as the API server validates them.

    A Job name is a DNS-1123 subdomain (``ValidateObjectMeta`` in Kubernetes'
    ``pkg/apis/batch/validation``) that also fits a label value, 63 characters: the
    Job controller copies it into the pod's ``batch.kubernetes.io/job-name`` label. A
    namespace is a DNS-1123 label (``ValidateNamespaceName``).
    """
    if name is not None and not (is_subdomain(name) and len(name) <= MAX_NAME):
        raise UsageError(f"`job_name` {name!r}: not a Job name (RFC 1123 subdomain: lowercase "
                         f"letters, digits, '-' and '.', at most {MAX_NAME} characters)",
                         arguments=("job_name",))
    if namespace is not None and not is_dns_label(namespace):
        raise UsageError(f"`namespace` {namespace!r}: not a namespace name (RFC 1123 label: "
                         f"lowercase letters, digits and '-', at most {MAX_NAME} characters)",
                         arguments=("namespace",))


def check_node_name(node: str, pin: str = "nodeName") -> None:
    """A node name is a DNS-1123 subdomain; a nodeSelector also needs it as a label value."""
    if not is_subdomain(node):
        raise UsageError(f"`node` {node!r}: not a node name (RFC 1123: lowercase letters, "
                         "digits, '-' and '.', at most 253 characters)", arguments=("node",))
    if pin == "nodeSelector" and not is_label_name(node):
        raise UsageError(f"`node` {node!r}: cannot be a {HOSTNAME_LABEL} label value",
                         arguments=("node",))


def job_name(options: JobOptions) -> str:
    """``nfd-validate-<node>-<hash>``: deterministic per (image, node), a valid object name."""
    if options.name:
        return options.name
    node = "".join(c if c.isalnum() else "-" for c in (options.node or "any").lower())
    raw = f"nfd-validate-{node}".strip("-")
    # 63, not 253: the Job controller copies the name into the pod's job-name label.
    return fit(f"{raw[:45].strip('-')}-{short_hash(f'{options.image} {options.node}', 8)}",
               MAX_NAME)


def _volumes(options: JobOptions) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, volumeMounts): the node's paths, and the registry credentials if any."""
    kept = [m for m in HOST_MOUNTS if m[0] not in options.skip_mounts]
    volumes = [{"name": name, "hostPath": {"path": host, "type": HOST_PATH_TYPES[name]}}
               for name, host, _ in kept]
    mounts = [{"name": name, "mountPath": mount, "readOnly": True} for name, _, mount in kept]
    if options.registry_auth_secret:
        volumes.append({"name": "registry-auth", "secret": {
            "secretName": options.registry_auth_secret, "defaultMode": 0o444,
            "items": [{"key": DOCKER_CONFIG_KEY, "path": "config.json"}]}})
        mounts.append({"name": "registry-auth", "mountPath": REGISTRY_AUTH_DIR,
                       "readOnly": True})
    if options.verify == "notation" and options.trust_configmap:
        items = [{"key": _trust_key(path), "path": path} for path, _ in options.trust_files]
        volumes.append({"name": "trust-policy", "configMap": {
            "name": options.trust_configmap, "defaultMode": 0o444, "items": items}})
        policy = options.trust_files[0][0]
        mounts += [{"name": "trust-policy", "mountPath": f"{NOTATION_DIR}/{sub}",
                    "subPath": sub, "readOnly": True} for sub in (policy, "truststore")]
    for number, (secret, key) in enumerate(options.cosign_key_secrets):
        volumes.append({"name": f"cosign-key-{number}", "secret": {
            "secretName": secret, "defaultMode": 0o444, "items": [{"key": key, "path": key}]}})
        mounts.append({"name": f"cosign-key-{number}", "mountPath": _cosign_key_path(number, key),
                       "subPath": key, "readOnly": True})
    return volumes, mounts


def _cosign_key_path(number: int, key: str) -> str:
    return f"{COSIGN_DIR}/{number}/{key}"


def _verify_args(options: JobOptions) -> list[str]:
    """validate-node's --verify flags, pointed at the mounted trust material."""
    if options.verify == "notation":
        return ["--verify", "notation", "--trust-policy",
                f"{NOTATION_DIR}/{options.trust_files[0][0]}"]
    if options.verify == "cosign":
        keys = [_cosign_key_path(n, key) for n, (_, key) in enumerate(options.cosign_key_secrets)]
        return ["--verify", "cosign", *(arg for path in keys for arg in ("--cosign-key", path))]
    return []


def _container(options: JobOptions, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    args = ["compat", "validate-node", "--image", options.image, "--host-prefix", HOST_PREFIX,
            *options.extra_args, *_verify_args(options), "--output-json"]
    container: dict[str, Any] = {
        "name": CONTAINER,
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
        # An error is one line on stderr: it becomes the pod's termination message.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    }
    if options.registry_auth_secret:
        container["env"] = [{"name": "REGISTRY_AUTH_FILE", "value": REGISTRY_AUTH_FILE}]
    return container


def _pod_spec(options: JobOptions) -> dict[str, Any]:
    volumes, mounts = _volumes(options)
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NONROOT_UID,
            "runAsGroup": NONROOT_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(options, mounts)],
        "volumes": volumes,
    }
    if options.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": n} for n in options.image_pull_secrets]
    if options.tolerations:
        pod_spec["tolerations"] = [t.to_obj() for t in options.tolerations]
    if options.node:
        if options.pin == "nodeName":
            pod_spec["nodeName"] = options.node
        else:
            pod_spec["nodeSelector"] = {HOSTNAME_LABEL: options.node}
    return pod_spec


def build_job(options: JobOptions) -> dict[str, Any]:
    """The Job object (``batch/v1``)."""
    _check(options)
    from nfd.oci import Reference

    Reference.parse(options.image)  # a bad reference fails here, not in the pod
    labels = {"app.kubernetes.io/name": "nfd-validate-node"}
    metadata: dict[str, Any] = {"name": job_name(options), "labels": dict(labels)}
    if options.namespace:
        metadata["namespace"] = options.namespace
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": options.backoff_limit,
            "ttlSecondsAfterFinished": options.ttl_seconds,
            "activeDeadlineSeconds": options.deadline_seconds,
            "podFailurePolicy": {"rules": [
                # Verdicts a retry cannot change: not compatible, and a spec that is not
                # trusted (validate-node's exit 5 under --verify).
                {"action": "FailJob", "onExitCodes": {
                    "containerName": CONTAINER, "operator": "In",
                    "values": [EXIT_NOT_COMPATIBLE, EXIT_UNTRUSTED]}},
                # status is written out: API servers default it to "True", but the published
                # OpenAPI schemas (Kubernetes 1.32-1.34) mark it required, so strict validators
                # (kubectl's client-side validation, kubeconform) refuse a Job without it.
                {"action": "Ignore",
                 "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            ]},
            "template": {"metadata": {"labels": dict(labels)}, "spec": _pod_spec(options)},
        },
    }


def build_jobs(options: JobOptions, nodes: Sequence[str]) -> dict[str, Any]:
    """One Job per node, in a ``v1`` List (``kubectl apply -f`` takes it as is)."""
    if not nodes:
        raise UsageError("`nodes`: no node names", arguments=("nodes",))
    if len(nodes) > MAX_NODES:
        raise UsageError(f"`nodes`: {len(nodes)} nodes, more than {MAX_NODES}",
                         arguments=("nodes",))
    if options.name and len(nodes) > 1:
        raise UsageError("`job_name` names one Job: leave it out with several nodes",
                         arguments=("job_name",))
    seen: set[str] = set()
    for node in nodes:
        if node in seen:
            raise UsageError(f"`nodes`: {node!r} is listed twice", arguments=("nodes",))
        seen.add(node)
    items = [build_job(replace(options, node=node)) for node in nodes]
    return {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}


def parse_node_list(text: str, source: str) -> list[str]:
    """Node names, one per line (blank lines and ``#`` comments skipped; ``node/NAME``,
    as ``kubectl get nodes -o name`` prints it, accepted)."""
    nodes = []
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip().removeprefix("node/")
        if name:
            if not is_subdomain(name):
                raise UsageError(f"{source}: line {number}: {name!r} is not a node name "
                                 "(RFC 1123)")
            nodes.append(name)
    return nodes
