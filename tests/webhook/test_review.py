"""AdmissionReview handling without a network: kinds, images, opt-out, patches, answers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from tests.webhook._webhook import patched, pod, review_for

from nfd.api import load_spec
from nfd.cluster import (
    LabelScheme,
    build_affinity,
    build_rule_plan,
    image_label_base,
    patch_workload,
)
from nfd.errors import SpecError
from nfd.webhook import (
    APPLIED_ANNOTATION,
    SKIP_ANNOTATION,
    Resolution,
    decide,
    images_of,
    parse_review,
    plan_image,
    target_of,
)
from nfd.webhook._review import MAX_WARNING_CHARS, MAX_WARNINGS, opted_out, response

DATA = Path(__file__).parent / "data"
IMAGES = ("ghcr.io/acme/a:v1", "ghcr.io/acme/b:v2")


def _resolved(image: str, spec: str, artifact: str = "sha256:" + "a" * 64) -> Resolution:
    plan = plan_image(image, load_spec(DATA / spec), "compat.feature.node.kubernetes.io")
    return Resolution(image, "spec", digest="sha256:" + "d" * 64, artifact_digest=artifact,
                      plan=plan)


def _decide(obj: dict[str, Any], resolutions: list[Resolution], policy: Any = "ignore",
            **review: Any) -> tuple[dict[str, Any], str]:
    request = parse_review(review_for(obj, **review))
    target = target_of(request, workloads=True)
    assert target is not None
    return decide(request, target, resolutions, policy)


def test_reference_review_parses() -> None:
    request = parse_review(json.loads((DATA / "admission-review-pod.json").read_text()))
    assert (request.uid, request.group, request.kind, request.operation) == (
        "705ab4f5-6393-11e8-b7cc-42010a800002", "", "Pod", "CREATE")
    assert request.where == "my-namespace/my-pod" and request.dry_run is False


@pytest.mark.parametrize(("body", "where"), [
    ([], "JSON object"),
    ({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}, "v1beta1"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "request"),
    ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
      "request": {"kind": {"kind": "Pod"}}}, "request.uid"),
])
def test_malformed_reviews_are_located(body: Any, where: str) -> None:
    with pytest.raises(SpecError, match=where):
        parse_review(body)


def test_which_objects_are_handled() -> None:
    def handled(obj: dict[str, Any], workloads: bool, **review: Any) -> bool:
        return target_of(parse_review(review_for(obj, **review)), workloads) is not None

    assert handled(pod(IMAGES), False)
    assert not handled(pod(IMAGES), True, operation="UPDATE")  # a pod's affinity is immutable
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
           "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    assert handled(job, True, group="batch", resource="jobs")
    assert not handled(job, True, group="batch", resource="jobs", operation="UPDATE")
    assert not handled(job, False, group="batch", resource="jobs")
    cron = {**job, "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": job["spec"]}}}  # its template may change
    assert handled(cron, True, group="batch", resource="cronjobs", operation="UPDATE")
    assert not handled(job, True, group="example.com", resource="jobs")  # same kind, not batch
    assert not handled({"kind": "Pod", "metadata": {"name": "p"}, "spec": "x"}, True)


def test_images_in_order_and_distinct() -> None:
    obj = pod([IMAGES[0], IMAGES[1], IMAGES[0]], [IMAGES[1], "busybox"])
    target = target_of(parse_review(review_for(obj)), False)
    assert target is not None
    assert images_of(target) == [IMAGES[1], "busybox", IMAGES[0]]


def test_opt_out_on_the_object_or_its_template() -> None:
    skip = {SKIP_ANNOTATION: "skip"}
    target = target_of(parse_review(review_for(pod(IMAGES, annotations=skip))), False)
    assert target is not None and opted_out(target)
    target = target_of(parse_review(review_for(pod(IMAGES, annotations={
        SKIP_ANNOTATION: "no"}))), False)
    assert target is not None and not opted_out(target)
    cron = {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {
        "template": {"metadata": {"annotations": skip},
                     "spec": {"containers": [{"name": "c", "image": "x"}]}}}}}}
    target = target_of(parse_review(review_for(cron, group="batch", resource="cronjobs")), True)
    assert target is not None and opted_out(target)


def test_patch_is_the_command_merge_for_every_image() -> None:
    zone = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["a"]}]}]}}}
    obj = pod(IMAGES, affinity=zone, annotations={"keep": "me"})
    resolutions = [_resolved(IMAGES[0], "spec-weighted.yaml"),
                   _resolved(IMAGES[1], "spec-kernel.yaml", "sha256:" + "b" * 64)]
    answer, outcome = _decide(obj, resolutions)
    assert outcome == "patched"
    result = patched(obj, answer)
    expected = obj
    for image, spec in ((IMAGES[0], "spec-weighted.yaml"), (IMAGES[1], "spec-kernel.yaml")):
        loaded = load_spec(DATA / spec)
        plan = build_rule_plan(loaded, LabelScheme("compat.feature.node.kubernetes.io",
                                                   image_label_base(image)))
        expected = patch_workload(expected, build_affinity(plan.sets).node_affinity)
    annotations = result["metadata"]["annotations"]
    assert annotations.pop("keep") == "me"
    assert json.loads(annotations.pop(APPLIED_ANNOTATION)) == {
        IMAGES[0]: "sha256:" + "a" * 64, IMAGES[1]: "sha256:" + "b" * 64}
    expected["metadata"].pop("annotations")
    result["metadata"].pop("annotations")
    assert result == expected
    # A pod patched already (a reinvocation) gets no affinity change.
    again, _ = _decide(patched(obj, answer), resolutions)
    assert "patch" not in again["response"]


def test_json_pointer_escapes_the_annotation_key() -> None:
    obj = pod([IMAGES[0]], annotations={"a": "b"})
    answer, _ = _decide(obj, [_resolved(IMAGES[0], "spec-kernel.yaml")])
    ops = json.loads(base64.b64decode(answer["response"]["patch"]))
    assert ops[-1]["path"] == "/metadata/annotations/nfd.k8s-sigs.io~1image-compatibility-specs"


def test_failures_follow_the_policy() -> None:
    failed = Resolution("ghcr.io/acme/x:v1", "failed", "image ghcr.io/acme/x:v1: timed out")
    resolutions = [_resolved(IMAGES[0], "spec-kernel.yaml"), failed]
    denied, outcome = _decide(pod([IMAGES[0], failed.image]), resolutions, "fail")
    assert outcome == "denied" and denied["response"]["allowed"] is False
    assert "timed out" in denied["response"]["status"]["message"]
    assert "patch" not in denied["response"]
    admitted, outcome = _decide(pod([IMAGES[0], failed.image]), resolutions, "ignore")
    assert outcome == "patched" and admitted["response"]["allowed"] is True
    assert "patch" in admitted["response"]  # the images that were checked still apply
    assert any("failure policy: ignore" in w for w in admitted["response"]["warnings"])


def test_too_many_images_are_not_checked() -> None:
    import asyncio

    from nfd.oci import RegistryOptions
    from nfd.webhook import AllowList, Resolver, ResolverSettings
    from nfd.webhook._resolver import MAX_IMAGES_PER_REVIEW

    resolver = Resolver(ResolverSettings(RegistryOptions(), AllowList(()), "p.example.com"))
    images = [f"ghcr.io/a/i{n}" for n in range(MAX_IMAGES_PER_REVIEW + 2)]
    try:
        out = asyncio.run(resolver.resolve_all(images, 1.0))
    finally:
        resolver.close()
    assert [r.status for r in out] == ["skipped"] * MAX_IMAGES_PER_REVIEW + ["failed"] * 2
    assert f"over {MAX_IMAGES_PER_REVIEW} distinct images" in out[-1].message


def test_malformed_existing_affinity_is_left_to_the_api_server() -> None:
    obj = pod([IMAGES[0]], affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": "x"}}})
    answer, outcome = _decide(obj, [_resolved(IMAGES[0], "spec-kernel.yaml")])
    assert outcome == "invalid" and answer["response"]["allowed"] is True
    assert "patch" not in answer["response"]
    assert any("nodeSelectorTerms" in w for w in answer["response"]["warnings"])


def test_warnings_are_bounded() -> None:
    answer = response("u", warnings=["x" * 1000] * 40)["response"]
    assert len(answer["warnings"]) == MAX_WARNINGS
    assert all(len(w) <= MAX_WARNING_CHARS for w in answer["warnings"])
    assert answer["warnings"][-1] == f"... and {40 - MAX_WARNINGS + 1} more warnings"
