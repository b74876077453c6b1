"""The HTTP side of listing NodeFeatures: one bounded GET per page (see :mod:`._kube`)."""

from __future__ import annotations

import json
import ssl
import time
from typing import Any

import httpx

from nfd._budget import Budget, BudgetExceeded, BudgetScope
from nfd._budget_httpx import bounded_transport
from nfd.cluster._kubeconfig import ClusterAccess
from nfd.errors import ClusterError
from nfd.oci._redact import Redactor

GROUP, VERSION, PLURAL = "nfd.k8s-sigs.io", "v1alpha1", "nodefeatures"
LIST_PATH = f"/apis/{GROUP}/{VERSION}/{PLURAL}"
MAX_ERROR_BYTES = 64 * 1024


class Expired(Exception):
    """410 Gone: the continue token is too old."""


class Reader:
    """GETs of the list endpoint, each within its own deadline and byte cap."""

    def __init__(self, access: ClusterAccess, page_size: int, timeout: float,
                 max_page_bytes: int) -> None:
        self.access = access
        self._page_size = page_size
        self._timeout = timeout
        self._max_page_bytes = max_page_bytes
        self._scope = BudgetScope()
        self._redactor = Redactor()
        for secret in access.secrets:
            self._redactor.add(secret)
        transport = bounded_transport(self._scope, tls_verify(access), access.proxy)
        self._http = httpx.Client(transport=transport,
                                  timeout=httpx.Timeout(timeout), trust_env=False,
                                  follow_redirects=False,
                                  headers={"Accept": "application/json", **access.headers})

    def close(self) -> None:
        self._http.close()

    def page(self, token: str | None) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": self._page_size}
        if token:
            params["continue"] = token
        budget = Budget(time.monotonic() + self._timeout,
                        self._max_page_bytes + MAX_ERROR_BYTES)
        try:
            with self._scope.spending(budget):
                status, body = self._get(params, budget)
        except BudgetExceeded:
            raise ClusterError(f"{self.what()}: a page over {self._max_page_bytes} "
                               "bytes") from None
        except httpx.TimeoutException:
            raise ClusterError(f"{self.what()}: timed out after {self._timeout:g}s "
                               "(a page request)") from None
        except httpx.HTTPError as exc:
            reason = self._redactor.clean(" ".join(str(exc).split())[:300])
            raise ClusterError(f"{self.access.server}: cannot reach the API server: "
                               f"{reason or type(exc).__name__}") from None
        if status == 410:
            raise Expired()
        if status != 200:
            raise self._status_error(status, body)
        return _decode_page(body, self.what())

    def _get(self, params: dict[str, str | int], budget: Budget) -> tuple[int, bytes]:
        # kubeconfig's tls-server-name: the name the certificate is checked against.
        sni = {"sni_hostname": self.access.tls_server_name} if self.access.tls_server_name \
            else {}
        with self._http.stream("GET", self.access.server + LIST_PATH, params=params,
                               timeout=httpx.Timeout(budget.seconds_left()),
                               extensions=sni) as response:
            limit = self._max_page_bytes if response.status_code == 200 \
                else MAX_ERROR_BYTES
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    if response.status_code != 200:
                        break  # an error body: its start is enough
                    raise BudgetExceeded(limit)
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)

    def what(self) -> str:
        return f"{self.access.server}: listing {PLURAL}.{GROUP}/{VERSION}"

    def _status_error(self, status: int, body: bytes) -> ClusterError:
        what = self.what()
        detail = self._redactor.clean(status_message(body))
        if status == 401:
            logs = self.access.logs
            hint = f" (credential plugin: {logs[-1]})" if logs else ""
            return ClusterError(f"{what}: unauthorized (401): {detail}{hint}")
        if status == 403:
            return ClusterError(f"{what}: forbidden (403): {detail} (the user needs list on "
                                f"{PLURAL}.{GROUP} in all namespaces)")
        if status == 404:
            return ClusterError(f"{what}: not found (404): is Node Feature Discovery installed "
                                "(its CRDs)?")
        return ClusterError(f"{what}: HTTP {status}: {detail}")


def tls_verify(access: ClusterAccess) -> ssl.SSLContext | bool:
    if not access.verify:
        return False
    context = ssl.create_default_context(cafile=access.ca_file)
    if access.cert_file:
        context.load_cert_chain(access.cert_file, access.key_file)
    return context


def status_message(body: bytes) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, one line, bounded."""
    try:
        obj = json.loads(body.decode("utf-8"))
        message = obj.get("message") if isinstance(obj, dict) else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        message = None
    return " ".join(str(message or "").split())[:300]


def _decode_page(body: bytes, what: str) -> dict[str, Any]:
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


def continue_token(page: dict[str, Any], what: str) -> str | None:
    metadata = page.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise ClusterError(f"{what}: unexpected answer: metadata.continue is not a string")
    return token


