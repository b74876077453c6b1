"""The webhook's "no node can run this" check on a warm 5,000-node index, and the index's size.

The fleet benchmark's nodes (``benchmarks/fleet``) go into a :class:`FeatureIndex` projected on
what ``bench-spec.yaml`` reads, as the webhook's index would hold them. Printed:

* the index's memory (``tracemalloc``, everything the index holds) against the projected
  features it holds written as compact JSON (goal <= 2.0);
* the check's latency on a warm index: p50 and p99 over ``--checks`` admissions of pods with
  specs already seen (goal p99 <= 5 ms), and the first, cold check for comparison;
* the same after each watch event that changes a node (the remembered answer is dropped);
* the webhook's whole step per review (``UnsatisfiableCheck.verdict``: each resolved image's
  compiled spec by artifact digest, the union of their reads, whether the index covers it,
  the remembered answer), warm, p50 and p99.

    python benchmarks/bench_index.py [--nodes 5000] [--checks 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_fleet import SPEC, fleet  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    from nfd.api import features_to_obj, load_spec
    from nfd.cluster._feature_index import FeatureIndex, SatisfiabilityCheck
    from nfd.match import SpecEvaluator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--checks", type=int, default=2000)
    args = parser.parse_args()
    items = json.loads(fleet(args.nodes).read_text())["items"]
    spec = load_spec(SPEC)
    strict = load_spec(SPEC)  # a second spec: the pod's answer is for both together
    evaluator = SpecEvaluator(spec)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = FeatureIndex(evaluator.reads)
    index.replace(items, "1")
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del items
    projected = sum(len(json.dumps(features_to_obj(f), separators=(",", ":")))
                    for f in index.nodes.values())
    check = SatisfiabilityCheck(index)
    start = time.perf_counter()
    check.check([evaluator])
    cold = time.perf_counter() - start
    warm = []
    for _ in range(args.checks):
        start = time.perf_counter()
        check.check([evaluator])
        warm.append(time.perf_counter() - start)
    unsatisfiable = SpecEvaluator(strict, [])
    first = index.nodes
    node = next(iter(first))
    changed = []
    for i in range(20):  # a node's NodeFeature changes: the next check recomputes
        meta = {"name": node, "namespace": "node-feature-discovery",
                "labels": {"nfd.node.kubernetes.io/node-name": node},
                "resourceVersion": str(2 + i)}
        index.apply({"type": "MODIFIED", "object": {
            "kind": "NodeFeature", "metadata": meta,
            "spec": {"features": features_to_obj(first[node])}}})
        start = time.perf_counter()
        check.check([evaluator, unsatisfiable])
        changed.append(time.perf_counter() - start)
    review = _review_step(index, spec, args.checks)
    print(f"index: {len(index.nodes)} nodes; memory {held / 1e6:.1f} MB for {projected / 1e6:.1f} "
          f"MB of projected features: {held / projected:.2f}x (goal <= 2.0)")
    print(f"check on a warm index: p50 {_percentile(warm, 0.5) * 1e3:.3f} ms, p99 "
          f"{_percentile(warm, 0.99) * 1e3:.3f} ms (goal <= 5 ms); cold first check "
          f"{cold * 1e3:.1f} ms; after a node changed: p50 {_percentile(changed, 0.5) * 1e3:.1f} "
          "ms")
    print(f"webhook review step, warm: p50 {_percentile(review, 0.5) * 1e3:.3f} ms, p99 "
          f"{_percentile(review, 0.99) * 1e3:.3f} ms (goal <= 5 ms)")
    return 0


def _review_step(index: object, spec: object, checks: int) -> list[float]:
    """``verdict`` timed per call on the event loop, as ``/mutate`` awaits it."""
    import asyncio

    from nfd.cluster import IndexFeed, KubeOptions
    from nfd.webhook import Resolution
    from nfd.webhook._unsatisfiable import UnsatisfiableCheck

    class Specs:  # the resolver's spec cache, for one image
        cpu_pool = None

        def spec_of(self, resolution: object) -> object:
            return spec

    feed = IndexFeed(index, KubeOptions())  # type: ignore[arg-type]
    check = UnsatisfiableCheck("deny", feed, Specs(), 60)  # type: ignore[arg-type]
    resolutions = [Resolution("registry.example/app:v1", "spec", digest="sha256:" + "a" * 64,
                              artifact_digest="sha256:" + "b" * 64)]

    async def run() -> list[float]:
        times = []
        for _ in range(checks + 1):
            start = time.perf_counter()
            await check.verdict(resolutions, "Pod apps/p", start + 5)
            times.append(time.perf_counter() - start)
        return times[1:]  # the first compiles the spec and evaluates every node

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
