"""``audit`` and ``what-if`` on the real hosts' features: drift, templates, profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests._cli import assert_one_line_error, nfd
from tests.cluster._synthetic import node_feature

from nfd.api import Features, load_spec
from nfd.cluster import ClusterFeatures
from nfd.cluster._audit import (
    Evaluations,
    SpecLookup,
    audit,
    fetch_specs,
    pods_from_document,
    reads_of,
)

DATA = Path(__file__).parent / "data"
GPU_APP = "registry.example.com/ml/cuda-app:v1"
CPU_APP = "registry.example.com/hpc/solver:v2"
PLAIN = "docker.io/library/nginx:1.27"
DIGEST = "sha256:" + "ab" * 32
GPU_ONLY = """version: v1alpha1
compatibilities:
- description: CUDA build
  rules:
  - name: nvidia-gpu
    matchFeatures:
    - feature: pci.device
      matchExpressions:
        vendor: {op: In, value: ["10de"]}
  - name: driver
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        nvidia: {op: Exists}
"""


def _pod(name: str, node: str | None, images: list[str], phase: str = "Running",
         pinned: dict[str, str] | None = None) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    statuses = [{"name": f"c{i}", "image": image, "imageID": (pinned or {}).get(image, "")}
                for i, image in enumerate(images)]
    spec: dict[str, Any] = {"containers": containers}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "team"}, "spec": spec,
            "status": {"phase": phase, "containerStatuses": statuses}}


@pytest.fixture
def cluster_files(tmp_path: Path, host_features: dict[str, Features]) -> dict[str, Path]:
    gpu, epyc = host_features["gpu-h100-ubuntu2404"], host_features["amd-epyc-debian12"]
    nodes = {"kind": "List", "items": [node_feature("gpu-1", gpu), node_feature("epyc-1", epyc),
                                       node_feature("epyc-2", epyc)]}
    pods = {"kind": "List", "items": [
        _pod("train-0", "gpu-1", [GPU_APP, PLAIN]),
        _pod("train-1", "epyc-1", [GPU_APP]),       # drift: no GPU there
        _pod("train-2", "epyc-2", [GPU_APP]),       # drift, same reason: grouped
        _pod("solve-0", "epyc-1", [CPU_APP]),
        _pod("done-0", "epyc-1", [GPU_APP], phase="Succeeded"),  # no longer runs
        _pod("lost-0", "gone-7", [GPU_APP]),
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "team"},
         "spec": {"template": {"spec": {"containers": [{"name": "w", "image": CPU_APP}]}}}},
    ]}
    gpu_only = tmp_path / "spec-gpu-only.yaml"
    gpu_only.write_text(GPU_ONLY)
    specs = {GPU_APP: str(gpu_only), CPU_APP: str(DATA / "spec-cpu-kernel.yaml")}
    files = {"nodes": tmp_path / "nodefeatures.json", "pods": tmp_path / "pods.json",
             "specs": tmp_path / "specs.yaml"}
    files["nodes"].write_text(json.dumps(nodes))
    files["pods"].write_text(json.dumps(pods))
    files["specs"].write_text(json.dumps(specs))
    return files


def test_audit_reports_exactly_the_drifted_pods_grouped_by_reason(
        cluster_files: dict[str, Path]) -> None:
    proc = nfd("compat", "audit", "--pods", str(cluster_files["pods"]), "--nodefeatures",
               str(cluster_files["nodes"]), "--specs", str(cluster_files["specs"]), "-o", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["drift"]) == 1
    group = report["drift"][0]
    assert group["image"] == GPU_APP
    assert sorted((p["name"], p["node"]) for p in group["pods"]) == [
        ("team/train-1", "epyc-1"), ("team/train-2", "epyc-2")]
    assert any("pci.device" in reason for reason in group["reasons"])
    assert report["imagesWithoutSpec"] == [{"image": PLAIN, "uses": 1}]
    assert report["nodesWithoutFeatures"] == [{"node": "gone-7", "uses": 1}]
    assert report["checked"] == 4  # train-0, train-1, train-2, solve-0 (nginx has no spec)
    assert report["unsatisfiableWorkloads"] == []  # templates only with --workloads


def test_table_and_no_drift_exit_zero(cluster_files: dict[str, Path], tmp_path: Path) -> None:
    pods = json.loads(cluster_files["pods"].read_text())
    pods["items"] = [p for p in pods["items"] if p["metadata"]["name"] in ("train-0", "solve-0")]
    only_ok = tmp_path / "ok.json"
    only_ok.write_text(json.dumps(pods))
    proc = nfd("compat", "audit", "--pods", str(only_ok), "--nodefeatures",
               str(cluster_files["nodes"]), "--specs", str(cluster_files["specs"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 on a node that does not satisfy" in proc.stdout


def test_workload_templates_drift_only_when_no_node_can_run_them(
        cluster_files: dict[str, Path], tmp_path: Path) -> None:
    specs = json.loads(cluster_files["specs"].read_text())
    specs[CPU_APP] = specs[GPU_APP]  # now nothing but gpu-1 runs it...
    (tmp_path / "s.json").write_text(json.dumps(specs))
    proc = nfd("compat", "audit", "--pods", str(cluster_files["pods"]), "--workloads",
               "--nodefeatures", str(cluster_files["nodes"]), "--specs",
               str(tmp_path / "s.json"), "-o", "json")
    report = json.loads(proc.stdout)
    assert report["unsatisfiableWorkloads"] == []  # ...gpu-1 does: the template is fine
    nodes = json.loads(cluster_files["nodes"].read_text())
    nodes["items"] = nodes["items"][1:]  # without the GPU node nobody can
    (tmp_path / "n.json").write_text(json.dumps(nodes))
    proc = nfd("compat", "audit", "--pods", str(cluster_files["pods"]), "--workloads",
               "--nodefeatures", str(tmp_path / "n.json"), "--specs",
               str(tmp_path / "s.json"), "-o", "json")
    report = json.loads(proc.stdout)
    assert [g["pods"][0]["name"] for g in report["unsatisfiableWorkloads"]] == [
        "Deployment/team/web"]
    assert report["unsatisfiableWorkloads"][0]["pods"][0]["node"].startswith("closest: epyc-")


def test_each_image_is_looked_up_once_and_each_node_evaluated_once(
        host_features: dict[str, Features]) -> None:
    calls: list[str] = []
    spec = load_spec(DATA / "spec-gpu.yaml")

    def source(image: str) -> SpecLookup:
        calls.append(image)
        return SpecLookup(spec, artifact=DIGEST)

    doc = {"kind": "List", "items": [_pod(f"p{i}", "gpu-1", [GPU_APP, CPU_APP])
                                     for i in range(50)]}
    pods = pods_from_document(doc)
    lookups = fetch_specs([i for p in pods for i in p.images], source, workers=4)
    assert sorted(calls) == [CPU_APP, GPU_APP]
    evaluations = Evaluations(lookups)
    assert len(evaluations.evaluators) == 1  # both images carry the same spec: compiled once
    cluster = ClusterFeatures(nodes={"gpu-1": host_features["gpu-h100-ubuntu2404"]})
    result = audit(pods, cluster, lookups, evaluations)
    assert result.checked == 100 and not result.has_drift


def test_pinned_digests_from_container_statuses() -> None:
    pinned = f"registry.example.com/ml/cuda-app@{DIGEST}"
    doc = {"kind": "List", "items": [
        _pod("a", "n", [GPU_APP], pinned={GPU_APP: f"docker-pullable://{pinned}"}),
        _pod("b", "n", [GPU_APP], pinned={GPU_APP: pinned}),
        _pod("c", "n", [GPU_APP], pinned={GPU_APP: DIGEST})]}  # an image ID: not a reference
    assert [p.images for p in pods_from_document(doc)] == [(pinned,), (pinned,), (GPU_APP,)]


def test_reads_are_the_union_of_the_specs() -> None:
    gpu = Evaluations({"a": SpecLookup(load_spec(DATA / "spec-gpu.yaml"))})
    cpu = Evaluations({"b": SpecLookup(load_spec(DATA / "spec-cpu-kernel.yaml"))})
    union = reads_of(gpu.evaluators + cpu.evaluators)
    assert {"pci.device", "kernel.loadedmodule", "cpu.cpuid", "kernel.version"} <= set(union)


def test_what_if_names_what_breaks_next_to_today(cluster_files: dict[str, Path],
                                                 host_roots: dict[str, Path]) -> None:
    profile = cluster_files["nodes"].parent / "epyc-next.json"
    exported = nfd("export", "features", "--host-root", str(host_roots["amd-epyc-debian12"]))
    profile.write_text(exported.stdout)
    proc = nfd("compat", "what-if", "--features", str(profile), "--pods",
               str(cluster_files["pods"]), "--current-nodefeatures",
               str(cluster_files["nodes"]), "--specs", str(cluster_files["specs"]), "-o", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    (only,) = report["profiles"]
    by_image = {i["image"]: i for i in only["images"]}
    assert by_image[GPU_APP]["compatible"] is False
    assert by_image[GPU_APP]["today"] == {"podsSatisfied": 1, "pods": 3}
    assert by_image[CPU_APP]["compatible"] is True
    assert report["imagesWithoutSpec"] == [PLAIN]


def test_what_if_from_an_image_list(cluster_files: dict[str, Path], tmp_path: Path) -> None:
    images = tmp_path / "images.txt"
    images.write_text(f"# planned\n{CPU_APP}\n\n")
    proc = nfd("compat", "what-if", "--nodefeatures", str(cluster_files["nodes"]), "--images",
               str(images), "--specs", str(cluster_files["specs"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("0 of 1 image(s) would not run") == 3


def test_bad_pods_dump_is_a_located_error(cluster_files: dict[str, Path],
                                         tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "List", "items": [{"kind": "Pod", "spec": {
        "containers": "nginx"}}]}))
    assert_one_line_error(nfd("compat", "audit", "--pods", str(bad), "--nodefeatures",
                              str(cluster_files["nodes"]), "--specs",
                              str(cluster_files["specs"])), 2, "items[0].spec.containers")


def test_live_nodefeatures_paged_and_projected_agree_with_the_dump(
        cluster_files: dict[str, Path], tmp_path: Path) -> None:
    """The NodeFeatures listed from an API server (pages of 2) give the dump's report."""
    from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig

    items = json.loads(cluster_files["nodes"].read_text())["items"]
    state = ApiState(items=items, max_limit=2)
    server = ApiServer(state)
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server.url,
                                      {"admin": {"token": "good-token"}}, current="admin")
        common = ("--pods", str(cluster_files["pods"]), "--specs", str(cluster_files["specs"]),
                  "-o", "json")
        live = nfd("compat", "audit", *common, "--kubeconfig", str(kubeconfig),
                   "--page-size", "2")
        dump = nfd("compat", "audit", *common, "--nodefeatures", str(cluster_files["nodes"]))
    finally:
        server.close()
    assert (live.returncode, live.stdout) == (dump.returncode, dump.stdout), live.stderr
    assert len(state.requests) == 2  # three objects, two per page


def test_live_options_with_dumps_only_are_a_usage_error(cluster_files: dict[str, Path]) -> None:
    assert_one_line_error(nfd("compat", "audit", "--pods", str(cluster_files["pods"]),
                              "--nodefeatures", str(cluster_files["nodes"]), "--context", "prod",
                              "--specs", str(cluster_files["specs"])), 2, "live cluster")


def test_live_workload_listing_covers_every_template_kind() -> None:
    from nfd.cli._audit_args import _WORKLOAD_RESOURCES
    from nfd.cluster._audit import WORKLOAD_TEMPLATES

    assert sorted(kind for *_, kind in _WORKLOAD_RESOURCES) == sorted(WORKLOAD_TEMPLATES)
