"""validate-cluster of a big JSON dump decoded and evaluated in two processes from the start:
the serial path's result, or (for anything it would do differently) the serial path itself.

Forking needs a process without other threads, so the checks run in a fresh one.
"""

from __future__ import annotations

import copy
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._synthetic import node_feature, synthetic_list

from nfd.api import Features, load_spec, parse_spec
from nfd.cluster import load_cluster_dump, prefetch_dump, validate_cluster, validate_fleet_dump
from nfd.cluster._fastjson import PARALLEL_ITEMS, open_list
from nfd.cluster._fleet import validate_cluster_dump, validate_listing_in_two
from nfd.cluster._fork import can_fork
from nfd.errors import EvaluationError, SpecError
from nfd.match import SpecEvaluator

ROOT = Path(__file__).resolve().parents[2]
SPEC_CPU = Path(__file__).parent / "data" / "spec-cpu-kernel.yaml"
NS = "node-feature-discovery"


def _in_a_fresh_process(check: str, tmp_path: Path) -> None:
    code = f"from tests.cluster.test_fleet import {check}; {check}({str(tmp_path)!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("check", ["check_same_as_serial", "check_refusals_take_the_serial_path",
                                   "check_engine_errors_name_the_first_node"])
def test_two_processes(check: str, tmp_path: Path) -> None:
    _in_a_fresh_process(check, tmp_path)


def _fleet(late_for: str | None = None) -> dict[str, Any]:
    doc = synthetic_list(PARALLEL_ITEMS + 40, seed=13)
    if late_for is not None:
        # A node of the first half with a second object at the very end (the child's
        # half) that takes away the kernel the first set needs: only a merge of both
        # halves sees it.
        weaker = Features(attributes={"kernel.version": {"major": "4"}})
        doc["items"].append(node_feature(late_for, weaker, name="zz-late", namespace="zz"))
    doc["items"].append(node_feature("unlabelled", Features(), labelled=False))
    return doc


def _serial(spec: Any, path: Path) -> Any:
    evaluator = SpecEvaluator(spec)
    return validate_cluster(spec, load_cluster_dump(path, only=evaluator.reads),
                            evaluator=evaluator)


def _two(spec: Any, doc: Any) -> Any:
    data = json.dumps(doc).encode()
    listing = open_list(data)
    assert listing is not None
    return validate_listing_in_two(data, listing, SpecEvaluator(spec), NS)


def check_same_as_serial(tmp: str) -> None:
    assert can_fork(2)  # this process runs one thread: the forked path is the one tested
    spec = load_spec(SPEC_CPU)
    before = _two(spec, _fleet())
    assert before is not None
    node = next(n.node for n in before.nodes if n.sets[0].is_match)
    assert node < "node-00100"  # its first object is in the parent's half
    doc = _fleet(late_for=node)
    path = Path(tmp) / "fleet.json"
    path.write_text(json.dumps(doc))
    serial = _serial(spec, path)
    two = _two(spec, doc)
    assert two is not None and two == serial
    assert two.ignored and len(two.nodes) > PARALLEL_ITEMS // 2
    after = {n.node: n for n in two.nodes}[node]
    assert after.objects[-1] == "zz/zz-late" and not after.sets[0].is_match
    assert validate_cluster_dump(spec, str(path), SpecEvaluator(spec), NS, workers=2) == serial
    # The library call the CLI makes: read ahead, collection paused, both cores.
    assert validate_fleet_dump(spec, str(path), prefetched=prefetch_dump(str(path))) == serial
    assert gc.isenabled()


def check_refusals_take_the_serial_path(tmp: str) -> None:
    spec = load_spec(SPEC_CPU)
    doc = _fleet(late_for="node-00001")
    for index in (5, len(doc["items"]) - 5):  # in the parent's half, in the child's
        bad = copy.deepcopy(doc)
        bad["items"][index]["metadata"]["name"] = 7
        assert _two(spec, bad) is None
    text = json.dumps(doc)
    late = text.rindex('"vendor_id": ')  # a duplicate key in the child's half
    for duplicate in ('"vendor_id": "x", ', '"vendor_id" : "x", '):
        data = (text[:late] + duplicate + text[late:]).encode()
        listing = open_list(data)
        assert listing is not None
        assert validate_listing_in_two(data, listing, SpecEvaluator(spec), NS) is None


def check_engine_errors_name_the_first_node(tmp: str) -> None:
    doc = synthetic_list(PARALLEL_ITEMS + 40, seed=13, extra_every=0)
    bad = parse_spec({"version": "v1alpha1", "compatibilities": [{"rules": [{
        "name": "r", "matchFeatures": [{"feature": "kernel.version",
                                        "matchExpressions": {"full": {"op": "Gt",
                                                                      "value": ["1"]}}}]}]}]})
    late = doc["items"][-3]["metadata"]["name"]  # in the child's half
    for item in doc["items"]:
        if item["metadata"]["name"] != late:
            item["spec"]["features"]["attributes"].pop("kernel.version", None)
    path = Path(tmp) / "fleet.json"
    path.write_text(json.dumps(doc))
    assert _two(bad, doc) is None
    with pytest.raises(EvaluationError, match=f"on node '{late}'"):
        validate_cluster_dump(bad, str(path), SpecEvaluator(bad), NS, workers=2)


def test_a_prefetched_dump_fails_where_its_bytes_are_asked_for(tmp_path: Path) -> None:
    prefetched = prefetch_dump(str(tmp_path / "missing.json"))
    with pytest.raises(SpecError, match="cannot read"):
        prefetched.data()
    spec = load_spec(SPEC_CPU)
    with pytest.raises(SpecError, match="cannot read"):
        validate_fleet_dump(spec, str(tmp_path / "missing.json"), prefetched=prefetched)
    assert gc.isenabled()  # collection resumes after a failure too


@pytest.mark.parametrize("text", ["plain", "a<b", "x&y", "line\u2028sep", "para\u2029", "é\u00a0"])
def test_report_bytes_are_the_go_encoders(text: str, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    from nfd.cli._output import write_big_json as _write_json
    from nfd.cli._output import write_document

    doc = {"compatible": True, "nodes": [{"name": text, "reasons": [text, 1, False]}], "x": {}}
    write_document(doc, "json")
    expected = capsys.readouterr().out
    _write_json(doc)
    assert capsys.readouterr().out == expected


def test_the_command_on_a_dump_loads_no_live_cluster_code(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(synthetic_list(30, seed=3)))
    code = ("import sys, io, contextlib; from nfd.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main(['compat', 'validate-cluster', '--spec', {str(SPEC_CPU)!r}, "
            f"'--nodefeatures', {str(path)!r}, '-o', 'json'])\n"
            "print(code, sorted(m for m in ('nfd.cluster._kube', 'nfd.cluster._kubeconfig', "
            "'subprocess', 'logging') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert proc.stdout.split(None, 1) == ["0", "[]\n"], proc.stderr
