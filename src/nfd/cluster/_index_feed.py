"""Keeping a :class:`FeatureIndex` current from a live cluster: list, then watch.

Kubernetes' list-then-watch (client-go's reflector): list the NodeFeatures (paged, bounded,
as :func:`nfd.cluster.iter_pages` reads them), then watch from the list's
``resourceVersion`` with ``allowWatchBookmarks=true``, and list again when the watch says
the version is gone (HTTP 410, or an ``ERROR`` event, which the API server sends as a
``Status`` with code 410 when the version was compacted away).

Each watch is one bounded streaming call through the one :class:`KubeClient`
(:meth:`~KubeClient.stream_lines`): the API server writes one JSON event per line as the
change happens and ends the watch after its ``timeoutSeconds``; each event is applied as
its line arrives, so the index trails the cluster by one event's latency. A bookmark, or a
watch that ended cleanly, says nothing was missed up to then (staleness starts again,
:meth:`FeatureIndex.staleness`). Bounds: the call's deadline is ``timeoutSeconds`` plus the
client's own, a line once begun must end within the client's timeout, an event line is at
most :data:`MAX_EVENT_BYTES` and the watch :data:`MAX_WATCH_BYTES`. An event that cannot be
read (over its cap, cut short, not JSON) is lost, so the watch ends and the index is listed
again.
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
# One event line: an object the API server stores is at most etcd's request limit
# (``--max-request-bytes``, 1.5 MiB by default) and the API server refuses request bodies
# over 3 MiB (``apiserver`` ``MaxRequestBodyBytes``), so 4 MiB holds any event.
MAX_EVENT_BYTES = 4 * 1024 * 1024
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
        """One watch call from the index's version, each event applied as it arrives;
        the number of events."""
        client = self.client()
        what = f"{client.server}: watching {NODE_FEATURES.name}"
        params: dict[str, str | int] = {
            "watch": "1", "allowWatchBookmarks": "true",
            "resourceVersion": self.index.resource_version,
            "timeoutSeconds": self.watch_seconds}
        events = 0
        with client.stream_lines("GET", NODE_FEATURES.path, params=params, what=what,
                                 max_line_bytes=MAX_EVENT_BYTES, max_bytes=MAX_WATCH_BYTES,
                                 idle_timeout=self.options.timeout,
                                 timeout=self.watch_seconds + self.options.timeout,
                                 answer="a watch") as stream:
            if stream.status == 410:
                raise WatchGone("410 Gone")
            if stream.status != 200:
                raise ClusterError(f"{what}: HTTP {stream.status}: "
                                   f"{client.redact(status_message(stream.error_body()))}")
            for line in stream:  # a line over its cap is a ClusterError: listed again
                if line.strip():
                    self.index.apply(_event(line, what))
                    events += 1
        self.index.confirm()
        self.watches += 1
        return events


def _event(line: bytes, what: str) -> Any:
    """One watch event (a JSON line, as the API server streams them)."""
    try:  # nothing is built for a line of empty objects: a memory bound
        check_json_containers(line, LoadLimits().containers(len(line)))
        return json.loads(line)
    except (NfdError, ValueError, RecursionError) as exc:
        raise ClusterError(f"{what}: not a stream of JSON events ({type(exc).__name__})") \
            from None
