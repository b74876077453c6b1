"""IndexFeed: list, then bounded watch calls, against an API server speaking the watch protocol
(JSON lines, bookmarks, ``ERROR`` events and ``410 Gone``). The real API server's watch is
exercised in ``tests/kube/test_drift.py``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig
from tests.cluster._synthetic import node_feature

from nfd.api import Features
from nfd.cluster import FeatureIndex, IndexFeed, KubeOptions, WatchGone
from nfd.errors import ClusterError

READS = {"kernel.version": frozenset({"major"})}


def _node(name: str, major: str) -> dict[str, Any]:
    return node_feature(name, Features(attributes={"kernel.version": {"major": major}}))


class Watches:
    """What the server answers to each watch call, in turn (then an empty, clean end)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes]] = []
        self.queries: list[dict[str, str]] = []

    def __call__(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> bool:
        if query.get("watch") != "1":
            return False
        self.queries.append(query)
        status, body = self.answers.pop(0) if self.answers else (200, b"")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True


def _lines(*events: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[IndexFeed, Watches, ApiState]]:
    watches = Watches()
    state = ApiState(items=[_node("a", "6"), _node("b", "4")], max_limit=1, fault=watches)
    server = ApiServer(state)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url,
                                  {"admin": {"token": "good-token"}}, current="admin")
    feed = IndexFeed(FeatureIndex(READS), KubeOptions(kubeconfig=str(kubeconfig), timeout=5),
                     watch_seconds=1, retry_seconds=0.05)
    try:
        yield feed, watches, state
    finally:
        feed.stop()
        server.close()


def test_list_then_watch_from_its_version(
        served: tuple[IndexFeed, Watches, ApiState]) -> None:
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
def test_gone_means_list_again(served: tuple[IndexFeed, Watches, ApiState],
                               answer: tuple[int, bytes]) -> None:
    feed, watches, _ = served
    feed.sync()
    watches.answers.append(answer)
    with pytest.raises(WatchGone):
        feed.watch_once()


def test_a_broken_stream_is_a_cluster_error(
        served: tuple[IndexFeed, Watches, ApiState]) -> None:
    feed, watches, _ = served
    feed.sync()
    watches.answers.append((200, b'{"type": "ADDED", "object": {'))
    with pytest.raises(ClusterError, match="not a stream of JSON events"):
        feed.watch_once()


def test_the_thread_relists_on_gone_and_when_widened(
        served: tuple[IndexFeed, Watches, ApiState]) -> None:
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
