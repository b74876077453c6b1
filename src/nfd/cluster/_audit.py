"""After admission: which running pods sit on nodes that no longer satisfy their images
(drift), and which images would not run on planned node profiles (what-if).

NFD's KEP-2403 designs drift detection (a pod whose node lost what its image needs, after a
kernel or driver upgrade) and builds none; the OCI working group's requirements list the
what-if story (check every running application against new nodes before a migration). Both
are the same evaluation: each image's spec, fetched once per image, on the features of a node,
evaluated once per distinct projection of the nodes (:class:`nfd.match.SpecEvaluator`).

Specs come from a caller-supplied lookup (:data:`SpecLookup`), so this module neither knows
registries nor imports the registry use cases; ``nfd compat audit`` wires in
``fetch_compat_spec`` with the registry options, and a file of image-to-spec pairs works too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from nfd._jsondoc import join_path, mapping, sequence
from nfd._record import Record
from nfd.api import CompatSpec, Features
from nfd.cluster._affinity import POD_SPEC_PATHS
from nfd.cluster._nodefeatures import ClusterFeatures
from nfd.errors import NfdError, SpecError
from nfd.match import SetVerdict, SharedOutcomes, SpecEvaluator

# Phases of a pod whose containers run, or will, on its node.
_ACTIVE_PHASES = frozenset({"Running", "Pending", "Unknown"})
# containerStatuses[].imageID: "docker-pullable://repo@sha256:..." (dockershim) or
# "repo@sha256:..." (containerd, CRI-O); a bare "sha256:..." is an image ID, not a reference.
_PINNED = re.compile(r"(?:[a-z-]+://)?([^@\s]+@sha256:[0-9a-f]{64})", re.ASCII)
MAX_PODS = 1_000_000
MAX_CONTAINERS_PER_POD = 1_000
# Workload kinds whose pod template runs images, and where the template is (the kinds
# `affinity --patch` patches).
WORKLOAD_TEMPLATES = {kind: path for kind, path in POD_SPEC_PATHS.items() if kind != "Pod"}


class PodImages(Record):
    """One pod (or workload template): where it runs and the images it runs."""

    __slots__ = ("images", "kind", "name", "namespace", "node")

    def __init__(self, kind: str, namespace: str, name: str, node: str | None,
                 images: tuple[str, ...]) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.node = node
        self.images = images

    @property
    def title(self) -> str:
        prefix = "" if self.kind == "Pod" else f"{self.kind}/"
        return f"{prefix}{self.namespace}/{self.name}"


class SpecLookup(Record):
    """What an image's lookup gave: a spec (and its artifact digest), none, or an error.

    ``same_as`` names the spec's content (its layer digest, a file's path): images whose
    specs have the same content share one compiled evaluator and its remembered outcomes.
    """

    __slots__ = ("artifact", "error", "same_as", "spec")

    def __init__(self, spec: CompatSpec | None, artifact: str = "", error: str = "",
                 same_as: str = "") -> None:
        self.spec = spec
        self.artifact = artifact
        self.error = error
        self.same_as = same_as


SpecSource = Callable[[str], SpecLookup]


def _image_of(container: Any, statuses: Mapping[str, str], path: str) -> str | None:
    obj = mapping(container, path)
    name, image = obj.get("name"), obj.get("image")
    pinned = statuses.get(name) if isinstance(name, str) else None
    if pinned:
        return pinned
    return image if isinstance(image, str) and image else None


def _pinned_images(status: Any) -> dict[str, str]:
    """Container name -> the digest-pinned reference the kubelet reported running."""
    pinned: dict[str, str] = {}
    if not isinstance(status, dict):
        return pinned
    for key in ("initContainerStatuses", "containerStatuses"):
        for item in status.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("imageID"), str):
                match = _PINNED.fullmatch(item["imageID"])
                if match and isinstance(item.get("name"), str):
                    pinned[item["name"]] = match.group(1)
    return pinned


def _template_images(spec: Any, path: str, pinned: Mapping[str, str]) -> tuple[str, ...]:
    pod_spec = mapping(spec, path)
    images: dict[str, None] = {}  # ordered and de-duplicated in linear time
    for key in ("initContainers", "containers"):
        containers = sequence(pod_spec.get(key) or [], join_path(path, key))
        if len(containers) > MAX_CONTAINERS_PER_POD:
            raise SpecError(f"over {MAX_CONTAINERS_PER_POD} {key}", path=join_path(path, key))
        for i, container in enumerate(containers):
            image = _image_of(container, pinned, join_path(join_path(path, key), i))
            if image:
                images[image] = None
    return tuple(images)


def _meta(obj: dict[str, Any], path: str) -> tuple[str, str]:
    meta = mapping(obj.get("metadata") or {}, join_path(path, "metadata"))
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


def pods_from_document(doc: Any, *, workloads: bool = False) -> list[PodImages]:
    """Active pods (``kubectl get pods -A -o json|yaml``) and, with ``workloads``, the pod
    templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs in
    the same or another list (``kubectl get pods,deploy,sts,ds,job,cronjob -A -o json``)."""
    top = mapping(doc, "(document)")
    items = [top] if top.get("kind") in ("Pod", *WORKLOAD_TEMPLATES) else sequence(
        top.get("items") or [], "items")
    if len(items) > MAX_PODS:
        raise SpecError(f"over {MAX_PODS} objects", path="items")
    found: list[PodImages] = []
    for index, item in enumerate(items):
        path = join_path("items", index) if len(items) > 1 or "items" in top else "(document)"
        obj = mapping(item, path)
        kind = obj.get("kind") or "Pod"
        if kind == "Pod":
            pod = _pod(obj, path)
            if pod is not None:
                found.append(pod)
        elif workloads and kind in WORKLOAD_TEMPLATES:
            found.append(_workload(obj, kind, path))
    return found


def _pod(obj: dict[str, Any], path: str) -> PodImages | None:
    status = obj.get("status")
    phase = status.get("phase") if isinstance(status, dict) else None
    if phase is not None and phase not in _ACTIVE_PHASES:
        return None  # Succeeded or Failed: nothing of it runs any more
    spec = mapping(obj.get("spec") or {}, join_path(path, "spec"))
    node = spec.get("nodeName")
    namespace, name = _meta(obj, path)
    images = _template_images(spec, join_path(path, "spec"), _pinned_images(status))
    return PodImages("Pod", namespace, name, node if isinstance(node, str) and node else None,
                     images)


def _workload(obj: dict[str, Any], kind: str, path: str) -> PodImages:
    template: Any = obj
    where = path
    for key in WORKLOAD_TEMPLATES[kind]:
        template = mapping(template, where).get(key) or {}
        where = join_path(where, key)
    namespace, name = _meta(obj, path)
    return PodImages(kind, namespace, name, None, _template_images(template, where, {}))


def images_from_list(text: str) -> list[str]:
    """Image references, one a line (``#`` comments and blank lines skipped)."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def fetch_specs(images: Iterable[str], source: SpecSource, workers: int = 8
                ) -> dict[str, SpecLookup]:
    """Each distinct image looked up once, ``workers`` at a time (the lookups wait on the
    network); a lookup that raises is recorded as that image's error."""
    distinct = list(dict.fromkeys(images))

    def one(image: str) -> SpecLookup:
        try:
            return source(image)
        except NfdError as exc:
            return SpecLookup(None, error=str(exc))

    if len(distinct) <= 1 or workers <= 1:
        return {image: one(image) for image in distinct}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(distinct, pool.map(one, distinct), strict=True))


def reads_of(evaluators: Iterable[SpecEvaluator]) -> dict[str, frozenset[str] | None]:
    """The union of what the specs read: feature -> element names (None: every element)."""
    union: dict[str, frozenset[str] | None] = {}
    for evaluator in evaluators:
        for feature, names in evaluator.reads.items():
            if names is None or (feature in union and union[feature] is None):
                union[feature] = None
            else:
                union[feature] = (union.get(feature) or frozenset()) | names
    return union


class Evaluations:
    """One compiled evaluator per distinct spec, and each (spec, node) verdict computed once
    (the evaluator itself remembers outcomes per distinct projection of the nodes)."""

    def __init__(self, lookups: Mapping[str, SpecLookup]) -> None:
        self._by_image: dict[str, SpecEvaluator] = {}
        by_spec: dict[object, SpecEvaluator] = {}
        shared = SharedOutcomes()  # a rule several specs share is evaluated once per node kind
        for image, lookup in lookups.items():
            if lookup.spec is not None:
                key = lookup.same_as or id(lookup.spec)
                if key not in by_spec:
                    by_spec[key] = SpecEvaluator(lookup.spec, shared=shared)
                self._by_image[image] = by_spec[key]
        self._verdicts: dict[tuple[int, str], tuple[SetVerdict, ...]] = {}

    @property
    def evaluators(self) -> list[SpecEvaluator]:
        return list({id(e): e for e in self._by_image.values()}.values())

    def verdicts(self, image: str, node: str, features: Features) -> tuple[SetVerdict, ...]:
        evaluator = self._by_image[image]
        key = (id(evaluator), node)
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts[key] = evaluator.verdicts(features)
        return found


def failure_reasons(verdicts: Sequence[SetVerdict]) -> tuple[str, ...]:
    """Why no set matches: each set's reasons, numbered as the spec numbers its sets."""
    if len(verdicts) == 1:
        return verdicts[0].reasons
    return tuple(f"set #{v.index + 1}: {reason}" for v in verdicts for reason in v.reasons)


class DriftGroup(Record):
    """Pods of one image whose nodes fail its spec for the same reasons."""

    __slots__ = ("artifact", "image", "pods", "reasons")

    def __init__(self, image: str, artifact: str, reasons: tuple[str, ...],
                 pods: list[tuple[str, str]]) -> None:
        self.image = image
        self.artifact = artifact
        self.reasons = reasons
        self.pods = pods  # (pod title, node)


class AuditResult(Record):
    """Drift grouped by reason; images without a spec; lookups that failed; pods whose node
    has no NodeFeature; workload templates no node can run."""

    __slots__ = ("checked", "drift", "failed", "no_spec", "unknown_nodes", "unsatisfiable")

    def __init__(self, checked: int, drift: list[DriftGroup], no_spec: dict[str, int],
                 failed: dict[str, str], unknown_nodes: dict[str, int],
                 unsatisfiable: list[DriftGroup]) -> None:
        self.checked = checked
        self.drift = drift
        self.no_spec = no_spec
        self.failed = failed
        self.unknown_nodes = unknown_nodes
        self.unsatisfiable = unsatisfiable

    @property
    def has_drift(self) -> bool:
        return bool(self.drift or self.unsatisfiable)


def audit(pods: Sequence[PodImages], cluster: ClusterFeatures,
          lookups: Mapping[str, SpecLookup], evaluations: Evaluations | None = None
          ) -> AuditResult:
    """Evaluate each active pod's images on its node; each template's on every node.

    Pass ``evaluations`` (made from the same ``lookups``) to reuse compiled specs.
    """
    evaluations = evaluations or Evaluations(lookups)
    groups: dict[tuple[str, tuple[str, ...]], DriftGroup] = {}
    unsatisfiable: dict[tuple[str, tuple[str, ...]], DriftGroup] = {}
    no_spec: dict[str, int] = {}
    failed: dict[str, str] = {}
    unknown: dict[str, int] = {}
    checked = 0
    for pod in pods:
        for image in pod.images:
            lookup = lookups.get(image)
            if lookup is None or lookup.spec is None:
                if lookup is not None and lookup.error:
                    failed[image] = lookup.error
                else:
                    no_spec[image] = no_spec.get(image, 0) + 1
                continue
            if pod.node is None:
                if pod.kind != "Pod":
                    _template(pod, image, lookup, cluster, evaluations, unsatisfiable)
                continue
            features = cluster.nodes.get(pod.node)
            if features is None:
                unknown[pod.node] = unknown.get(pod.node, 0) + 1
                continue
            checked += 1
            verdicts = evaluations.verdicts(image, pod.node, features)
            if not any(v.is_match for v in verdicts):
                reasons = failure_reasons(verdicts)
                group = groups.setdefault((image, reasons),
                                          DriftGroup(image, lookup.artifact, reasons, []))
                group.pods.append((pod.title, pod.node))
    return AuditResult(checked, list(groups.values()), no_spec, failed, unknown,
                       list(unsatisfiable.values()))


def _template(pod: PodImages, image: str, lookup: SpecLookup, cluster: ClusterFeatures,
              evaluations: Evaluations, out: dict[tuple[str, tuple[str, ...]], DriftGroup]
              ) -> None:
    """A workload template runs wherever the scheduler puts it: drift is no node at all."""
    closest: tuple[int, str, tuple[str, ...]] | None = None
    for node, features in cluster.nodes.items():
        verdicts = evaluations.verdicts(image, node, features)
        if any(v.is_match for v in verdicts):
            return
        reasons = failure_reasons(verdicts)
        if closest is None or len(reasons) < closest[0]:
            closest = (len(reasons), node, reasons)
    reasons = closest[2] if closest else ("the cluster has no node with NodeFeatures",)
    node = closest[1] if closest else ""
    group = out.setdefault((image, reasons), DriftGroup(image, lookup.artifact, reasons, []))
    group.pods.append((pod.title, f"closest: {node}" if node else ""))


class ProfileVerdict(Record):
    """One image on one planned node profile."""

    __slots__ = ("compatible", "image", "profile", "reasons")

    def __init__(self, profile: str, image: str, compatible: bool,
                 reasons: tuple[str, ...]) -> None:
        self.profile = profile
        self.image = image
        self.compatible = compatible
        self.reasons = reasons


def what_if(images: Sequence[str], profiles: ClusterFeatures,
            lookups: Mapping[str, SpecLookup], evaluations: Evaluations | None = None
            ) -> list[ProfileVerdict]:
    """Each spec'd image on each profile (images without a spec are not evaluated)."""
    evaluations = evaluations or Evaluations(lookups)
    out: list[ProfileVerdict] = []
    for profile, features in profiles.nodes.items():
        for image in dict.fromkeys(images):
            lookup = lookups.get(image)
            if lookup is None or lookup.spec is None:
                continue
            verdicts = evaluations.verdicts(image, profile, features)
            ok = any(v.is_match for v in verdicts)
            out.append(ProfileVerdict(profile, image, ok, () if ok else failure_reasons(verdicts)))
    return out
