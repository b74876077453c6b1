"""AdmissionReview in, AdmissionReview out (``admission.k8s.io/v1``), without any I/O.

The request's object is a Pod, or (opt-in) a Deployment, StatefulSet,
DaemonSet, Job or CronJob whose pod template is patched instead. The answer
is a JSONPatch (RFC 6902) that sets the node affinity ``nfd compat affinity
--patch`` computes, merged image by image into the affinity the pod has (so
all images' requirements apply), and an annotation recording which spec
artifacts were applied. Warnings explain whatever was not checked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from nfd._jsondoc import join_path
from nfd._text import printable_line
from nfd.cluster import (
    POD_SPEC_PATHS,
    AffinityTooLarge,
    and_node_affinities,
    merge_node_affinity,
)
from nfd.errors import SpecError
from nfd.webhook._resolver import Resolution

ADMISSION_API = "admission.k8s.io/v1"
SKIP_ANNOTATION = "nfd.k8s-sigs.io/image-compatibility"
SKIP_VALUE = "skip"
APPLIED_ANNOTATION = "nfd.k8s-sigs.io/image-compatibility-specs"
# Kubernetes shows warnings to the user and may cut long or many ones (KEP-1693).
MAX_WARNING_CHARS, MAX_WARNINGS = 256, 16
# Init and regular containers looked at per pod (Kubernetes sets no count; real pods have
# tens): the ones beyond are not checked, and the failure policy decides.
MAX_CONTAINERS = 1024

# (API group, kind) handled, and on which operations: a pod's affinity and a Job's
# template are immutable, so those are patched when created only. Workloads only
# when asked for.
POD_KIND = ("", "Pod")
WORKLOAD_OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("CREATE", "UPDATE"), ("apps", "StatefulSet"): ("CREATE", "UPDATE"),
    ("apps", "DaemonSet"): ("CREATE", "UPDATE"), ("batch", "Job"): ("CREATE",),
    ("batch", "CronJob"): ("CREATE", "UPDATE"),
}
WORKLOAD_KINDS = frozenset(WORKLOAD_OPERATIONS)
FailurePolicy = Literal["fail", "ignore"]


@dataclass(frozen=True)
class ReviewRequest:
    """The fields of an AdmissionReview request the webhook reads."""

    uid: str
    group: str
    kind: str
    operation: str
    dry_run: bool
    obj: Any
    where: str  # namespace/name for messages


@dataclass(frozen=True)
class Target:
    """Where the pod spec and the pod metadata are inside the request's object."""

    kind: str
    obj: dict[str, Any]

    @property
    def spec_path(self) -> tuple[str, ...]:
        return POD_SPEC_PATHS[self.kind]

    @property
    def meta_path(self) -> tuple[str, ...]:
        return (*self.spec_path[:-1], "metadata")

    def get(self, path: tuple[str, ...]) -> Any:
        node: Any = self.obj
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node


def _field(obj: dict[str, Any], key: str, kind: type, path: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise SpecError(f"must be a {kind.__name__}", path=join_path(path, key))
    return value


def parse_review(body: Any) -> ReviewRequest:
    """Check the AdmissionReview's shape; a :class:`SpecError` locates what is wrong."""
    if not isinstance(body, dict):
        raise SpecError("an AdmissionReview must be a JSON object")
    if body.get("apiVersion") != ADMISSION_API or body.get("kind") != "AdmissionReview":
        raise SpecError(f"expected apiVersion {ADMISSION_API} and kind AdmissionReview, got "
                        f"{body.get('apiVersion')!r} {body.get('kind')!r}")
    request = _field(body, "request", dict, "")
    kind = _field(request, "kind", dict, "request")
    namespace, name = request.get("namespace") or "", request.get("name") or ""
    obj = request.get("object")
    if not name and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        name = obj["metadata"].get("name") or obj["metadata"].get("generateName") or ""
    return ReviewRequest(
        uid=_field(request, "uid", str, "request"),
        group=str(kind.get("group") or ""), kind=str(kind.get("kind") or ""),
        operation=str(request.get("operation") or ""), dry_run=request.get("dryRun") is True,
        obj=obj, where="/".join(str(p) for p in (namespace, name) if p))


def target_of(request: ReviewRequest, workloads: bool) -> Target | None:
    """The object to patch, or ``None`` when this request is not the webhook's business."""
    key = (request.group, request.kind)
    if key == POD_KIND:
        wanted = request.operation == "CREATE"
    else:
        wanted = workloads and request.operation in WORKLOAD_OPERATIONS.get(key, ())
    if not wanted or not isinstance(request.obj, dict):
        return None
    target = Target(request.kind, request.obj)
    return target if isinstance(target.get(target.spec_path), dict) else None


def opted_out(target: Target) -> bool:
    """The object (or its pod template) carries ``nfd.k8s-sigs.io/image-compatibility: skip``."""
    for meta in (target.obj.get("metadata"), target.get(target.meta_path)):
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and annotations.get(SKIP_ANNOTATION) == SKIP_VALUE:
            return True
    return False


@dataclass(frozen=True)
class PodImages:
    """The distinct images of a pod (in order), and how many containers were not looked at."""

    images: list[str]
    unchecked_containers: int = 0


def pod_images(target: Target) -> PodImages:
    """The distinct images of the first :data:`MAX_CONTAINERS` init and regular containers.

    De-duplicated with a dict (insertion-ordered), so the cost is linear in the
    containers; the distinct-image cap applies in the resolver.
    """
    spec = target.get(target.spec_path)
    images: dict[str, None] = {}
    seen = 0
    for field in ("initContainers", "containers"):
        containers = spec.get(field)
        for container in containers if isinstance(containers, list) else []:
            seen += 1
            if seen > MAX_CONTAINERS:
                break
            image = container.get("image") if isinstance(container, dict) else None
            if isinstance(image, str):
                images[image] = None
    counted = sum(len(c) for c in (spec.get(f) for f in ("initContainers", "containers"))
                  if isinstance(c, list))
    return PodImages(list(images), max(counted - MAX_CONTAINERS, 0))


def images_of(target: Target) -> list[str]:
    """Every distinct image of the containers and init containers, in order (up to the
    container cap)."""
    return pod_images(target).images


def _pointer(path: Sequence[str]) -> str:
    """An RFC 6901 JSON pointer."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def affinity_ops(target: Target, resolutions: Sequence[Resolution]) -> list[dict[str, Any]]:
    """JSONPatch operations that AND every resolved image's affinity into the pod's."""
    plans = [r.plan for r in resolutions if r.plan is not None]
    if not plans:
        return []
    spec_path = target.spec_path
    where = ".".join(spec_path)
    affinity = target.get((*spec_path, "affinity"))
    if affinity is not None and not isinstance(affinity, dict):
        raise SpecError("affinity must be a mapping", path=f"{where}.affinity")
    existing = affinity.get("nodeAffinity") if affinity else None
    # All images' affinities in one product first, then one merge with the pod's own.
    ours = and_node_affinities([plan.node_affinity for plan in plans],
                               f"{where}.affinity.nodeAffinity")
    # Shared objects are fine: the answer is only encoded as JSON.
    merged = merge_node_affinity(existing, ours, f"{where}.affinity.nodeAffinity", share=True)
    if merged == existing:
        return []
    if affinity is None:
        return [{"op": "add", "path": _pointer((*spec_path, "affinity")),
                 "value": {"nodeAffinity": merged}}]
    op = "add" if existing is None else "replace"
    return [{"op": op, "path": _pointer((*spec_path, "affinity", "nodeAffinity")),
             "value": merged}]


def applied_value(resolutions: Sequence[Resolution]) -> str | None:
    """The annotation naming the spec artifact applied for each image (JSON, in pod order)."""
    applied = {r.image: r.artifact_digest for r in resolutions if r.artifact_digest}
    return json.dumps(applied, separators=(",", ":")) if applied else None


def annotation_ops(target: Target, value: str | None) -> list[dict[str, Any]]:
    """Set the applied-specs annotation on the pod (template) metadata."""
    if value is None:
        return []
    meta_path = target.meta_path
    meta = target.get(meta_path)
    if not isinstance(meta, dict):
        return [{"op": "add", "path": _pointer(meta_path),
                 "value": {"annotations": {APPLIED_ANNOTATION: value}}}]
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict):
        return [{"op": "add", "path": _pointer((*meta_path, "annotations")),
                 "value": {APPLIED_ANNOTATION: value}}]
    if annotations.get(APPLIED_ANNOTATION) == value:
        return []
    return [{"op": "add", "path": _pointer((*meta_path, "annotations", APPLIED_ANNOTATION)),
             "value": value}]


def _short(text: str) -> str:
    # kubectl prints warnings on the user's terminal; the API server drops ones that hold
    # control characters (k8s.io/apiserver warning handling): escaped instead, one line.
    text = printable_line(text)
    return text if len(text) <= MAX_WARNING_CHARS else text[: MAX_WARNING_CHARS - 1] + "…"


def response(uid: str, *, allowed: bool = True, patch: Sequence[dict[str, Any]] = (),
             warnings: Sequence[str] = (), message: str | None = None) -> dict[str, Any]:
    """An AdmissionReview answer."""
    answer: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if patch:
        answer["patchType"] = "JSONPatch"
        answer["patch"] = base64.b64encode(json.dumps(list(patch)).encode()).decode()
    if warnings:
        kept = [_short(w) for w in warnings[:MAX_WARNINGS]]
        if len(warnings) > MAX_WARNINGS:
            kept[-1] = f"... and {len(warnings) - MAX_WARNINGS + 1} more warnings"
        answer["warnings"] = kept
    if not allowed:
        answer["status"] = {"code": 503, "reason": "ServiceUnavailable",
                            "message": _short(message or "image compatibility not checked")}
    return {"apiVersion": ADMISSION_API, "kind": "AdmissionReview", "response": answer}


def decide(request: ReviewRequest, target: Target, resolutions: Sequence[Resolution],
           policy: FailurePolicy) -> tuple[dict[str, Any], str]:
    """The answer for resolved images, and its outcome for metrics."""
    warnings = [r.message for r in resolutions if r.status in ("skipped", "failed")]
    warnings += [w for r in resolutions if r.plan for w in r.plan.warnings]
    failed = [r for r in resolutions if r.status == "failed"]
    what = f"{request.kind} {request.where}".strip()
    if failed and policy == "fail":
        reasons = failed[0].message + (f" (and {len(failed) - 1} more image(s), see the "
                                       "warnings)" if len(failed) > 1 else "")
        return response(request.uid, allowed=False, warnings=warnings,
                        message=f"{what}: image compatibility could not be checked "
                        f"(failure policy: fail): {reasons}"), "denied"
    if failed:
        warnings.append(f"{what}: admitted without the requirements of "
                        f"{len(failed)} image(s) that could not be checked "
                        "(failure policy: ignore)")
    try:
        ops = affinity_ops(target, resolutions)
    except AffinityTooLarge as exc:
        return unchecked(request, policy, f"{what}: {exc}", warnings)
    except SpecError as exc:
        return response(request.uid, warnings=[*warnings, f"{what}: left unchanged: {exc}"]), \
            "invalid"
    patched = bool(ops)
    ops += annotation_ops(target, applied_value(resolutions))
    return response(request.uid, patch=ops, warnings=warnings), (
        "patched" if patched else "failed-open" if failed else "unchanged")


def unchecked(request: ReviewRequest, policy: FailurePolicy, reason: str,
              warnings: Sequence[str] = ()) -> tuple[dict[str, Any], str]:
    """The failure policy's answer for a review that could not be checked: ``reason`` says why."""
    if policy == "fail":
        return response(request.uid, allowed=False, warnings=[*warnings, reason],
                        message=f"image compatibility could not be checked (failure policy: "
                        f"fail): {reason}"), "denied"
    return response(request.uid, warnings=[*warnings, f"{reason}; admitted unchanged (failure "
                                           "policy: ignore)"]), "failed-open"


def merge_weight(resolutions: Sequence[Resolution]) -> int:
    """How many required terms of ours a decision merges (what its cost grows with)."""
    return sum(len(r.plan.node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution",
                                            {}).get("nodeSelectorTerms", []))
               for r in resolutions if r.plan is not None)
