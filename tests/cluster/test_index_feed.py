"""IndexFeed: list, then bounded watch calls, against an API server speaking the watch protocol
(JSON lines streamed as they happen, bookmarks, ``ERROR`` events and ``410 Gone``). The real
API server's watch is exercised in ``tests/kube/test_drift.py``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._apiserver import ApiServer, ApiState, Watches, write_kubeconfig
from tests.cluster._synthetic import node_feature

from nfd.api import Features
from nfd.cluster import FeatureIndex, IndexFeed, KubeOptions, WatchGone
from nfd.cluster._index_feed import MAX_EVENT_BYTES
from nfd.errors import ClusterError

WATCHING = "watching nodefeatures.nfd.k8s-sigs.io/v1alpha1"
READS = {"kernel.version": frozenset({"major"})}


def _node(name: str, major: str) -> dict[str, Any]:
    return node_feature(name, Features(attributes={"kernel.version": {"major": major}}))


def _lines(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


Served = tuple[IndexFeed, Watches, ApiState]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[float], Served]]:
    """A feed against a fresh API server; the argument is the client's timeout (a line
    once begun must end within it; a watch call lasts at most 1 s plus it)."""
    made: list[tuple[IndexFeed, ApiServer]] = []

    def make(timeout: float) -> Served:
        watches = Watches()
        state = ApiState(items=[_node("a", "6"), _node("b", "4")], max_limit=1, fault=watches)
        server = ApiServer(state)
        kubeconfig = write_kubeconfig(tmp_path / f"kubeconfig{len(made)}", server.url,
                                      {"admin": {"token": "good-token"}}, current="admin")
        feed = IndexFeed(FeatureIndex(READS),
                         KubeOptions(kubeconfig=str(kubeconfig), timeout=timeout),
                         watch_seconds=1, retry_seconds=0.05)
        made.append((feed, server))
        return feed, watches, state

    yield make
    for feed, server in made:
        feed.stop()
        server.close()


@pytest.fixture
def served(serve: Callable[[float], Served]) -> Served:
    return serve(5)


def test_list_then_watch_from_its_version(
        served: Served) -> None:
    feed, watches, _ = served
    feed.sync()
    index = feed.index
    assert sorted(index.nodes) == ["a", "b"] and index.resource_version == "4242"
    modified = _node("a", "3")
    modified["metadata"]["resourceVersion"] = "4300"
    watches.answers.append((200, _lines(
        {"type": "MODIFIED", "object": modified},
        {"type": "BOOKMARK", "object": {"kind": "NodeFeature",
                                        "metadata": {"resourceVersion": "4400"}}})))
    generation = index.generation
    assert feed.watch_once() == 2
    assert index.nodes["a"].attributes["kernel.version"] == {"major": "3"}
    assert index.resource_version == "4400" and index.generation == generation + 1
    query = watches.queries[-1]
    assert query == {"watch": "1", "allowWatchBookmarks": "true", "resourceVersion": "4242",
                     "timeoutSeconds": "1"}
    assert feed.watch_once() == 0  # a clean end without events: confirmed current
    assert watches.queries[-1]["resourceVersion"] == "4400"
    assert index.staleness() is not None and index.staleness() < 1  # type: ignore[operator]


@pytest.mark.parametrize("answer", [
    (410, json.dumps({"kind": "Status", "code": 410, "reason": "Expired"}).encode()),
    (200, _lines({"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                              "message": "too old resource version"}})),
])
def test_gone_means_list_again(served: Served,
                               answer: tuple[int, bytes]) -> None:
    feed, watches, _ = served
    feed.sync()
    watches.answers.append(answer)
    with pytest.raises(WatchGone):
        feed.watch_once()


def test_a_broken_stream_is_a_cluster_error(
        served: Served) -> None:
    feed, watches, _ = served
    feed.sync()
    watches.answers.append((200, b'{"type": "ADDED", "object": {'))
    with pytest.raises(ClusterError, match="not a stream of JSON events"):
        feed.watch_once()


def test_the_thread_relists_on_gone_and_when_widened(
        served: Served) -> None:
    feed, watches, state = served
    watches.answers += [(410, b"{}")]
    feed.start()
    deadline = time.monotonic() + 20
    while feed.lists < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert feed.lists >= 2  # listed, the watch said 410, listed again
    state.items.append(_node("c", "5"))
    feed.widen({"kernel.version": frozenset({"minor"})})
    while "c" not in feed.index.nodes and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "c" in feed.index.nodes  # relisted after the watch under way
    assert feed.index.reads["kernel.version"] == frozenset({"major", "minor"})
    assert feed.errors == 0


def _major(feed: IndexFeed, node: str) -> str | None:
    return (feed.index.nodes[node].attributes["kernel.version"] or {}).get("major")


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_each_event_applies_as_its_line_arrives(served: Served) -> None:
    """The server holds the watch open after two lines until the test has seen them
    applied: they cannot have waited for the call's end."""
    feed, watches, _ = served
    feed.sync()
    first, second = _node("a", "3"), _node("b", "9")
    first["metadata"]["resourceVersion"], second["metadata"]["resourceVersion"] = "4300", "4500"
    bookmark = {"type": "BOOKMARK", "object": {"kind": "NodeFeature",
                                               "metadata": {"resourceVersion": "4400"}}}
    release = threading.Event()
    watches.answers.append([_lines({"type": "MODIFIED", "object": first}),
                            _lines(bookmark), release,
                            _lines({"type": "MODIFIED", "object": second})])
    ended: list[int | BaseException] = []

    def watch() -> None:
        try:
            ended.append(feed.watch_once())
        except BaseException as exc:  # handed to the test thread
            ended.append(exc)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert _wait_for(lambda: feed.index.resource_version == "4400")  # the bookmark
        assert watcher.is_alive() and not ended and watches.written == 2
        assert _major(feed, "a") == "3" and _major(feed, "b") == "4"
    finally:
        release.set()
        watcher.join(10)
    assert ended == [3] and _major(feed, "b") == "9"
    assert feed.index.resource_version == "4500" and feed.watches == 1


def test_a_line_over_the_cap_ends_the_watch_and_lists_again(served: Served) -> None:
    feed, watches, _ = served
    watches.answers.append([_lines({"type": "MODIFIED", "object": _node("a", "3")}),
                            b"x" * (MAX_EVENT_BYTES + 1), 5.0])
    feed.start()
    assert _wait_for(lambda: feed.lists >= 2)
    assert feed.errors == 1  # the watch after the list ends cleanly
    assert feed.last_error.endswith(f"{WATCHING}: a line over {MAX_EVENT_BYTES} bytes")
    assert _major(feed, "a") == "6"  # the list again, not the event before the lost one


def test_a_trickled_line_hits_the_line_deadline(serve: Callable[[float], Served]) -> None:
    feed, watches, _ = serve(0.5)
    feed.sync()
    trickle = [step for byte in b'{"type": "MODIFIED"' for step in (bytes([byte]), 0.1)]
    watches.answers.append([_lines({"type": "MODIFIED", "object": _node("a", "3")}), *trickle])
    with pytest.raises(ClusterError, match=rf"{WATCHING}: a line not ended within 0\.5s$"):
        feed.watch_once()
    assert _major(feed, "a") == "3"  # the whole line before it was applied


def test_a_quiet_watch_waits_between_lines_but_not_forever(
        serve: Callable[[float], Served]) -> None:
    """Between lines only the whole call's deadline (1 s + 0.5 s) applies: a quiet
    cluster sends nothing for long; blank lines sent forever are cut by that deadline."""
    feed, watches, _ = serve(0.5)
    feed.sync()
    watches.answers.append([0.8, _lines({"type": "MODIFIED", "object": _node("a", "3")})])
    assert feed.watch_once() == 1 and _major(feed, "a") == "3"
    watches.answers.append([step for _ in range(40) for step in (b"\n", 0.1)])
    with pytest.raises(ClusterError, match=rf"{WATCHING}: timed out after 1\.5s$"):
        feed.watch_once()
