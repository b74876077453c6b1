"""The fast JSON path of big NodeFeature dumps: the general reader's result, or no result.

Whatever :func:`fast_cluster_features` accepts must come out exactly as the
general reader (``json`` + :func:`cluster_features_from_document`) makes it;
whatever it would read differently it must hand back (``None``), so that the
general reader words the error.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests._cli import nfd
from tests.cluster._synthetic import node_feature, synthetic_list

from nfd.api import Features, load_spec, parse_spec
from nfd.cluster import (
    cluster_features_from_document,
    load_cluster_dump,
    project_features,
    validate_cluster,
)
from nfd.cluster._fastjson import fast_cluster_features
from nfd.errors import EvaluationError
from nfd.match import SpecEvaluator

ROOT = Path(__file__).resolve().parents[2]
SPEC_CPU = Path(__file__).parent / "data" / "spec-cpu-kernel.yaml"
FLEET = ROOT / "benchmarks" / "fleet"


def _dump() -> dict[str, Any]:
    doc = synthetic_list(80, seed=5)
    odd = Features(flags={"cpu.cpuid": None}, attributes={"kernel.config": None},
                   instances={"pci.device": None, "usb.device": [{}]})
    doc["items"].append(node_feature("node-odd", odd))
    doc["items"].append(node_feature("node-00003", Features(flags={"cpu.cpuid": {"X"}}),
                                     name="second", namespace="aaa"))
    doc["items"].append(node_feature("unlabelled", Features(), labelled=False))
    doc["items"][0]["spec"]["features"]["instances"]["pci.device"]["elements"].append(None)
    doc["items"][1]["metadata"]["annotations"] = {"ignored": [1, 2.5, None]}
    return doc


def _fast(doc: Any, only: Any = None) -> Any:
    return fast_cluster_features(json.dumps(doc).encode(), only=only)


def test_same_nodes_objects_and_ignored_as_the_general_reader() -> None:
    doc = _dump()
    fast = _fast(doc)
    slow = cluster_features_from_document(json.loads(json.dumps(doc)))
    assert fast is not None
    assert fast.nodes == slow.nodes and len(fast.nodes) > 70
    assert fast.objects == slow.objects and fast.ignored == slow.ignored
    assert fast.objects["node-00003"] == ["node-feature-discovery/node-00003", "aaa/second"]


def test_projection_keeps_what_the_spec_reads() -> None:
    doc = _dump()
    evaluator = SpecEvaluator(load_spec(SPEC_CPU))
    fast = _fast(doc, evaluator.reads)
    slow = cluster_features_from_document(doc)
    assert fast is not None
    assert fast.nodes == {n: project_features(f, evaluator.reads) for n, f in slow.nodes.items()}
    assert validate_cluster(evaluator.spec, fast, evaluator=evaluator) == validate_cluster(
        evaluator.spec, slow)


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = path.split("/")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value
    return out


FEATURES = "items/0/spec/features"


@pytest.mark.parametrize(("path", "value"), [
    ("items/0/metadata/name", 7),  # the general reader takes numbers as strings
    (f"{FEATURES}/Flags", {}),  # Go matches field names case-insensitively
    (f"{FEATURES}/attributes/cpu.model/elements/family", 6),
    (f"{FEATURES}/flags/cpu.cpuid/elements/AVX", {"x": 1}),
    (f"{FEATURES}/flags/cpu.cpuid/elements/AVX", 1),
    (f"{FEATURES}/flags/cpu.cpuid/extra", 1),
    (f"{FEATURES}/instances/pci.device/elements/0/Attributes", {}),
    ("items/0/kind", "Node"),
    ("items/0/kind", None),
    ("items/0/spec", []),
    ("items/0/spec/features", []),
    ("kind", "NodeFeature"),
    ("items", {}),
])
def test_anything_read_differently_goes_to_the_general_reader(path: str, value: Any) -> None:
    assert _fast(_set(_dump(), path, value)) is None


@pytest.mark.parametrize("text", [
    b'{"kind": "List", "items": [], "metadata": {"x": NaN}}',
    b'{"kind": "List", "items": [], "x": 1}',
    b'{"kind": "List", "items": [], "kind": "List"}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "kind": "NodeFeature"}]}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "metadata": {"a": 1, "a": 2}}]}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "spec": {"features": {"flags": '
    b'{"f": {"elements": {"x": {}, "x": {}}}}}}}]}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "spec": {"features": {"instances": '
    b'{"f": {"elements": [{"attributes": {"a": "1", "a": "2"}}]}}}}}]}',
    b'{"kind": "List", "items": [], "metadata": ' + b'[' * 120 + b']' * 120 + b'}',
    b'{"kind" : "List", "items": [], "metadata": {"t": "1:2"}}',
    b'{"kind": "List", "items": [], "metadata": {"a": 1, "a"\n: 2}}',
    b'{"kind": "List", "items": [], "metadata": {"t": "10:00", "a": 1, "a" : 2}}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "metadata": {"name": "\\ud800"}}]}',
    b'{"kind": "List", "items": [{"kind": "NodeFeature", "metadata": {"name": "\xff"}}]}',
    b'{"kind": "List", "items": []} trailing',
    b'{"kind": "List", "items": [',
])
def test_text_json_reads_differently_goes_to_the_general_reader(text: bytes) -> None:
    assert fast_cluster_features(text) is None


def test_keys_counted_exactly_on_a_clean_text() -> None:
    text = (b'{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, '
            b'"items": [{"kind": "NodeFeature", "apiVersion": "nfd.k8s-sigs.io/v1alpha1", '
            b'"metadata": {"name": "a", "labels": {"nfd.node.kubernetes.io/node-name": "a"}, '
            b'"managedFields": [{"fieldsV1": {"f:spec": {}}}]}, "spec": {"labels": {}, '
            b'"features": {"flags": {"f": {"elements": {"x": {}}}, "g": null}, "instances": '
            b'{"i": {"elements": [{"attributes": {"a": "1"}}, null, {}]}}}}}]}')
    cluster = fast_cluster_features(text)
    assert cluster is not None and list(cluster.nodes) == ["a"]
    assert cluster.nodes["a"].instances == {"i": [{"a": "1"}, {}, {}]}


def test_equal_set_texts_are_read_for_each_name_and_kind() -> None:
    # One set text under two names and in all three kinds ('{"elements": null}' suits
    # each), read through one Reader: each keeps its own projection, and each node its
    # own values (a caller may change one node's without touching the other's).
    flags: dict[str, Any] = {"elements": {"A": {}, "B": {}}}
    features = {"flags": {"f": flags, "g": flags, "n": {"elements": None}},
                "attributes": {"n": {"elements": None}}, "instances": {"n": {"elements": None}}}
    items = [{"kind": "NodeFeature", "metadata": {"name": node, "labels": {
        "nfd.node.kubernetes.io/node-name": node}}, "spec": {"features": features}}
             for node in ("a", "b")]
    cluster = _fast({"kind": "List", "items": items}, {"f": frozenset({"A"}), "g": None,
                                                       "n": None})
    assert cluster is not None
    for node in ("a", "b"):
        assert cluster.nodes[node] == Features(flags={"f": {"A"}, "g": {"A", "B"}, "n": None},
                                               attributes={"n": None}, instances={"n": None})
    flag_set = cluster.nodes["a"].flags["g"]
    assert flag_set is not None
    flag_set.add("C")
    assert cluster.nodes["b"].flags["g"] == {"A", "B"}


@pytest.mark.parametrize(("old", "new", "needle"), [
    ('"vendor_id": ', '"vendor_id": "AMD", "vendor_id": ', "duplicate key 'vendor_id'"),
    # Nested past the fast decoder's own stack bound, inside a set it keeps as text.
    ('"cpu.cpuid": ', '"x": ' + "[" * 50_000 + "]" * 50_000 + ', "cpu.cpuid": ',
     "nesting deeper than 100 levels"),
])
def test_a_big_dump_the_fast_path_refuses_gets_the_general_readers_error(
        tmp_path: Path, old: str, new: str, needle: str) -> None:
    text = json.dumps(synthetic_list(2000, seed=2)).replace(old, new, 1)
    assert fast_cluster_features(text.encode()) is None
    path = tmp_path / "nf.json"
    path.write_text(text)
    proc = nfd("compat", "validate-cluster", "--spec", str(SPEC_CPU), "--nodefeatures",
               str(path))
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


def test_a_big_dump_with_a_bad_item_gets_the_general_readers_error(tmp_path: Path) -> None:
    doc = synthetic_list(2000, seed=2)
    assert len(json.dumps(doc)) > 4 << 20  # over the size where the fast path starts
    doc["items"][1951]["spec"]["features"]["flags"]["cpu.cpuid"]["elements"] = ["AVX"]
    path = tmp_path / "nf.json"
    path.write_text(json.dumps(doc))
    proc = nfd("compat", "validate-cluster", "--spec", str(SPEC_CPU), "--nodefeatures",
               str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "items[1951].spec.features.flags.cpu.cpuid.elements" in proc.stderr


def test_bench_fleet_gets_nfds_verdicts(tmp_path: Path) -> None:
    # The benchmark's workload (benchmarks/fleet): NFD's own engine finds 218 of these
    # 1,000 nodes compatible (seed 7). Read on the fast path, projected, remembered.
    path = tmp_path / "fleet.json"
    subprocess.run([sys.executable, str(FLEET / "gen_cluster.py"), "1000", str(path)],
                   check=True)
    proc = nfd("compat", "validate-cluster", "--spec", str(FLEET / "bench-spec.yaml"),
               "--nodefeatures", str(path), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"] == {"nodes": 1000, "compatibleNodes": 218}
    # The same verdicts and reasons as the general reader and a fresh evaluation per node.
    spec = load_spec(FLEET / "bench-spec.yaml")
    slow = cluster_features_from_document(json.loads(path.read_text()))
    fast = load_cluster_dump(path, only=SpecEvaluator(spec).reads)
    assert validate_cluster(spec, fast) == validate_cluster(spec, slow)
    by_node = {n["name"]: n["compatibilities"] for n in report["nodes"]}
    node = "node-00000"
    alone = SpecEvaluator(spec).validate(slow.nodes[node])
    assert [c["isMatch"] for c in by_node[node]] == [s.is_match for s in alone.statuses]


def _in_a_fresh_process(check: str) -> None:
    """Run ``check`` of this module where no other thread exists (forking needs that)."""
    code = f"from tests.cluster.test_fastjson import {check}; {check}()"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_two_workers_give_the_same_result_and_the_same_refusals() -> None:
    _in_a_fresh_process("check_two_workers_decode")


def test_two_workers_evaluate_alike_and_errors_name_the_first_node() -> None:
    _in_a_fresh_process("check_two_workers_evaluate")


def check_two_workers_decode() -> None:
    from nfd.cluster._fastjson import PARALLEL_ITEMS
    from nfd.cluster._fork import can_fork

    assert can_fork(2)  # this process runs one thread: the forked path is the one tested
    doc = synthetic_list(PARALLEL_ITEMS + 10, seed=9)
    only = SpecEvaluator(load_spec(SPEC_CPU)).reads
    data = json.dumps(doc).encode()
    one = fast_cluster_features(data, only=only)
    two = fast_cluster_features(data, only=only, workers=2)
    assert one is not None and one == two and len(one.nodes) > PARALLEL_ITEMS // 2
    for index in (5, len(doc["items"]) - 5):  # in the parent's half, in the child's
        bad = copy.deepcopy(doc)
        bad["items"][index]["metadata"]["name"] = 7
        assert fast_cluster_features(json.dumps(bad).encode(), workers=2) is None
    text = data.replace(b'"vendor_id": ', b'"vendor_id": "x", "vendor_id": ', 1)
    assert fast_cluster_features(text, workers=2) is None


def check_two_workers_evaluate() -> None:
    from nfd.cluster._evaluate import PARALLEL_NODES
    from nfd.cluster._fork import can_fork

    assert can_fork(2)  # this process runs one thread: the forked path is the one tested
    doc = synthetic_list(PARALLEL_NODES + 300, seed=11)
    spec = load_spec(SPEC_CPU)
    cluster = cluster_features_from_document(doc)
    assert len(cluster.nodes) >= PARALLEL_NODES
    one = validate_cluster(spec, cluster)
    assert validate_cluster(spec, cluster, workers=2) == one
    bad = parse_spec({"version": "v1alpha1", "compatibilities": [{"rules": [{
        "name": "r", "matchFeatures": [{"feature": "kernel.version",
                                        "matchExpressions": {"full": {"op": "Gt",
                                                                      "value": ["1"]}}}]}]}]})
    late = sorted(cluster.nodes)[-3]  # in the child's half: the error comes from this process
    for node in cluster.nodes:
        if node != late:
            cluster.nodes[node].attributes.pop("kernel.version", None)
    with pytest.raises(EvaluationError, match=f"on node '{late}'"):
        validate_cluster(bad, cluster, workers=2)
