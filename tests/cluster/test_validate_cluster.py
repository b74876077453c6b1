"""``nfd compat validate-cluster`` on NodeFeature dumps: real hosts, synthetic nodes, bad input."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cluster._synthetic import node_feature, synthetic_list

from nfd.api import Features, load_spec
from nfd.cli import main
from nfd.cluster import cluster_features_from_document, cluster_report, validate_cluster
from nfd.compat import validate_features

DATA = Path(__file__).parent / "data"
SPEC_CPU = DATA / "spec-cpu-kernel.yaml"
SPEC_GPU = DATA / "spec-gpu.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["compat", "validate-cluster", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def dump(host_features: dict[str, Features]) -> dict[str, Any]:
    doc = synthetic_list(60, seed=3)
    doc["items"] += [node_feature(host, f) for host, f in host_features.items()]
    return doc


def write(tmp_path: Path, doc: Any, name: str = "nf.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if name.endswith(".json") else yaml.safe_dump(doc))
    return path


def test_real_hosts_agree_with_validate_node(host_roots: dict[str, Path], dump: dict[str, Any],
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--spec", str(SPEC_GPU), "--nodefeatures",
                       str(write(tmp_path, dump)), "-o", "json")
    report = json.loads(out)
    by_node = {n["name"]: n for n in report["nodes"]}
    # The H100 host runs the CUDA set, the EPYC host the CPU set: the cluster view and
    # validate-node on each host tree must say the same.
    assert [s["isMatch"] for s in by_node["gpu-h100-ubuntu2404"]["compatibilities"]] == [
        True, False]
    assert [s["isMatch"] for s in by_node["amd-epyc-debian12"]["compatibilities"]] == [
        False, True]
    for host, root in host_roots.items():
        for tag, index in (("cuda", 0), ("epyc", 1)):
            node_code = main(["compat", "validate-node", "--spec", str(SPEC_GPU), "--host-root",
                              str(root), "--tags", tag, "-o", "json"])
            capsys.readouterr()
            assert (node_code == 0) == by_node[host]["compatibilities"][index]["isMatch"]
    assert code == 0


def test_every_node_matches_the_engine(dump: dict[str, Any]) -> None:
    spec = load_spec(SPEC_CPU)
    cluster = cluster_features_from_document(dump)
    result = validate_cluster(spec, cluster)
    verdicts = {n.node: [s.is_match for s in n.sets] for n in result.nodes}
    assert len(verdicts) == len(cluster.nodes) > 50
    for node, features in cluster.nodes.items():
        expected = [s.is_match for s in validate_features(spec, features).statuses]
        assert verdicts[node] == expected
    # The synthetic population is mixed, so the check above is not vacuous.
    flat = [v for vs in verdicts.values() for v in vs]
    assert True in flat and False in flat


def test_a_report_with_shared_descriptions_is_the_same_document(dump: dict[str, Any]) -> None:
    result = validate_cluster(load_spec(SPEC_CPU), cluster_features_from_document(dump))
    shared = cluster_report(result, {"nodeFeatures": "x"}, shared=True)
    alone = cluster_report(result, {"nodeFeatures": "x"})
    assert json.dumps(shared) == json.dumps(alone)
    entries = [n["compatibilities"] for n in shared["nodes"]]
    assert len({id(e) for e in entries}) < len(entries)  # like nodes did share
    assert len({id(n["compatibilities"]) for n in alone["nodes"]}) == len(entries)


def test_table_groups_reasons_and_counts(dump: dict[str, Any], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures",
                       str(write(tmp_path, dump)))
    lines = out.splitlines()
    assert lines[0].split() == ["NODE", "SET", "#1", "avx512", "SET", "#2", "generic",
                                "COMPATIBLE"]
    notes = [line for line in lines if line.startswith("[")]
    assert notes and len(notes) == len(set(notes))
    assert any("kernel.version.major" in n and "Gt" in n for n in notes)
    rows = [line for line in lines[1:] if line.startswith(("node-", "amd-", "gpu-"))]
    nodes = len(cluster_features_from_document(dump).nodes)
    assert len(rows) == nodes
    compatible = sum(1 for r in rows if r.endswith("yes"))
    assert 0 < compatible < nodes
    assert f"COMPATIBLE: {compatible} of {nodes} nodes" in out
    assert code == 0


def test_json_and_yaml_dumps_give_the_same_report(dump: dict[str, Any], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    reports = []
    for name in ("nf.yaml", "nf.json"):
        _, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures",
                        str(write(tmp_path, dump, name)), "-o", "yaml")
        doc = yaml.safe_load(out)
        doc.pop("nodeFeatures")
        reports.append(doc)
    assert reports[0] == reports[1]


def test_exit_1_when_no_node_is_compatible(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"kind": "List", "items": [node_feature("n1", Features()),
                                     node_feature("n2", Features(flags={"cpu.cpuid": {"SSE"}}))]}
    code, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures", str(write(tmp_path,
                                                                                     doc)))
    assert code == 1
    assert "NOT COMPATIBLE: none of the 2 nodes" in out


def test_merges_objects_in_the_masters_order(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    worker = Features(flags={"cpu.cpuid": {"AVX512F", "AVX512BW", "SSE42", "POPCNT"}},
                      attributes={"kernel.version": {"major": "6"}})
    # A third-party object named before the worker's, in another namespace: the master
    # merges its own namespace first, so the override wins.
    override = Features(attributes={"kernel.version": {"major": "4"}})
    doc = {"kind": "NodeFeatureList", "items": [
        node_feature("n1", override, name="aaa", namespace="vendor"),
        node_feature("n1", worker, name="zzz"),
        node_feature("n2", override, name="aaa", namespace="node-feature-discovery"),
        node_feature("n2", worker, name="zzz", namespace="vendor"),
    ]}
    code, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--tags", "avx512", "--nodefeatures",
                       str(write(tmp_path, doc)), "-o", "json")
    nodes = {n["name"]: n for n in json.loads(out)["nodes"]}
    assert nodes["n1"]["compatible"] is False and "'4'" in nodes["n1"]["compatibilities"][0][
        "reason"]
    assert nodes["n1"]["nodeFeatures"] == ["node-feature-discovery/zzz", "vendor/aaa"]
    assert nodes["n2"]["compatible"] is True
    assert code == 0


def test_objects_without_node_label_are_ignored_and_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = Features(flags={"cpu.cpuid": {"SSE42", "POPCNT"}})
    doc = {"kind": "List", "items": [node_feature("n1", good, labelled=False),
                                     node_feature("n2", Features())]}
    code, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures", str(write(tmp_path,
                                                                                     doc)))
    assert code == 1  # n1's object names no node, so NFD would not use it either
    assert "ignored: node-feature-discovery/n1: no nfd.node.kubernetes.io/node-name" in out


def test_stdin_dump(dump: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    data = json.dumps(dump).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "--spec", str(SPEC_GPU), "--nodefeatures", "-", "-o", "json")
    nodes = len(cluster_features_from_document(dump).nodes)
    assert code == 0 and json.loads(out)["summary"]["nodes"] == nodes


@pytest.mark.parametrize(("text", "needle"), [
    ("kind: List\nitems:\n- kind: NodeFeature\n  metadata: {name: a}\n  spec:\n    features:\n"
     "      flags: {cpu.cpuid: {elements: {AVX: 3}}}\n",
     "nf.yaml: items[0].spec.features.flags.cpu.cpuid.elements.AVX"),
    ("kind: ConfigMap\n", "nf.yaml: kind: expected a NodeFeatureList"),
    ("kind: List\nitems: [\n", "nf.yaml: line "),
    ("kind: List\nitems:\n- kind: Pod\n", "nf.yaml: items[0].kind: expected kind NodeFeature"),
])
def test_bad_dumps_are_one_line_errors(tmp_path: Path, text: str, needle: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nf.yaml"
    path.write_text(text)
    code, _, err = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_engine_error_names_the_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The spec is valid; the node's value is not a number, which NFD's engine rejects.
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: v1alpha1\ncompatibilities:\n- rules:\n  - name: r\n"
                    "    matchFeatures:\n    - feature: kernel.version\n      matchExpressions:\n"
                    "        major: {op: Gt, value: ['5']}\n")
    doc = {"kind": "List", "items": [node_feature(
        "n1", Features(attributes={"kernel.version": {"major": "six"}}))]}
    code, _, err = run(capsys, "--spec", str(spec), "--nodefeatures", str(write(tmp_path, doc)))
    assert code == 2
    assert "on node 'n1'" in err and "compatibilities[0].rules[0]" in err, err


def test_unknown_tag_is_usage_error(dump: dict[str, Any], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--spec", str(SPEC_CPU), "--tags", "nope", "--nodefeatures",
                       str(write(tmp_path, dump)))
    assert code == 2 and "no compatibility set has tag nope" in err
    assert "avx512, generic" in err


def test_empty_cluster_is_not_compatible(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures",
                         str(write(tmp_path, {"kind": "List", "items": []})))
    assert code == 1 and "is NFD deployed?" in err and "no NodeFeature objects" in out


def _pci(*vendors: str) -> dict[str, Any]:
    return {"pci.device": [{"vendor": v, "class": "0200"} for v in vendors]}


GROUPING_SPEC = """version: v1alpha1
compatibilities:
- rules:
  - name: nic
    matchFeatures:
    - feature: pci.device
      matchExpressions:
        vendor: {op: In, value: ["15b3"]}
  - name: kernel
    matchFeatures:
    - feature: kernel.version
      matchExpressions:
        major: {op: Ge, value: ["6"]}
    - feature: kernel.loadedmodule
      matchExpressions:
        vfio_pci: {op: Exists}
"""


def test_every_failing_expression_is_shown_and_like_nodes_share_a_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_kernel = {"attributes": {"kernel.version": {"major": "5"}}}
    nodes = [  # two, four and three NICs of the same two vendors: one reason
        node_feature(name, Features(instances=_pci(*vendors), **old_kernel))  # type: ignore[arg-type]
        for name, vendors in (("a", ("8086", "1af4")), ("b", ("1af4", "8086", "8086", "1af4")),
                              ("c", ("8086", "8086", "1af4")))]
    nodes.append(node_feature("d", Features(instances=_pci("15b3"), **old_kernel)))  # type: ignore[arg-type]
    spec = tmp_path / "spec.yaml"
    spec.write_text(GROUPING_SPEC)
    code, out, _ = run(capsys, "--spec", str(spec), "--nodefeatures",
                       str(write(tmp_path, {"kind": "List", "items": nodes})))
    assert code == 1
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line[:2] in ("a ", "b ", "c ", "d ")}
    assert rows["a"] == rows["b"] == rows["c"] == ["FAIL", "[1]", "no"]
    assert rows["d"] == ["FAIL", "[2]", "no"]
    notes = out.split("\n\n")[1].splitlines()
    assert notes == [
        "[1] rule 'nic': pci.device.vendor {op: \"In\", value: [\"15b3\"]} failed: its "
        "pci.device instances have vendor 1af4, 8086",
        "    rule 'kernel': kernel.loadedmodule.vfio_pci {op: \"Exists\"} failed: the node has "
        "no kernel.loadedmodule feature",
        "    rule 'kernel': kernel.version.major {op: \"Ge\", value: [\"6\"]} failed: the node "
        "has '5'",
        "[2] rule 'kernel': kernel.loadedmodule.vfio_pci {op: \"Exists\"} failed: the node has "
        "no kernel.loadedmodule feature",
        "    rule 'kernel': kernel.version.major {op: \"Ge\", value: [\"6\"]} failed: the node "
        "has '5'",
    ]
    code, out, _ = run(capsys, "--spec", str(spec), "--nodefeatures",
                       str(write(tmp_path, {"kind": "List", "items": nodes})), "-o", "json")
    verdict = {n["name"]: n["compatibilities"][0] for n in json.loads(out)["nodes"]}
    assert len(verdict["a"]["reasons"]) == 3 and verdict["a"]["reason"] == "; ".join(
        verdict["a"]["reasons"])


def test_no_report_says_node_has_absent(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(GROUPING_SPEC)
    features = Features(flags={"kernel.loadedmodule": {"nvme": None}},  # type: ignore[dict-item]
                        attributes={"kernel.version": {"major": "6"}},
                        instances={"pci.device": [{"class": "0200"}]})
    nodes = {"kind": "List", "items": [node_feature("n", features)]}
    code, out, _ = run(capsys, "--spec", str(spec), "--nodefeatures", str(write(tmp_path, nodes)))
    assert code == 1
    assert "the node has no vfio_pci" in out and "no pci.device instance has vendor" in out
    assert "absent" not in out
    path = tmp_path / "f.json"
    from nfd.api import features_to_obj
    path.write_text(json.dumps(features_to_obj(features)))
    node = main(["compat", "validate-node", "--spec", str(spec), "--features", str(path)])
    table = capsys.readouterr().out
    assert node == 1 and "absent" not in table and "ON THE NODE" in table
    assert "missing in all 1 instances" in table


def test_the_spec_is_read_first_and_the_dump_as_if_read_after(
        dump: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The dump is read on another thread while the spec loads: its errors still come
    # after the spec's, worded as ever.
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("version: v9\n")
    missing = tmp_path / "missing.json"
    code, _, err = run(capsys, "--spec", str(bad_spec), "--nodefeatures", str(missing))
    assert code == 2 and "bad.yaml" in err and "missing.json" not in err, err
    code, _, err = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures", str(missing))
    assert code == 2 and "missing.json: cannot read" in err, err
    # A pipe (as `<(kubectl get nodefeatures -A -o json)` gives) is read to its end.
    fifo = tmp_path / "dump.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(json.dumps(dump),))
    writer.start()
    code, out, _ = run(capsys, "--spec", str(SPEC_CPU), "--nodefeatures", str(fifo), "-o",
                       "json")
    writer.join(timeout=30)
    nodes = len(cluster_features_from_document(dump).nodes)
    assert code in (0, 1) and json.loads(out)["summary"]["nodes"] == nodes
