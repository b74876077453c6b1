"""The NFD-backed part of a pod's own node selection, judged on nfd-worker's labels."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cluster._synthetic import node_feature

from nfd.api import Features
from nfd.cluster import FeatureIndex, SatisfiabilityCheck, nfd_label_requirement
from nfd.cluster._nfd_affinity import LabelRequirement, is_nfd_label

GPU = "feature.node.kubernetes.io/pci-10de.present"
KERNEL = "feature.node.kubernetes.io/kernel-version.major"
OTHER = "example.com/rack"


def _pod(selector: dict[str, str] | None = None,
         terms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if selector is not None:
        spec["nodeSelector"] = selector
    if terms is not None:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": terms}}}
    return spec


def _expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


@pytest.mark.parametrize(("key", "ours"), [
    (GPU, True), ("profile.node.kubernetes.io/x", True),
    ("vendor.feature.node.kubernetes.io/y", True), ("feature.node.kubernetes.io", False),
    ("notfeature.node.kubernetes.io/x", False), (OTHER, False), ("kubernetes.io/arch", False),
])
def test_nfd_label_namespaces(key: str, ours: bool) -> None:
    assert is_nfd_label(key) is ours


def test_only_nfd_keys_are_kept_and_a_term_without_them_holds() -> None:
    assert nfd_label_requirement(_pod({OTHER: "a"})) is None
    requirement = nfd_label_requirement(_pod({GPU: "true", OTHER: "a"}))
    assert requirement == LabelRequirement(((GPU, "true"),), None)
    # The second term names no NFD label: the OR holds whatever the first says.
    assert nfd_label_requirement(_pod(terms=[{"matchExpressions": [_expr(GPU, "Exists")]},
                                             {"matchExpressions": [_expr(OTHER, "Exists")]}])
                                 ) is None
    # matchFields terms are the scheduler's to judge.
    assert nfd_label_requirement(_pod(terms=[{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}])) is None


@pytest.mark.parametrize(("expr", "labels", "holds"), [
    (_expr(GPU, "In", "true"), {GPU: "true"}, True),
    (_expr(GPU, "In", "true"), {}, False),
    (_expr(GPU, "NotIn", "true"), {}, True),
    (_expr(GPU, "NotIn", "true"), {GPU: "true"}, False),
    (_expr(GPU, "Exists"), {GPU: "true"}, True),
    (_expr(GPU, "DoesNotExist"), {GPU: "true"}, False),
    (_expr(KERNEL, "Gt", "5"), {KERNEL: "6"}, True),
    (_expr(KERNEL, "Gt", "5"), {KERNEL: "5"}, False),
    (_expr(KERNEL, "Lt", "5"), {KERNEL: "4"}, True),
    (_expr(KERNEL, "Lt", "5"), {KERNEL: "x"}, False),
])
def test_each_operator_as_the_scheduler_reads_it(expr: dict[str, Any], labels: dict[str, str],
                                                 holds: bool) -> None:
    requirement = nfd_label_requirement(_pod(terms=[{"matchExpressions": [expr]}]))
    assert requirement is not None
    published = {GPU, KERNEL}
    assert (requirement.failures(labels, published) == ()) is holds


def test_keys_no_nodefeature_publishes_hold() -> None:
    """A NodeFeatureRule (or anyone) may set such a label on nodes: never judged missing."""
    requirement = nfd_label_requirement(_pod({"feature.node.kubernetes.io/my-rule": "true"}))
    assert requirement is not None
    assert requirement.failures({}, {GPU}) == ()
    assert requirement.failures({}, {"feature.node.kubernetes.io/my-rule"}) != ()


def _labelled(node: str, labels: dict[str, str]) -> dict[str, Any]:
    obj = node_feature(node, Features())
    obj["spec"]["labels"] = labels
    return obj


def test_the_index_answers_for_the_pods_own_requirement() -> None:
    index = FeatureIndex({})
    index.replace([_labelled("cpu-1", {KERNEL: "6", OTHER: "r1"}),
                   _labelled("gpu-1", {KERNEL: "5", GPU: "true"})], "1")
    assert index.labels == {"cpu-1": {KERNEL: "6"}, "gpu-1": {KERNEL: "5", GPU: "true"}}
    check = SatisfiabilityCheck(index)
    wants_gpu_and_new_kernel = nfd_label_requirement(_pod(
        {GPU: "true"}, [{"matchExpressions": [_expr(KERNEL, "Gt", "5")]}]))
    answer = check.check([], wants_gpu_and_new_kernel)
    assert answer is not None and answer.nodes == 2
    text = answer.message()
    assert "gpu-1 lacks label feature.node.kubernetes.io/kernel-version.major Gt ['5']" in text
    assert f"cpu-1 lacks label {GPU}=true" in text
    assert check.check([], nfd_label_requirement(_pod({GPU: "true"}))) is None
    # The answer is remembered per requirement, and dropped when the index changes.
    index.apply({"type": "MODIFIED", "object": {**_labelled("gpu-1", {KERNEL: "6", GPU: "true"}),
                                                "metadata": {**_labelled("gpu-1", {})["metadata"],
                                                             "resourceVersion": "2"}}})
    assert check.check([], wants_gpu_and_new_kernel) is None
