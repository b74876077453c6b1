"""A review costs time linear in its size: containers, distinct images, the pod's own terms.

Each case measures the whole pure path of a review (body bytes -> parse ->
images -> decision, as the server runs it) at sizes n and 4n, in CPU time (the
best of a few runs, so other processes on the machine hardly matter), and
wants the ratio well under 16, what quadratic work would give: linear work
gives about 4. It is a ratio of two runs of the same code, not a wall-clock
threshold. The cross product itself is bounded before it is built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.webhook._webhook import pod, review_for

from nfd.api import load_spec
from nfd.cluster import AffinityTooLarge, merge_node_affinity
from nfd.cluster._affinity import MAX_MERGED_TERMS
from nfd.webhook import Resolution, decide, plan_image
from nfd.webhook._review import MAX_CONTAINERS, pod_images, unchecked
from nfd.webhook._work import prepare as _prepare

DATA = Path(__file__).parent / "data"
IMAGE = "ghcr.io/acme/app:v1"
PLAN = plan_image(IMAGE, load_spec(DATA / "spec-weighted.yaml"), "p.example.com")
RESOLVED = Resolution(IMAGE, "spec", digest="sha256:" + "d" * 64,
                      artifact_digest="sha256:" + "a" * 64, plan=PLAN)
LINEAR_RATIO_BOUND = 8.0  # linear: ~4; quadratic: ~16


def _requirement(i: int) -> dict[str, Any]:
    return {"key": f"zone-{i}", "operator": "In", "values": [f"v{i}"]}


def _with_terms(n: int) -> dict[str, Any]:
    """A pod whose own required affinity has ``n`` distinct terms."""
    terms = [{"matchExpressions": [_requirement(i)]} for i in range(n)]
    return pod([IMAGE], affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})


def _with_images(n: int) -> dict[str, Any]:
    """A pod of ``n`` containers, each a distinct image (the first is ours)."""
    return pod([IMAGE] + [f"ghcr.io/other/i{i}:v1" for i in range(n - 1)])


def _with_requirements(n: int) -> dict[str, Any]:
    """A pod whose one required term has ``n`` requirements (ANDed with ours)."""
    return pod([IMAGE], affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [_requirement(i) for i in range(n)]}]}}})


def _review_seconds(obj: dict[str, Any]) -> tuple[float, str]:
    """CPU seconds for the pure path of one review, and its outcome: the best of three
    averages over at least 50 ms each, so timer and scheduler noise stay small."""
    body = json.dumps(review_for(obj)).encode()
    best, outcome = float("inf"), ""
    for _ in range(3):
        runs, started = 0, time.process_time()
        while runs == 0 or time.process_time() - started < 0.05:
            prepared = _prepare(body, workloads=False)
            assert prepared.target is not None and prepared.images is not None
            resolutions = [RESOLVED if image == IMAGE else Resolution(image, "skipped", "no")
                           for image in prepared.images.images]
            _, outcome = decide(prepared.review, prepared.target, resolutions, "fail")
            runs += 1
        best = min(best, (time.process_time() - started) / runs)
    return best, outcome


@pytest.mark.parametrize(("make", "n"), [
    (_with_terms, MAX_MERGED_TERMS // 2 // 4),  # 2 of our terms each: the product stays legal
    (_with_images, MAX_CONTAINERS // 4),
    (_with_requirements, 4000),
])
def test_review_time_grows_linearly(make: Callable[[int], dict[str, Any]], n: int) -> None:
    small, small_outcome = _review_seconds(make(n))
    large, large_outcome = _review_seconds(make(4 * n))
    assert small_outcome == large_outcome == "patched"
    assert large / max(small, 1e-6) < LINEAR_RATIO_BOUND, (small, large)


def test_a_product_over_the_bound_is_refused_before_it_is_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nfd.cluster import _affinity

    built: list[int] = []
    real = _affinity._identity

    def counting(indexed: Any) -> Any:
        built.append(1)
        return real(indexed)

    monkeypatch.setattr(_affinity, "_identity", counting)
    n = MAX_MERGED_TERMS  # times our 2 terms: twice the bound
    obj = _with_terms(n)
    existing = obj["spec"]["affinity"]["nodeAffinity"]
    with pytest.raises(AffinityTooLarge, match=f"{n} existing required term"):
        merge_node_affinity(existing, PLAN.node_affinity, "spec.affinity.nodeAffinity")
    assert len(built) == n  # each existing term indexed once; not one product term made
    built.clear()
    _, outcome = _review_seconds(obj)
    assert outcome == "denied"  # failure policy fail: the requirements could not be applied
    built.clear()
    merge_node_affinity(_with_terms(n // 2)["spec"]["affinity"]["nodeAffinity"],
                        PLAN.node_affinity, "")
    assert len(built) == n // 2 + n  # the existing terms, then every product term once


def test_repeated_terms_images_and_requirements_are_merged_once() -> None:
    term = {"matchExpressions": [_requirement(1), _requirement(1), _requirement(2)]}
    existing = {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [term] * 1000}}
    merged = merge_node_affinity(existing, PLAN.node_affinity, "")
    terms = merged["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert len(terms) == 2  # one existing term (1000 copies) x our 2
    assert all(len(t["matchExpressions"]) == 3 for t in terms)  # zone-1, zone-2, ours
    images = pod_images(review_target(pod([IMAGE] * 500 + ["busybox"] * 500)))
    assert images.images == [IMAGE, "busybox"] and images.unchecked_containers == 0


def test_containers_beyond_the_cap_are_not_checked_and_say_so() -> None:
    target = review_target(pod([f"ghcr.io/a/i{i}" for i in range(MAX_CONTAINERS + 5)]))
    images = pod_images(target)
    assert len(images.images) == MAX_CONTAINERS and images.unchecked_containers == 5
    request = _prepare(json.dumps(review_for(pod([IMAGE]))).encode(), False).review
    answer, outcome = unchecked(request, "fail", "5 container(s) not checked")
    assert outcome == "denied" and answer["response"]["allowed"] is False


def review_target(obj: dict[str, Any]) -> Any:
    prepared = _prepare(json.dumps(review_for(obj)).encode(), workloads=False)
    return prepared.target


def test_many_images_are_anded_in_one_product() -> None:
    """64 images (the image cap) over 1000 terms of the pod's own: the requirements gathered
    are copied once per term, not once per image and term."""
    from nfd.webhook._resolver import MAX_IMAGES_PER_REVIEW

    spec = load_spec(DATA / "spec-kernel.yaml")

    def seconds(images: int) -> float:
        names = [f"ghcr.io/acme/app:t{i}" for i in range(images)]
        resolved = [Resolution(name, "spec", digest="sha256:" + "d" * 64,
                               artifact_digest="sha256:" + "a" * 64,
                               plan=plan_image(name, spec, "p.example.com")) for name in names]
        obj = _with_terms(1000)
        obj["spec"]["containers"] = [{"name": f"c{i}", "image": n} for i, n in enumerate(names)]
        prepared = _prepare(json.dumps(review_for(obj)).encode(), False)
        assert prepared.target is not None
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            _, outcome = decide(prepared.review, prepared.target, resolved, "fail")
            best = min(best, time.process_time() - started)
        assert outcome == "patched"
        return best

    quarter = seconds(MAX_IMAGES_PER_REVIEW // 4)
    full = seconds(MAX_IMAGES_PER_REVIEW)
    assert full / max(quarter, 1e-6) < LINEAR_RATIO_BOUND, (quarter, full)
