"""Malformed cluster inputs (dumps, specs, manifests) never crash the cluster commands."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nfd.cli import main

SPEC: dict[str, Any] = {"version": "v1alpha1", "compatibilities": [{"rules": [{
    "name": "r", "matchFeatures": [{"feature": "kernel.loadedmodule",
                                    "matchExpressions": {"vfio-pci": {"op": "Exists"}}}]}],
    "weight": 5, "tag": "t"}]}
DUMP: dict[str, Any] = {"apiVersion": "v1", "kind": "List", "items": [{
    "apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
    "metadata": {"name": "a", "namespace": "node-feature-discovery",
                 "labels": {"nfd.node.kubernetes.io/node-name": "a"}},
    "spec": {"features": {"flags": {"kernel.loadedmodule": {"elements": {"vfio-pci": {}}}}}}}]}
MANIFEST: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "x"}, "spec": {"template": {"spec": {
                                "containers": [{"name": "c", "image": "i"}],
                                "affinity": {"nodeAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": {
                                        "nodeSelectorTerms": [{"matchExpressions": [
                                            {"key": "a", "operator": "In",
                                             "values": ["b"]}]}]}}}}}}}
JUNK: list[Any] = [None, 1, -5, 1.5, True, "", "x", [], {}, [None], {"a": None}, "<&>", [[[]]]]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            out += _paths(value, (*prefix, index))
    return out


def _mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(doc))
        if not path:
            continue
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if rng.random() < 0.7:
                parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
            elif isinstance(parent, dict):
                parent.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            pass
    return doc


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_mutated_inputs_give_a_verdict_or_an_error(tmp_path: Path, rng: random.Random) -> None:
    files = {}
    for name, doc in (("spec", SPEC), ("dump", DUMP), ("manifest", MANIFEST)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(_mutate(doc, rng) if rng.random() < 0.6 else doc))
        files[name] = str(path)
    for argv in (
        ["compat", "validate-cluster", "--spec", files["spec"], "--nodefeatures", files["dump"],
         "-o", "json"],
        ["compat", "affinity", "--spec", files["spec"], "--patch", files["manifest"]],
        ["compat", "validate-node", "--spec", files["spec"], "--features", files["dump"],
         "--node", "a"],
    ):
        code, err = _run(argv)
        assert code in (0, 1, 2), err
        assert "internal error" not in err
