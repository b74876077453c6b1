"""Creating or updating an image's NodeFeatureRule, so the labels its affinity needs exist.

Through the Kubernetes API (the official client, as ``validate-cluster``'s
live mode): create the rule; if one of that name exists, replace it only when
it is ours (labelled ``app.kubernetes.io/managed-by: nfd-compat-webhook``) and
different, never someone else's. Called from the resolver's worker threads,
at most once per rule and spec artifact while the spec cache holds it.
"""

from __future__ import annotations

import copy
import json
import warnings
from typing import Any

from nfd.cluster._kube import KubeOptions, load_configuration
from nfd.errors import ClusterError

GROUP, VERSION, PLURAL = "nfd.k8s-sigs.io", "v1alpha1", "nodefeaturerules"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "nfd-compat-webhook"


def _message(exc: Any) -> str:
    try:
        body = json.loads(exc.body or "")
        text = body.get("message") if isinstance(body, dict) else None
    except (TypeError, ValueError):
        text = None
    return " ".join(str(text or exc.reason or "").split())


class RuleWriter:
    """Writes NodeFeatureRules with one API client (thread-safe: urllib3's pool)."""

    def __init__(self, options: KubeOptions) -> None:
        from kubernetes import client

        cfg, _ = load_configuration(options)
        self.server = str(cfg.host)
        self._timeout = options.timeout
        self._api = client.CustomObjectsApi(client.ApiClient(configuration=cfg))

    def __call__(self, rule: dict[str, Any]) -> str:
        """Create or update ``rule``; returns ``created``, ``updated`` or ``unchanged``."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, InsecureRequestWarning

        body = copy.deepcopy(rule)
        body["metadata"].setdefault("labels", {})[MANAGED_BY] = MANAGER
        name = body["metadata"]["name"]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                return self._write(name, body)
        except ApiException as exc:
            raise ClusterError(f"{self.server}: writing {PLURAL}/{name}: HTTP {exc.status}: "
                               f"{_message(exc)}") from None
        except (HTTPError, OSError) as exc:
            raise ClusterError(f"{self.server}: cannot reach the API server: "
                               f"{' '.join(str(getattr(exc, 'reason', None) or exc).split())}"
                               ) from None

    def _write(self, name: str, body: dict[str, Any]) -> str:
        from kubernetes.client.exceptions import ApiException

        try:
            self._api.create_cluster_custom_object(GROUP, VERSION, PLURAL, body,
                                                   _request_timeout=self._timeout)
            return "created"
        except ApiException as exc:
            if exc.status != 409:
                raise
        current: Any = self._api.get_cluster_custom_object(GROUP, VERSION, PLURAL, name,
                                                           _request_timeout=self._timeout)
        labels = ((current or {}).get("metadata") or {}).get("labels") or {}
        if labels.get(MANAGED_BY) != MANAGER:
            raise ClusterError(f"{self.server}: {PLURAL}/{name} exists and is not ours (no "
                               f"{MANAGED_BY}={MANAGER} label); left alone")
        if current.get("spec") == body["spec"]:
            return "unchanged"
        body["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        self._api.replace_cluster_custom_object(GROUP, VERSION, PLURAL, name, body,
                                                _request_timeout=self._timeout)
        return "updated"
