"""Hostile AdmissionReviews: any JSON anywhere in the object gives an answer or a located
SpecError, never a crash (hypothesis)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.webhook._webhook import pod, review_for

from nfd.api import load_spec
from nfd.errors import SpecError
from nfd.webhook import Resolution, decide, images_of, parse_review, plan_image, target_of

DATA = Path(__file__).parent / "data"
IMAGE = "ghcr.io/acme/a:v1"
PLAN = plan_image(IMAGE, load_spec(DATA / "spec-weighted.yaml"), "p.example.com")
RESOLVED = [Resolution(IMAGE, "spec", digest="sha256:" + "d" * 64,
                       artifact_digest="sha256:" + "a" * 64, plan=PLAN)]
ZONE = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchExpressions": [{"key": "z", "operator": "In",
                                                 "values": ["a"]}]}]},
    "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": []}}]}}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


BASE = review_for(pod([IMAGE, "busybox"], [IMAGE], affinity=ZONE,
                      annotations={"a": "b"}))
PATHS = _paths(BASE)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATHS), json_values, st.sampled_from(["fail", "ignore"]))
def test_mutated_reviews_never_crash(path: tuple[Any, ...], value: Any, policy: str) -> None:
    body = json.loads(json.dumps(_replace(BASE, path, value)))
    try:
        request = parse_review(body)
    except SpecError:
        return
    target = target_of(request, workloads=True)
    if target is None:
        return
    images_of(target)
    answer, outcome = decide(request, target, RESOLVED, policy)  # type: ignore[arg-type]
    assert answer["response"]["uid"] == request.uid
    assert outcome in ("patched", "unchanged", "invalid", "failed-open", "denied")
    json.dumps(answer)
