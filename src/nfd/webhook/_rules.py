"""Creating or updating an image's NodeFeatureRule, so the labels its affinity needs exist.

Through the Kubernetes API, reached as ``validate-cluster``'s live mode reaches it
(:func:`nfd.cluster.load_access`: kubeconfig or the service account, through
:class:`nfd.cluster.KubeClient`): create the rule; if one of that name exists, replace it
only when it is provably this image's: labelled ``app.kubernetes.io/managed-by:
nfd-compat-webhook`` *and* annotated with this image's normalised reference
(:data:`~nfd.webhook._plan.IMAGE_ANNOTATION`). Anything else raises
:class:`RuleConflict` and is left as it is:

* another image's rule (a hash collision, or a name forced onto it);
* a rule made by hand (no label), whatever it holds;
* a rule made by an older version of the webhook (the label, but no owner
  annotation): it cannot be told apart from a forged one. Older versions named
  rules with a 24-bit hash, so their rules have other names anyway, and are
  never touched: delete them with ``kubectl delete nodefeaturerules -l
  app.kubernetes.io/managed-by=nfd-compat-webhook`` once no pod needs them.

The resolver then uses the image's next alternative name (its labels change
with it). Every call has a deadline and a byte cap, and a 401 reloads the
credentials once (service account tokens are rotated on disk). Called from the
resolver's worker threads, once per rule and spec artifact while the spec cache
holds it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from nfd.cluster import KubeClient, NfdSupport, load_access, status_message
from nfd.errors import ClusterError
from nfd.webhook._plan import IMAGE_ANNOTATION, RuleConflict

GROUP, VERSION, PLURAL = "nfd.k8s-sigs.io", "v1alpha1", "nodefeaturerules"
RULES_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
CRD_NAME = f"{PLURAL}.{GROUP}"
CRD_PATH = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_NAME}"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "nfd-compat-webhook"
MAX_REPLY_BYTES = 4 * 1024 * 1024


def owner_of(rule: dict[str, Any]) -> str | None:
    """The image a stored rule belongs to, or ``None`` when it is not provably ours."""
    metadata = rule.get("metadata")
    if not isinstance(metadata, dict):
        return None
    labels = metadata.get("labels")
    annotations = metadata.get("annotations")
    if not isinstance(labels, dict) or labels.get(MANAGED_BY) != MANAGER:
        return None
    image = annotations.get(IMAGE_ANNOTATION) if isinstance(annotations, dict) else None
    return image if isinstance(image, str) else None


class RuleWriter:
    """Writes NodeFeatureRules; thread-safe (the one Kubernetes client of
    :mod:`nfd.cluster`: its deadline and byte budget per call, the kubeconfig's proxy and
    TLS, redaction, and credentials reloaded once on a 401)."""

    def __init__(self, *, kubeconfig: str | None = None, in_cluster: bool = False,
                 timeout: float = 5.0) -> None:
        self._client = KubeClient(lambda: load_access(kubeconfig, None, in_cluster), timeout,
                                  reload_on_401=True)

    @property
    def server(self) -> str:
        return self._client.server

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        content = None if body is None else json.dumps(body).encode()
        return self._client.call(method, path, content=content, max_bytes=MAX_REPLY_BYTES,
                                 what=f"{self.server}: {method} {path}")

    def _fail(self, what: str, status: int, data: bytes) -> ClusterError:
        return ClusterError(f"{self.server}: {what} {PLURAL}.{GROUP}: HTTP {status}: "
                            f"{self._client.redact(status_message(data))}")

    def nfd_support(self) -> NfdSupport:
        """What the cluster's NFD accepts in a rule, read from its NodeFeatureRule CRD (the
        API server enforces that schema, whatever NFD release installed it)."""
        status, data = self._call("GET", CRD_PATH)
        if status != 200:
            raise ClusterError(f"{self.server}: reading customresourcedefinitions/{CRD_NAME}: "
                               f"HTTP {status}: {self._client.redact(status_message(data))}")
        try:
            crd = json.loads(data)
        except (ValueError, RecursionError):
            raise ClusterError(f"{self.server}: customresourcedefinitions/{CRD_NAME}: not "
                               "JSON") from None
        return NfdSupport.from_crd(crd)

    def __call__(self, rule: dict[str, Any]) -> str:
        """Create or update ``rule``; returns ``created``, ``updated`` or ``unchanged``."""
        body = copy.deepcopy(rule)
        body["metadata"].setdefault("labels", {})[MANAGED_BY] = MANAGER
        name = body["metadata"]["name"]
        status, data = self._call("POST", RULES_PATH, body)
        if status in (200, 201):
            return "created"
        if status != 409:
            raise self._fail("creating", status, data)
        status, data = self._call("GET", f"{RULES_PATH}/{name}")
        if status != 200:
            raise self._fail("reading", status, data)
        try:
            current = json.loads(data)
            owner = owner_of(current)
            metadata = current["metadata"]
        except (ValueError, AttributeError, RecursionError, KeyError, TypeError):
            raise ClusterError(f"{self.server}: {PLURAL}/{name}: not a JSON object") from None
        wanted = (body["metadata"].get("annotations") or {}).get(IMAGE_ANNOTATION)
        if owner is None or owner != wanted:
            whose = ("another image's" if owner is not None else
                     f"not provably this image's (no {MANAGED_BY}={MANAGER} label and "
                     f"{IMAGE_ANNOTATION} annotation)")
            raise RuleConflict(f"{PLURAL}/{name} exists and is {whose}; left alone")
        if current.get("spec") == body["spec"] and \
                metadata.get("annotations") == body["metadata"].get("annotations"):
            return "unchanged"
        body["metadata"]["resourceVersion"] = metadata.get("resourceVersion")
        status, data = self._call("PUT", f"{RULES_PATH}/{name}", body)
        if status != 200:
            raise self._fail("updating", status, data)
        return "updated"
