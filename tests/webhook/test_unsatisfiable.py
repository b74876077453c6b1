"""``--unsatisfiable``: a resolved image's spec checked against a NodeFeature index.

The image is resolved for real (a registry holding it with its spec attached); the index is
fed NodeFeature objects as a list would give them (the live list and watch run in
``tests/kube/test_drift.py``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tests._cli import nfd
from tests.cluster._synthetic import node_feature
from tests.oci._registry import Registry

from nfd.api import Features
from nfd.cluster import FeatureIndex, IndexFeed, KubeOptions
from nfd.oci import RegistryOptions
from nfd.webhook import AllowList, Resolution, Resolver, ResolverSettings
from nfd.webhook._unsatisfiable import Mode, UnsatisfiableCheck, Verdict, denied


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _node(major: str) -> Features:
    return Features(attributes={"kernel.version": {"major": major, "minor": "1"}})


def _check(mode: Mode, kernel_image: str, registry_host: str, clock: Clock
           ) -> tuple[UnsatisfiableCheck, Resolver, list[Resolution]]:
    resolver = Resolver(ResolverSettings(RegistryOptions(), AllowList.parse([registry_host]),
                                         "p.example.com"))
    index = FeatureIndex({}, clock=clock)
    feed = IndexFeed(index, KubeOptions())  # not started: fed by hand here
    check = UnsatisfiableCheck(mode, feed, resolver, max_staleness=60)
    resolutions = asyncio.run(resolver.resolve_all(
        [kernel_image], 30, write_rules=False))
    return check, resolver, resolutions


def _verdict(check: UnsatisfiableCheck, resolutions: list[Resolution]) -> Verdict:
    return asyncio.run(check.verdict(resolutions, "Pod apps/p", time.perf_counter() + 5))


@pytest.mark.parametrize("mode", ["warn", "deny"])
def test_a_pod_no_node_can_run(mode: Mode, kernel_image: str, registry: Registry) -> None:
    clock = Clock()
    check, resolver, resolutions = _check(mode, kernel_image, registry.host, clock)
    try:
        assert [r.status for r in resolutions] == ["spec"]
        # Before the first list: not checked (and nothing is denied).
        first = _verdict(check, resolutions)
        assert first.deny is None and "being listed" in str(first.warning)
        check.index.replace([node_feature("old-1", _node("4")),
                             node_feature("old-2", _node("3"))], "5")
        # The index keeps no kernel.version yet: widened (a relist is asked for), unchecked.
        widening = _verdict(check, resolutions)
        assert "widened" in str(widening.warning)
        assert "kernel.version" in check.index.reads
        check.index.replace([node_feature("old-1", _node("4")),
                             node_feature("old-2", _node("3"))], "6")  # the relist
        verdict = _verdict(check, resolutions)
        text = verdict.deny if mode == "deny" else verdict.warning
        assert text is not None and "no node can run it" in text
        assert "old-1 lacks" in text and "kernel.version" in text  # the closest first
        assert text.index("old-1") < text.index("old-2")
        if mode == "deny":
            answer = denied("uid-1", text)["response"]
            assert answer["allowed"] is False and answer["status"]["code"] == 403
            # A stale index does not deny: it warns, saying why.
            clock.now += 61
            stale = _verdict(check, resolutions)
            assert stale.deny is None and "not denied" in str(stale.warning)
            clock.now -= 61
        # A node that can run it arrives (a watch event): nothing to say any more.
        check.index.apply({"type": "ADDED", "object": {
            **node_feature("new", _node("6")), "metadata": {
                **node_feature("new", _node("6"))["metadata"], "resourceVersion": "7"}}})
        after = _verdict(check, resolutions)
        assert after.deny is None and after.warning is None
        assert check.counts == {"satisfiable": 1, "unsatisfiable": 1 + (mode == "deny"),
                                "unchecked": 2}
        metrics = "\n".join(check.metrics())
        assert "nfd_webhook_index_nodes 3" in metrics
        assert f"nfd_webhook_index_generation {check.index.generation}" in metrics
    finally:
        resolver.close()


def test_images_without_a_spec_are_not_checked(bare_image: str, registry: Registry) -> None:
    check, resolver, resolutions = _check("deny", bare_image, registry.host, Clock())
    try:
        verdict = _verdict(check, resolutions)
        assert verdict.deny is None and verdict.warning is None
        assert check.counts == {"satisfiable": 0, "unsatisfiable": 0, "unchecked": 0}
    finally:
        resolver.close()


@pytest.mark.parametrize(("flags", "words"), [
    (("--index-max-staleness", "5"), "--index-max-staleness goes with --unsatisfiable"),
    (("--unsatisfiable", "deny", "--index-watch-seconds", "0"), "--index-watch-seconds"),
    (("--unsatisfiable", "warn", "--kubeconfig", "/nonexistent/kubeconfig"), "kubeconfig"),
])
def test_serve_refuses_bad_options_before_listening(flags: tuple[str, ...], words: str,
                                                    tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    done = nfd("compat", "webhook", "serve", "--listen", "127.0.0.1:0", "--tls-cert-file",
               str(cert), "--tls-key-file", str(key), "--allow-registry", "r.example", *flags)
    assert done.returncode in (2, 3), done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_the_pods_own_nfd_requirement_is_anded(kernel_image: str, registry: Registry) -> None:
    """The image's spec holds on a node, but the pod itself asks (nodeSelector) for an NFD
    label that node's NodeFeature does not carry: no node can run it."""
    import json

    from tests.webhook._webhook import pod, review_for

    from nfd.webhook._work import look

    gpu = "feature.node.kubernetes.io/pci-10de.present"
    obj = pod([kernel_image])
    obj["spec"]["nodeSelector"] = {gpu: "true", "example.com/rack": "r1"}
    looked = look(json.dumps(review_for(obj)).encode(), False)
    assert not isinstance(looked, str) and looked.requirement is not None
    check, resolver, resolutions = _check("deny", kernel_image, registry.host, Clock())
    try:
        new = node_feature("new", _node("6"))
        new["spec"]["labels"] = {"feature.node.kubernetes.io/kernel-version.major": "6"}
        gpu_node = node_feature("old-gpu", _node("4"))
        gpu_node["spec"]["labels"] = {gpu: "true"}
        check.index.widen({"kernel.version": None})
        check.index.replace([new, gpu_node], "5")
        verdict = asyncio.run(check.verdict(resolutions, "Pod apps/p", time.perf_counter() + 5,
                                            looked.requirement))
        assert verdict.deny is not None and f"new lacks label {gpu}=true" in verdict.deny
        assert "old-gpu lacks" in verdict.deny and "kernel.version" in verdict.deny
        # Without the pod's own requirement, the new node runs it.
        assert _verdict(check, resolutions).deny is None
    finally:
        resolver.close()
