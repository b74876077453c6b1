"""Listing a live cluster's NodeFeature objects, page by page, every request bounded.

Configuration and credentials come from :mod:`nfd.cluster._kubeconfig` (read as
client-go's clientcmd reads them). The requests go through the one Kubernetes
client (:mod:`nfd.cluster._kube_client`, on the same bounded transport as the
registry client, :mod:`nfd._budget`): each page request has one deadline
(``KubeOptions.timeout``) covering connect, headers and the whole body, and a
byte cap, so an API server that trickles or never stops cannot hold or fill
us. Objects are listed across all namespaces in pages (``limit`` +
``continue``); a continue token seen twice is a loop, and the number of pages
is capped. A continue token that expired (410 Gone) restarts the listing once,
as a consistent snapshot is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nfd.cluster._kube_defaults import (
    DEFAULT_EXEC_TIMEOUT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REQUEST_TIMEOUT,
    SERVICE_ACCOUNT_DIR,
)
from nfd.errors import ClusterError, UsageError

if TYPE_CHECKING:
    from nfd.cluster._kube_reader import Reader, Resource
    from nfd.oci import Redactor

# One page of 500 NodeFeatures is a few MiB; 256 MiB is far beyond any real page.
MAX_PAGE_BYTES = 256 * 1024 * 1024
MAX_PAGES = 10_000


@dataclass(frozen=True)
class KubeOptions:
    """Where the cluster is and how to read it."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    timeout: float = DEFAULT_REQUEST_TIMEOUT
    service_account_dir: str = SERVICE_ACCOUNT_DIR
    max_page_bytes: int = MAX_PAGE_BYTES
    max_pages: int = MAX_PAGES
    exec_timeout: float = DEFAULT_EXEC_TIMEOUT
    # Learns the cluster credentials (the command line's error printer cleans with it).
    redactor: Redactor | None = None


@dataclass(frozen=True)
class Page:
    """One page of NodeFeature objects. ``number`` starts at 1; when an expired continue
    token restarts the listing, numbering starts again at 1 (drop what came before)."""

    items: list[dict[str, Any]]
    server: str
    number: int
    # The list's resourceVersion (on every page; a watch starts from the last page's).
    resource_version: str = ""


@dataclass
class Listing:
    """The listed objects, the API server they came from, and how many pages it took."""

    items: list[dict[str, Any]]
    server: str
    pages: int


def _listing_pages(reader: Reader, options: KubeOptions) -> Iterator[Page]:
    """One consistent listing; raises ``Expired`` if the server forgets it."""
    from nfd.cluster._kube_reader import continue_token, list_version

    token: str | None = None
    seen: set[str] = set()
    number = 0
    while True:
        number += 1
        if number > options.max_pages:
            raise ClusterError(f"{reader.what()}: more than {options.max_pages} pages")
        page = reader.page(token)
        yield Page(list(page.get("items") or []), reader.access.server, number,
                   list_version(page))
        token = continue_token(page, reader.what())
        if token is None:
            return
        if token in seen:
            raise ClusterError(f"{reader.what()}: the server sent a continue token it had "
                               f"sent before (page {number}): a pagination loop")
        seen.add(token)


def iter_pages(options: KubeOptions, resource: Resource | None = None,
               client: Any = None) -> Iterator[Page]:
    """The NodeFeature objects (or ``resource``'s) of the cluster, across namespaces, a
    page at a time; through ``client`` (a :class:`KubeClient`, left open) when given, else
    through one made from ``options`` and closed at the end.

    When an expired continue token (410) restarts the listing, pages are numbered
    from 1 again: a consumer drops what it took from the pages before.
    """
    if options.page_size < 1:
        raise UsageError(f"`page_size` must be at least 1, not {options.page_size}",
                         arguments=("page_size",))
    from nfd.cluster._kube_reader import NODE_FEATURES, Expired, Reader

    resource = resource or NODE_FEATURES
    own = client is None
    if client is None:
        client = kube_client(options)
    access = client.access
    reader = Reader(client, options.page_size, options.max_page_bytes, resource)
    try:
        for attempt in (1, 2):
            try:
                yield from _listing_pages(reader, options)
                return
            except Expired:
                if attempt == 2:
                    break
        raise ClusterError(f"{access.server}: listing {resource.plural} kept expiring "
                           "(410 Gone)")
    finally:
        if own:
            reader.close()


def kube_client(options: KubeOptions, timeout: float | None = None) -> Any:
    """The one :class:`KubeClient` for ``options`` (its kubeconfig, context or service
    account); a service account's rotated token is read again on a 401."""
    from nfd.cluster._kube_client import KubeClient
    from nfd.cluster._kubeconfig import load_access

    def load() -> Any:
        return load_access(options.kubeconfig, options.context, options.in_cluster,
                           options.service_account_dir, options.exec_timeout)

    return KubeClient(load, options.timeout if timeout is None else timeout,
                      reload_on_401=options.in_cluster, redactor=options.redactor)


def list_node_features(options: KubeOptions) -> Listing:
    """Every NodeFeature object in the cluster, across namespaces, page by page."""
    return list_objects(options)


def list_objects(options: KubeOptions, resource: Resource | None = None,
                 client: Any = None) -> Listing:
    """Every object of ``resource`` (default: NodeFeatures) in the cluster, across
    namespaces, page by page (see :func:`iter_pages`)."""
    items: list[dict[str, Any]] = []
    server = ""
    pages = 0
    for page in iter_pages(options, resource, client):
        if page.number == 1:
            items = []
        items.extend(page.items)
        server, pages = page.server, page.number
    return Listing(items, server, pages)
