"""``compat generate --from-image``: a CUDA image's own requirements, read from its registry,
attached, and evaluated — by us on a bare node tree and by NFD v0.19.0 where GFD's file is."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._fixtures import unpack_host
from tests._peers import peer
from tests.oci._images import _run, push_image
from tests.oci._registry import Registry

from nfd.sources import HostPaths, gfd_facts

CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "cuda-images" / "vllm-openai-cu129.json"
H100 = "gpu-h100-ubuntu2404"
FEATURES_D = Path("/etc/kubernetes/node-feature-discovery/features.d")


@pytest.fixture(scope="module")
def cuda_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OCI layout whose one image carries the real vLLM CUDA 12.9 image's environment."""
    workdir = tmp_path_factory.mktemp("cuda-layout")
    layout = workdir / "layout"
    _run("umoci", "init", "--layout", str(layout))
    _run("umoci", "new", "--image", f"{layout}:cuda")
    env = json.loads(CONFIG.read_text())["config"]["Env"]
    args = [arg for entry in env for arg in ("--config.env", entry)]
    _run("umoci", "config", "--image", f"{layout}:cuda", "--os", "linux", "--architecture",
         "amd64", *args)
    return layout


@pytest.fixture(scope="module")
def h100_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_host(H100, tmp_path_factory.mktemp(H100))


def _push(layout: Path, registry: Registry) -> str:
    repo = f"cuda/app-{uuid.uuid4().hex[:8]}"
    push_image(layout, "cuda", registry, f"{repo}:v1")
    return f"{registry.host}/{repo}:v1"


def test_generate_from_the_registry_and_attach(cuda_layout: Path, plain_registry: Registry,
                                               h100_tree: Path, tmp_path: Path) -> None:
    image = _push(cuda_layout, plain_registry)
    spec = tmp_path / "spec.yaml"
    made = nfd("compat", "generate", "--from-image", image, "--plain-http", "--platform",
               "linux/amd64", "--attach", "--path", str(spec))
    assert made.returncode == 0, made.stderr
    assert "attached:" in made.stderr
    text = spec.read_text()
    assert "nvidia.com/cuda.runtime-version.full" in text and "12.9" in text
    fetched = nfd("compat", "get-spec", "--image", image, "--plain-http",
                  "--platform", "linux/amd64")
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == text
    verdict = nfd("compat", "validate-node", "--image", image, "--plain-http", "--platform",
                  "linux/amd64", "--host-root", str(h100_tree), "--driver-facts")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_nfd_itself_evaluates_the_spec_from_gfds_file(cuda_layout: Path, plain_registry: Registry,
                                                      h100_tree: Path) -> None:
    """Where GFD's file is in features.d, NFD v0.19.0's own client and ours agree byte for byte
    on the generated spec (the H100's facts, written as GFD writes them, on this host)."""
    nfd_go = peer("nfd")
    if os.geteuid() != 0:
        pytest.skip("needs root to write NFD's features.d directory, as GFD's DaemonSet does")
    image = _push(cuda_layout, plain_registry)
    made = nfd("compat", "generate", "--from-image", image, "--plain-http", "--attach")
    assert made.returncode == 0, made.stderr
    facts = gfd_facts(HostPaths.from_options(str(h100_tree), None))
    created = [p for p in (FEATURES_D, *FEATURES_D.parents) if not p.exists()]
    gfd_file = FEATURES_D / f"gfd-nfd-client-test-{uuid.uuid4().hex}"
    FEATURES_D.mkdir(parents=True, exist_ok=True)
    try:
        gfd_file.write_text("".join(f"{k}={v}\n" for k, v in facts.items()))
        theirs = subprocess.run([str(nfd_go), "compat", "validate-node", "--image", image,
                                 "--plain-http", "--output-json"], capture_output=True,
                                text=True, timeout=120, check=False)
        ours = nfd("compat", "validate-node", "--image", image, "--plain-http", "--output-json")
    finally:
        gfd_file.unlink()
        for directory in sorted(created, key=lambda p: len(p.parts), reverse=True):
            directory.rmdir()
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
    statuses = json.loads(ours.stdout)
    assert all(rule["isMatch"] for rule in statuses[0]["rules"])  # CUDA 13.0 >= 12.9
