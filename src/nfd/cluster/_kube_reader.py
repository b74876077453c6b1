"""Listing a resource (NodeFeatures by default): one bounded GET per page through
:class:`KubeClient` (see :mod:`._kube`), and reading the pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nfd.api import LoadLimits, check_json_containers
from nfd.cluster._kube_client import KubeClient
from nfd.errors import ClusterError, SpecError

GROUP, VERSION, PLURAL = "nfd.k8s-sigs.io", "v1alpha1", "nodefeatures"
LIST_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"


@dataclass(frozen=True)
class Resource:
    """A resource listed across all namespaces: its API group ("" for the core group),
    version and plural name, and the ``kind`` its list items stand for."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def path(self) -> str:
        """The list URL's path (the core group lives under /api, the others under /apis)."""
        if not self.group:
            return f"/api/{self.version}/{self.plural}"
        return f"/apis/{self.group}/{self.version}/{self.plural}"

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}/{self.version}" if self.group else \
            f"{self.plural}/{self.version}"


NODE_FEATURES = Resource(GROUP, VERSION, PLURAL, "NodeFeature")


class Expired(Exception):
    """410 Gone: the continue token is too old."""


class Reader:
    """GETs of the list endpoint through the one :class:`KubeClient`, each within its own
    deadline and byte cap."""

    def __init__(self, client: KubeClient, page_size: int, max_page_bytes: int,
                 resource: Resource = NODE_FEATURES) -> None:
        self.client = client
        self.resource = resource
        self.access = client.access
        self._page_size = page_size
        self._max_page_bytes = max_page_bytes

    def close(self) -> None:
        self.client.close()

    def page(self, token: str | None) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": self._page_size}
        if token:
            params["continue"] = token
        status, body = self.client.call("GET", self.resource.path, params=params, what=self.what(),
                                        max_bytes=self._max_page_bytes, answer="a page")
        if status == 410:
            raise Expired()
        if status != 200:
            raise self._status_error(status, body)
        page = _decode_page(body, self.what())
        items = page.get("items") or []
        if len(items) > self._page_size:  # the API server returns at most `limit` objects
            raise ClusterError(f"{self.what()}: {len(items)} objects in a page of at most "
                               f"{self._page_size}")
        return page

    def what(self) -> str:
        return f"{self.access.server}: listing {self.resource.name}"

    def _status_error(self, status: int, body: bytes) -> ClusterError:
        what = self.what()
        detail = self.client.redact(status_message(body))
        if status == 401:
            logs = self.access.logs
            hint = f" (credential plugin: {logs[-1]})" if logs else ""
            return ClusterError(f"{what}: unauthorized (401): {detail}{hint}")
        if status == 403:
            return ClusterError(f"{what}: forbidden (403): {detail} (the user needs list on "
                                f"{self.resource.name.split('/')[0]} in all namespaces)")
        if status == 404 and self.resource == NODE_FEATURES:
            return ClusterError(f"{what}: not found (404): is Node Feature Discovery installed "
                                "(its CRDs)?")
        if status == 404:
            return ClusterError(f"{what}: not found (404): {detail}")
        return ClusterError(f"{what}: HTTP {status}: {detail}")


def status_message(body: bytes) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, one line, bounded."""
    try:
        obj = json.loads(body.decode("utf-8"))
        message = obj.get("message") if isinstance(obj, dict) else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        message = None
    return " ".join(str(message or "").split())[:300]


def _decode_page(body: bytes, what: str) -> dict[str, Any]:
    try:  # nothing is built for a page of empty objects: a memory bound
        check_json_containers(body, LoadLimits().containers(len(body)))
    except SpecError as exc:
        raise ClusterError(f"{what}: {exc}") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClusterError(f"{what}: the answer is not UTF-8 (byte {exc.start})") from None
    try:
        page = json.loads(text)
    except (ValueError, RecursionError):
        raise ClusterError(f"{what}: the answer is not JSON") from None
    if not isinstance(page, dict):
        raise ClusterError(f"{what}: unexpected answer: not an object")
    items = page.get("items")
    if items is not None and not isinstance(items, list):
        raise ClusterError(f"{what}: unexpected answer: items is not a list")
    return page


def list_version(page: dict[str, Any]) -> str:
    """The list's ``metadata.resourceVersion``: where a watch of it starts."""
    metadata = page.get("metadata")
    version = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return version if isinstance(version, str) else ""


def continue_token(page: dict[str, Any], what: str) -> str | None:
    metadata = page.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise ClusterError(f"{what}: unexpected answer: metadata.continue is not a string")
    return token


