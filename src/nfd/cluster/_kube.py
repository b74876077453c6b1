"""Listing a live cluster's NodeFeature objects with the official Kubernetes client.

The ``kubernetes`` package does what kubectl users expect: kubeconfig files
(``--kubeconfig``, else ``$KUBECONFIG`` which may list several files, else
``~/.kube/config``), contexts, exec credential plugins, and the in-cluster
service account. It is imported only here, only when a live cluster is asked for.

Objects are listed across all namespaces in pages (``limit`` + ``continue``), so
a big cluster never needs one huge response. A continue token that expired
(410 Gone) restarts the listing once, as a consistent snapshot is needed.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nfd.errors import ClusterError, UsageError

GROUP, VERSION, PLURAL = "nfd.k8s-sigs.io", "v1alpha1", "nodefeatures"
DEFAULT_PAGE_SIZE = 500
DEFAULT_TIMEOUT = 30.0
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class KubeOptions:
    """Where the cluster is and how to read it."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    timeout: float = DEFAULT_TIMEOUT
    service_account_dir: str = SERVICE_ACCOUNT_DIR


@dataclass
class Listing:
    """The listed objects, the API server they came from, and how many pages it took."""

    items: list[dict[str, Any]]
    server: str
    pages: int


@dataclass
class Page:
    """One page of the listing. ``restart``: a fresh snapshot begins with this page (the
    continue token expired), so whatever earlier pages gave must be dropped."""

    items: list[dict[str, Any]]
    server: str
    restart: bool = False


class _Captured(logging.Handler):
    """Keeps what the client logs while loading credentials (it logs plugin failures)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextmanager
def _capture_logs() -> Iterator[_Captured]:
    handler = _Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _kubeconfig_path(options: KubeOptions) -> str | None:
    if options.kubeconfig:
        return options.kubeconfig
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else None


def _require_client() -> None:
    """A clear error instead of an ImportError when the client library is missing."""
    try:
        importlib.import_module("kubernetes")
    except ImportError:
        raise ClusterError("live cluster mode needs the 'kubernetes' package "
                           "(pip install 'nfd-client[cluster]'), or use --nodefeatures "
                           "with a 'kubectl get nodefeatures -A -o json' dump") from None


def load_configuration(options: KubeOptions) -> tuple[Any, list[str]]:
    """A ``kubernetes.client.Configuration`` (never the library's global one) and log lines."""
    _require_client()
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException

    # The library's loaders are untyped; one Any-typed handle keeps mypy --strict quiet.
    kconfig: Any = importlib.import_module("kubernetes.config")
    cfg = client.Configuration()
    path = None if options.in_cluster else _kubeconfig_path(options)
    with _capture_logs() as logs:
        try:
            if path is None:
                if options.context:
                    raise UsageError("--context needs a kubeconfig (none found)")
                if not os.environ.get("KUBERNETES_SERVICE_HOST") and not options.in_cluster:
                    raise UsageError("no kubeconfig found (--kubeconfig, $KUBECONFIG, "
                                     "~/.kube/config) and not running in a cluster; or give "
                                     "--nodefeatures FILE")
                sa = options.service_account_dir
                loader = kconfig.incluster_config.InClusterConfigLoader(
                    token_filename=os.path.join(sa, "token"),
                    cert_filename=os.path.join(sa, "ca.crt"), environ=os.environ)
                loader.load_and_set(cfg)
            else:
                # persist_config=False: never write refreshed credentials into the user's file.
                kconfig.load_kube_config(config_file=path, context=options.context,
                                        client_configuration=cfg, persist_config=False)
        except ConfigException as exc:
            where = "in-cluster config" if path is None else f"kubeconfig {path}"
            raise UsageError(f"{where}: {' '.join(str(exc).split())}") from None
        except OSError as exc:
            raise UsageError(f"kubeconfig {exc.filename or path}: {exc.strerror or exc}") from None
    return cfg, logs.messages


def _api_message(exc: Any) -> str:
    try:
        body = json.loads(exc.body or "")
        message = body.get("message") if isinstance(body, dict) else None
    except (TypeError, ValueError):
        message = None
    return " ".join(str(message or exc.reason or "").split())


def _api_error(exc: Any, server: str, logs: list[str]) -> ClusterError:
    status = exc.status
    what = f"{server}: listing {PLURAL}.{GROUP}/{VERSION}"
    detail = _api_message(exc)
    if status == 401:
        hint = f" (credential plugin: {logs[-1]})" if logs else ""
        return ClusterError(f"{what}: unauthorized (401): {detail}{hint}")
    if status == 403:
        return ClusterError(f"{what}: forbidden (403): {detail} (the user needs list on "
                            f"{PLURAL}.{GROUP} in all namespaces)")
    if status == 404:
        return ClusterError(f"{what}: not found (404): is Node Feature Discovery installed "
                            "(its CRDs)?")
    return ClusterError(f"{what}: HTTP {status}: {detail}")


def _pages(api: Any, options: KubeOptions) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = api.list_cluster_custom_object(
            GROUP, VERSION, PLURAL, limit=options.page_size, _continue=token,
            _request_timeout=options.timeout)
        if not isinstance(page, dict):
            raise ClusterError(f"unexpected answer listing {PLURAL}: not an object")
        yield page
        token = (page.get("metadata") or {}).get("continue") or None
        if not token:
            return


def list_node_features(options: KubeOptions) -> Listing:
    """Every NodeFeature object in the cluster, across namespaces, page by page."""
    items: list[dict[str, Any]] = []
    pages, server = 0, ""
    for page in node_feature_pages(options):
        if page.restart:
            items, pages = [], 0
        items.extend(page.items)
        pages += 1
        server = page.server
    return Listing(items, server, pages)


def node_feature_pages(options: KubeOptions) -> Iterator[Page]:
    """The cluster's NodeFeature objects as the API pages them, for evaluating each page
    as it arrives (see :class:`Page` for a restarted listing)."""
    if options.page_size < 1:
        raise UsageError(f"--page-size must be at least 1, not {options.page_size}")
    cfg, logs = load_configuration(options)
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError, InsecureRequestWarning

    server = str(cfg.host)
    with client.ApiClient(configuration=cfg) as api_client, warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        api = client.CustomObjectsApi(api_client)
        for attempt in (1, 2):
            try:
                for number, page in enumerate(_pages(api, options)):
                    yield Page(page.get("items") or [], server, attempt > 1 and number == 0)
                return
            except ApiException as exc:
                if exc.status == 410 and attempt == 1:
                    continue  # continue token expired mid-listing: start a fresh snapshot
                raise _api_error(exc, server, logs) from None
            except (HTTPError, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise ClusterError(f"{server}: cannot reach the API server: "
                                   f"{' '.join(str(reason).split())}") from None
    raise ClusterError(f"{server}: listing {PLURAL} kept expiring (410 Gone)")
