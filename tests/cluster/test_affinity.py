"""``nfd compat affinity``: node affinity, merging into manifests, and what is emitted."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cluster.conftest import k8s_validate

from nfd.api import load_spec
from nfd.cli import main
from nfd.cluster import LabelScheme, build_affinity, build_rule_plan, merge_node_affinity
from nfd.errors import SpecError

DATA = Path(__file__).parent / "data"
SPEC = DATA / "spec-cpu-kernel.yaml"
POD_SPEC = {"containers": [{"name": "app", "image": "registry.example.com/app:1"}]}
ZONES = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}],
     "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n9"]}]},
]}, "preferredDuringSchedulingIgnoredDuringExecution": [
    {"weight": 7, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}]}


def workloads(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    meta = {"name": "app", "labels": {"app": "app"}}
    template = {"metadata": {"labels": {"app": "app"}}, "spec": pod_spec}
    selector = {"matchLabels": {"app": "app"}}
    job_template = {"spec": {"template": {**template, "spec": {**pod_spec,
                                                              "restartPolicy": "Never"}}}}
    return [
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
         "spec": {"selector": selector, "template": template}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
         "spec": {"selector": selector, "serviceName": "app", "template": template}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta,
         "spec": {"selector": selector, "template": template}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
         "spec": job_template["spec"]},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
         "spec": {"schedule": "*/5 * * * *", "jobTemplate": job_template}},
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["compat", "affinity", *args])
    out, err = capsys.readouterr()
    return code, out, err


def pod_spec_of(doc: dict[str, Any]) -> dict[str, Any]:
    from nfd.cluster import POD_SPEC_PATHS

    node = doc
    for key in POD_SPEC_PATHS[doc["kind"]]:
        node = node[key]
    return node


def test_every_kind_is_patched_and_stays_valid(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    docs = workloads({**POD_SPEC, "affinity": {"nodeAffinity": ZONES}})
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    before = manifest.read_bytes()
    code, out, _ = run(capsys, "--spec", str(SPEC), "--name", "app", "--patch", str(manifest))
    assert code == 0 and manifest.read_bytes() == before  # the input is never written
    rule, *patched = list(yaml.safe_load_all(out))
    assert rule["kind"] == "NodeFeatureRule"
    assert [d["kind"] for d in patched] == [d["kind"] for d in docs]
    for doc in patched:
        k8s_validate(doc)
        node_affinity = pod_spec_of(doc)["affinity"]["nodeAffinity"]
        terms = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"]
        assert len(terms) == 4  # 2 existing × 2 sets
        assert node_affinity["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 7
        assert [p["weight"] for p in node_affinity[
            "preferredDuringSchedulingIgnoredDuringExecution"]] == [7, 80, 10]


def _term_matches(term: dict[str, Any], labels: dict[str, str], name: str) -> bool:
    if not (term.get("matchExpressions") or term.get("matchFields")):
        return False  # an empty term matches no node
    for req in term.get("matchExpressions", []):
        value = labels.get(req["key"])
        op = req["operator"]
        if (op == "In" and value not in req["values"]) or (op == "Exists" and value is None):
            return False
        if op == "NotIn" and value in req["values"]:
            return False
    for req in term.get("matchFields", []):
        if req["operator"] == "NotIn" and name in req["values"]:
            return False
    return True


def _required_matches(affinity: dict[str, Any], labels: dict[str, str], name: str) -> bool:
    terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return any(_term_matches(t, labels, name) for t in terms)


def test_merged_requirement_is_the_and_of_both() -> None:
    plan = build_rule_plan(load_spec(SPEC), LabelScheme("compat.feature.node.kubernetes.io",
                                                        "app"))
    ours = build_affinity(plan.sets).node_affinity
    merged = merge_node_affinity(ZONES, ours, "spec.affinity.nodeAffinity")
    keys = ["zone", "ssd", *[s.label for s in plan.sets]]
    values = {"zone": ["a", "b", "c", None], "ssd": ["x", None]}
    for combo in itertools.product(*[values.get(k, ["true", None]) for k in keys]):
        labels = {k: v for k, v in zip(keys, combo, strict=True) if v is not None}
        for name in ("n1", "n9"):
            expected = (_required_matches(ZONES, labels, name)
                        and _required_matches(ours, labels, name))
            assert _required_matches(merged, labels, name) == expected, (labels, name)


def test_patching_twice_changes_nothing() -> None:
    plan = build_rule_plan(load_spec(SPEC), LabelScheme("p.example.com", "app"))
    ours = build_affinity(plan.sets).node_affinity
    once = merge_node_affinity(ZONES, ours, "")
    assert merge_node_affinity(once, ours, "") == once


def test_existing_affinity_that_matches_nothing_is_refused() -> None:
    empty: dict[str, Any] = {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}
    with pytest.raises(SpecError, match="matches no node"):
        merge_node_affinity(empty, {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Exists"}]}]}},
            "spec.affinity.nodeAffinity")


@pytest.mark.parametrize(("weight", "expected", "warning"), [
    (0, None, None), (1, 1, None), (100, 100, None), (250, 100, "clamped to 100"),
    (-3, None, "no preferred term"),
])
def test_weights_outside_kubernetes_range(tmp_path: Path, weight: int, expected: int | None,
                                          warning: str | None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "w.yaml"
    spec.write_text(f"version: v1alpha1\ncompatibilities:\n- weight: {weight}\n  rules: []\n")
    code, out, err = run(capsys, "--spec", str(spec), "--emit", "affinity", "-o", "json")
    doc = json.loads(out)
    preferred = doc["affinity"]["nodeAffinity"].get(
        "preferredDuringSchedulingIgnoredDuringExecution")
    assert code == 0
    assert (preferred[0]["weight"] if preferred else None) == expected
    if warning:
        assert warning in err and "w.yaml: compatibilities[0].weight" in err
    else:
        assert err == ""
    k8s_validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                  "spec": {**POD_SPEC, "affinity": doc["affinity"]}})


def test_default_output_is_rule_and_fragment(nfr_schema_validator: Any,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--spec", str(SPEC), "--name", "My App!")
    [rule] = list(yaml.safe_load_all(out))  # objects only: kubectl apply -f - takes it
    comment = out[out.index("# Pod spec fragment"):].splitlines()[1:]
    assert all(line.startswith("#   ") for line in comment)
    fragment = yaml.safe_load("\n".join(line[4:] for line in comment))
    code, alone, _ = run(capsys, "--spec", str(SPEC), "--name", "My App!", "--emit", "affinity")
    assert yaml.safe_load(alone) == fragment
    assert not list(nfr_schema_validator.iter_errors(rule))
    labels = [next(iter(r["labels"])) for r in rule["spec"]["rules"]]
    assert labels == ["compat.feature.node.kubernetes.io/My-App.avx512",
                      "compat.feature.node.kubernetes.io/My-App.generic"]
    terms = fragment["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [t["matchExpressions"][0]["key"] for t in terms] == labels
    assert code == 0


def test_image_names_are_deterministic_and_distinct() -> None:
    from nfd.cluster import image_label_base

    a = image_label_base("registry.example.com/team/app:1.0")
    assert a == image_label_base("registry.example.com/team/app:1.0")
    assert a.startswith("app-1.0-") and a != image_label_base("other.example.com/x/app:1.0")


@pytest.mark.parametrize(("args", "code", "needle"), [
    (["--label-prefix", "node.kubernetes.io"], 2, "NFD's master refuses"),
    (["--label-prefix", "Bad_Prefix"], 2, "not a DNS subdomain"),
    (["--emit", "rule", "--patch", "x.yaml"], 2, "cannot go with --emit rule"),
])
def test_bad_options(args: list[str], code: int, needle: str,
                     capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--spec", str(SPEC), *args)
    assert rc == code and needle in err and len(err.strip().splitlines()) == 1


def test_patch_errors_name_file_and_path(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("kind: Service\n---\nkind: Deployment\nspec:\n  template:\n    spec:\n"
                        "      affinity: [oops]\n")
    code, _, err = run(capsys, "--spec", str(SPEC), "--patch", str(manifest))
    assert code == 2
    assert "m.yaml: documents[1].spec.template.spec.affinity" in err.splitlines()[-1]
    manifest.write_text("kind: Service\n")
    code, _, err = run(capsys, "--spec", str(SPEC), "--patch", str(manifest))
    assert code == 2 and "no Pod, Deployment" in err
    manifest.write_text("kind: Pod\nspec: {}\nspec: {}\n")
    code, _, err = run(capsys, "--spec", str(SPEC), "--patch", str(manifest))
    assert code == 2 and "duplicate key 'spec'" in err


def test_list_of_workloads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(2)
    docs = workloads(POD_SPEC)
    rng.shuffle(docs)
    manifest = tmp_path / "list.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    code, out, _ = run(capsys, "--spec", str(SPEC), "--patch", str(manifest), "-o", "json")
    result = json.loads(out)
    assert code == 0 and result["kind"] == "List"
    rule, patched = result["items"]
    assert rule["kind"] == "NodeFeatureRule"
    for doc in patched["items"]:
        k8s_validate(doc)
        assert "nodeAffinity" in pod_spec_of(doc)["affinity"]


@pytest.mark.parametrize("manifest", [
    {"apiVersion": "apps/v1", "kind": {}, "spec": {}},
    {"apiVersion": "apps/v1", "kind": ["Deployment"], "spec": {}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": 7}]}}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": {}, "operator": "In"}]}]}}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                "not-a-term"]}}}}},
])
def test_malformed_manifests_are_one_line_errors(manifest: dict[str, object], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    spec = Path(__file__).resolve().parents[2] / "examples" / "image-compatibility.yaml"
    code = main(["compat", "affinity", "--spec", str(spec), "--patch", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "internal error" not in err and err.strip().splitlines()[-1].startswith(
        "nfd compat affinity: error: ")
