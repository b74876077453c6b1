"""The in-memory NodeFeature index: list, watch events, merging, projection, answers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._synthetic import node_feature

from nfd.api import Features, load_spec
from nfd.cluster._feature_index import FeatureIndex, SatisfiabilityCheck, WatchGone
from nfd.match import SpecEvaluator

DATA = Path(__file__).parent / "data"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _event(kind: str, obj: dict[str, Any], version: str) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj.setdefault("metadata", {})["resourceVersion"] = version
    return {"type": kind, "object": obj}


@pytest.fixture
def gpu_spec() -> SpecEvaluator:
    return SpecEvaluator(load_spec(DATA / "spec-gpu.yaml"), ["cuda"])


def test_list_then_watch_keeps_exactly_the_current_nodes(
        host_features: dict[str, Features], gpu_spec: SpecEvaluator) -> None:
    clock = Clock()
    gpu, epyc = host_features["gpu-h100-ubuntu2404"], host_features["amd-epyc-debian12"]
    index = FeatureIndex(gpu_spec.reads, clock=clock)
    index.replace([node_feature("a", epyc), node_feature("b", gpu),
                   node_feature("x", gpu, labelled=False)], "10")
    assert sorted(index.nodes) == ["a", "b"]  # the unlabelled object is not the master's
    assert index.resource_version == "10" and index.staleness() == 0.0
    check = SatisfiabilityCheck(index)
    assert check.check([gpu_spec]) is None  # b has the GPU
    generation = index.generation
    index.apply(_event("DELETED", node_feature("b", gpu), "11"))
    assert index.generation == generation + 1
    answer = check.check([gpu_spec])  # the remembered answer is dropped with the change
    assert answer is not None and answer.nodes == 1
    assert "a lacks" in answer.message() and "pci.device" in answer.message()
    index.apply(_event("ADDED", node_feature("a", gpu, name="a-gpu", namespace="vendor"), "12"))
    assert check.check([gpu_spec]) is None  # a's second object adds the GPU (merged)
    clock.now += 30
    assert index.staleness() == 30
    index.apply({"type": "BOOKMARK", "object": {"kind": "NodeFeature",
                                                "metadata": {"resourceVersion": "20"}}})
    assert index.staleness() == 0 and index.resource_version == "20"
    with pytest.raises(WatchGone, match="too old"):
        index.apply({"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                                 "message": "too old resource version"}})


def test_only_what_the_specs_read_is_kept(host_features: dict[str, Features],
                                          gpu_spec: SpecEvaluator) -> None:
    index = FeatureIndex(gpu_spec.reads)
    index.replace([node_feature("b", host_features["gpu-h100-ubuntu2404"])], "1")
    kept = index.nodes["b"]
    assert set(kept.instances) | set(kept.flags) | set(kept.attributes) <= set(gpu_spec.reads)
    assert "cpu.cpuid" not in kept.flags
    assert not index.covers({"cpu.cpuid": None})
    index.widen({"cpu.cpuid": None})
    assert index.covers({"cpu.cpuid": None}) and index.covers(gpu_spec.reads)


def test_a_warm_answer_is_a_lookup(host_features: dict[str, Features],
                                   gpu_spec: SpecEvaluator) -> None:
    index = FeatureIndex(gpu_spec.reads)
    index.replace([node_feature(f"n{i}", host_features["amd-epyc-debian12"])
                   for i in range(50)], "1")
    check = SatisfiabilityCheck(index)
    calls = []
    original = gpu_spec.verdicts

    def counting(features: Features) -> Any:
        calls.append(1)
        return original(features)

    gpu_spec.verdicts = counting  # type: ignore[method-assign]
    first = check.check([gpu_spec])
    assert first is not None and len(calls) == 50 and len(first.closest) == 3
    assert check.check([gpu_spec]) is first and len(calls) == 50


def test_hostile_events_are_refused(gpu_spec: SpecEvaluator) -> None:
    index = FeatureIndex(gpu_spec.reads, max_objects=2)
    for event in ({"type": "ADDED"}, {"type": "WEIRD", "object": {}}, "not an event"):
        with pytest.raises(WatchGone):
            index.apply(event)
    with pytest.raises(Exception, match="over 2 NodeFeature objects"):
        index.replace([node_feature(f"n{i}", Features()) for i in range(3)], "1")
