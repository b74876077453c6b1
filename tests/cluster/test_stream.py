"""Live listings handled page by page: prefetching, restarts, projection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from tests.cluster._synthetic import node_feature, synthetic_list
from tests.cluster.test_fastjson import SPEC_CPU

from nfd.api import Features, load_spec
from nfd.cluster import (
    Page,
    cluster_features_from_document,
    cluster_features_from_pages,
    prefetched,
    project_features,
)
from nfd.match import SpecEvaluator


def test_prefetched_fetches_the_next_item_while_this_one_is_handled() -> None:
    fetched: list[int] = []

    def slow() -> Iterator[int]:
        for i in range(4):
            fetched.append(i)
            yield i

    seen = []
    for item in prefetched(slow()):
        deadline = time.monotonic() + 5
        while len(fetched) < min(item + 2, 4) and time.monotonic() < deadline:
            time.sleep(0.001)
        # While item n is being handled, item n+1 has been fetched already.
        assert len(fetched) >= min(item + 2, 4)
        seen.append(item)
    assert seen == [0, 1, 2, 3]


def test_prefetched_raises_where_the_error_happened() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise OSError("gone")

    got = []
    with pytest.raises(OSError, match="gone"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1]


def test_prefetched_stops_its_thread_when_the_caller_stops() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            n += 1
            yield n

    before = threading.active_count()
    for item in prefetched(endless()):
        if item == 3:
            break
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_pages_give_the_whole_lists_result_projected_and_restarts_drop_earlier_pages() -> None:
    doc = synthetic_list(30, seed=4)
    items = doc["items"]
    stale = [node_feature("ghost", Features(flags={"cpu.cpuid": {"AVX"}}))]
    # An expired continue token restarts the listing: numbering starts again at 1.
    pages = [Page(stale, "https://a", 1), Page(items[:12], "https://a", 1),
             Page(items[12:25], "https://a", 2), Page(items[25:], "https://a", 3)]
    evaluator = SpecEvaluator(load_spec(SPEC_CPU))
    cluster, server = cluster_features_from_pages(pages, only=evaluator.reads)
    whole = cluster_features_from_document({"kind": "NodeFeatureList", "items": items})
    assert server == "https://a" and "ghost" not in cluster.nodes
    assert cluster.nodes == {n: project_features(f, evaluator.reads)
                             for n, f in whole.nodes.items()}
    assert cluster.objects == whole.objects
