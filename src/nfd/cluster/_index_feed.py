"""Keeping a :class:`FeatureIndex` current from a live cluster: list, then watch.

Kubernetes' list-then-watch (client-go's reflector): list the NodeFeatures (paged, bounded,
as :func:`nfd.cluster.iter_pages` reads them), then watch from the list's
``resourceVersion`` with ``allowWatchBookmarks=true``, and list again when the watch says
the version is gone (HTTP 410, or an ``ERROR`` event, which the API server sends as a
``Status`` with code 410 when the version was compacted away).

Each watch is one bounded call through the one :class:`KubeClient`: the API server ends a
watch after its ``timeoutSeconds`` and the call then returns every event it sent, with a
deadline of ``timeoutSeconds`` plus the client's own and a byte budget. Events are applied
when the call returns, so the index trails the cluster by at most ``watch_seconds`` (plus
one call's latency): that is the staleness bound, and :meth:`FeatureIndex.staleness` shows
it. A watch that ended cleanly says nothing was missed up to its end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from nfd.api import LoadLimits, check_json_containers
from nfd.cluster._feature_index import FeatureIndex, Reads, WatchGone
from nfd.cluster._kube import KubeOptions, iter_pages, kube_client
from nfd.cluster._kube_reader import NODE_FEATURES, status_message
from nfd.errors import ClusterError, NfdError

DEFAULT_WATCH_SECONDS = 30
# The events of one watch call: a busy cluster's NodeFeatures change every minute or so
# per node; 256 MiB is far beyond what 30 s of them weigh.
MAX_WATCH_BYTES = 256 * 1024 * 1024
RETRY_SECONDS = 5.0
# A watch the server ends at once, with nothing in it, is not asked again sooner than this
# (client-go's reflector backs off likewise): a broken server cannot make us spin.
MIN_WATCH_INTERVAL = 1.0

Log = Callable[..., None]


class IndexFeed:
    """A daemon thread keeping ``index`` current; :meth:`widen` asks for a relist keeping
    more features. Counters (``lists``, ``watches``, ``errors``) are for ``/metrics``."""

    def __init__(self, index: FeatureIndex, options: KubeOptions,
                 watch_seconds: int = DEFAULT_WATCH_SECONDS, log: Log | None = None,
                 retry_seconds: float = RETRY_SECONDS) -> None:
        if watch_seconds < 1:
            raise ValueError("watch_seconds must be at least 1")
        self.index = index
        self.options = options
        self.watch_seconds = watch_seconds
        self.lists = self.watches = self.errors = 0
        self.last_error = ""
        self._log = log or (lambda *args, **kwargs: None)
        self._retry = retry_seconds
        self._client: Any = None
        self._relist = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the thread ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="nfd-feature-index",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.close()  # a watch under way ends with a transport error

    def widen(self, reads: Reads) -> None:
        """Keep ``reads`` too: relisted after the watch under way (within its bound)."""
        self.index.widen(reads)
        self._relist.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                while not self._stop.is_set() and not self._relist.is_set():
                    started = time.monotonic()
                    if not self.watch_once():
                        self._stop.wait(MIN_WATCH_INTERVAL - (time.monotonic() - started))
            except WatchGone as exc:
                self._log("NodeFeature watch ended; listing again", reason=str(exc))
            except (NfdError, OSError) as exc:  # the API server is away: try again later
                self.errors += 1
                self.last_error = str(exc)
                self._log("NodeFeature index not updated", level="warning",
                          reason=self.last_error)
                self._stop.wait(self._retry)

    # -- one step each (the thread's, and the tests') -----------------------------------

    def client(self) -> Any:
        if self._client is None:
            self._client = kube_client(self.options)
        return self._client

    def sync(self) -> None:
        """One full list: the index becomes the cluster's NodeFeatures, projected."""
        self._relist.clear()
        items: list[Any] = []
        version = ""
        for page in iter_pages(self.options, client=self.client()):
            if page.number == 1:  # an expired continue token restarted the listing
                items = []
            items.extend(page.items)
            version = page.resource_version
        self.index.replace(items, version)
        self.lists += 1

    def watch_once(self) -> int:
        """One watch call from the index's version; the events it returned, applied."""
        client = self.client()
        what = f"{client.server}: watching {NODE_FEATURES.name}"
        params: dict[str, str | int] = {
            "watch": "1", "allowWatchBookmarks": "true",
            "resourceVersion": self.index.resource_version,
            "timeoutSeconds": self.watch_seconds}
        status, body = client.call("GET", NODE_FEATURES.path, params=params, what=what,
                                   max_bytes=MAX_WATCH_BYTES, answer="a watch",
                                   timeout=self.watch_seconds + self.options.timeout)
        if status == 410:
            raise WatchGone("410 Gone")
        if status != 200:
            raise ClusterError(f"{what}: HTTP {status}: "
                               f"{client.redact(status_message(body))}")
        events = _events(body, what)
        for event in events:
            self.index.apply(event)
        self.index.confirm()
        self.watches += 1
        return len(events)


def _events(body: bytes, what: str) -> list[Any]:
    """The watch's JSON lines (one event each, as the API server streams them)."""
    try:  # nothing is built for a body of empty objects: a memory bound
        check_json_containers(body, LoadLimits().containers(len(body)))
        return [json.loads(line) for line in body.decode("utf-8").splitlines()
                if line.strip()]
    except (NfdError, ValueError, RecursionError) as exc:
        raise ClusterError(f"{what}: not a stream of JSON events ({type(exc).__name__})") \
            from None
