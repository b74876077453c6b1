"""``nfd export features-d`` read by the real nfd-worker (NFD v0.19.0) on the real control plane.

The H100 host tree's driver facts are written, as the command writes them, into the
directory NFD's ``local`` source reads (``source/local/local.go``: ``featureFilesDir``,
``/etc/kubernetes/node-feature-discovery/features.d/``, not under a host prefix), in a file
named for this run; the worker publishes them as ``local.label`` and ``local.feature``, and
``validate-cluster`` with the spec ``compat generate`` makes from a CUDA image's config says
the node can run it. The file (and the directories, when this test made them and they are
empty) is removed afterwards, and the worker publishes the machine as it was.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._fixtures import fixtures_dir, unpack_host
from tests.kube._control_plane import NFD_NAMESPACE, NODE_NAME, ControlPlane

FEATURES_D = Path("/etc/kubernetes/node-feature-discovery/features.d")
NODEFEATURE = f"/apis/nfd.k8s-sigs.io/v1alpha1/namespaces/{NFD_NAMESPACE}/nodefeatures/{NODE_NAME}"
VLLM_CONFIG = fixtures_dir() / "cuda-images" / "vllm-openai-cu129.json"
H100 = "gpu-h100-ubuntu2404"


@pytest.fixture(scope="module")
def h100_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_host(H100, tmp_path_factory.mktemp(H100))


def _made_directories(path: Path) -> list[Path]:
    """The directories above ``path`` that do not exist yet, outermost first."""
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    return list(reversed(missing))


@pytest.fixture
def facts_file(cluster: ControlPlane, h100_tree: Path) -> Iterator[Path]:
    if not os.access(FEATURES_D if FEATURES_D.exists() else Path("/etc"), os.W_OK):
        pytest.skip(f"cannot write {FEATURES_D}, where nfd-worker's local source reads")
    made = _made_directories(FEATURES_D)
    FEATURES_D.mkdir(parents=True, exist_ok=True)
    path = FEATURES_D / f"nfd-client-test-{uuid.uuid4().hex[:12]}"
    try:
        done = nfd("export", "features-d", "--host-root", str(h100_tree),
                   "--path", str(path))
        assert done.returncode == 0, done.stderr
        yield path
    finally:
        path.unlink(missing_ok=True)  # ours, by its unique name
        for directory in reversed(made):
            if not any(directory.iterdir()):
                directory.rmdir()
        cluster.run_worker()  # the machine's NodeFeature as it was


def test_the_worker_publishes_the_facts_and_validate_cluster_uses_them(
        cluster: ControlPlane, facts_file: Path, tmp_path: Path) -> None:
    assert cluster.admin is not None
    facts = dict(line.split("=", 1) for line in facts_file.read_text().splitlines()
                 if line and not line.startswith("#"))
    assert facts["nvidia.com/cuda.driver-version.full"]
    cluster.run_worker()
    attributes = cluster.request("GET", NODEFEATURE)["spec"]["features"]["attributes"]
    assert attributes["local.label"]["elements"] == facts
    assert attributes["local.feature"]["elements"] == facts

    spec = tmp_path / "vllm.yaml"
    done = nfd("compat", "generate", "--from-config", str(VLLM_CONFIG))
    assert done.returncode == 0, done.stderr
    spec.write_text(done.stdout)
    assert "nvidia.com/cuda" in spec.read_text()
    done = nfd("compat", "validate-cluster", "--spec", str(spec), "--kubeconfig",
               str(cluster.admin.kubeconfig), "-o", "json")
    assert done.returncode == 0, done.stderr
    (node,) = json.loads(done.stdout)["nodes"]
    assert node["name"] == NODE_NAME
    assert any(s["isMatch"] for s in node["compatibilities"])

    # Without the file, the worker publishes no such facts and the node cannot run it.
    facts_file.unlink()
    cluster.run_worker()
    attributes = cluster.request("GET", NODEFEATURE)["spec"]["features"]["attributes"]
    assert not attributes["local.label"].get("elements")
    done = nfd("compat", "validate-cluster", "--spec", str(spec), "--kubeconfig",
               str(cluster.admin.kubeconfig), "-o", "json")
    assert done.returncode == 1, done.stderr
