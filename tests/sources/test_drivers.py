"""Driver facts under GFD's names, checked against what the real hosts' tools printed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nfd.sources import HostPaths, discover, driver_facts, features_d_text, gfd_facts
from nfd.sources._drivers import (
    CUDA_MINIMUM_DRIVERS,
    compute_capability,
    cuda_version_for_driver,
    gfd_family,
    gfd_sanitise,
)
from tests._cli import nfd

H100 = "gpu-h100-ubuntu2404"
EPYC = "amd-epyc-debian12"
FEATURES_D = "etc/kubernetes/node-feature-discovery/features.d"


def _smi(tree: Path) -> dict[str, str]:
    """The top-level ``Key : value`` lines of the host's ``nvidia-smi -q``, plus the GPU's."""
    found: dict[str, str] = {}
    for line in (tree / "truth" / "nvidia_smi_q.txt").read_text().splitlines():
        match = re.match(r"\s*([A-Za-z][A-Za-z ]*?)\s+: (.*)", line)
        if match:
            found.setdefault(match.group(1), match.group(2).strip())
    return found


def test_h100_facts_equal_nvidia_smi(host_trees: dict[str, Path]) -> None:
    tree = host_trees[H100]
    smi = _smi(tree)
    facts = gfd_facts(HostPaths.from_options(str(tree), None))
    driver = smi["Driver Version"]
    assert facts["nvidia.com/cuda.driver-version.full"] == driver
    major, minor, rev = driver.split(".")
    assert (facts["nvidia.com/cuda.driver-version.major"],
            facts["nvidia.com/cuda.driver-version.minor"],
            facts["nvidia.com/cuda.driver-version.revision"]) == (major, minor, rev)
    assert facts["nvidia.com/cuda.driver.rev"] == rev  # GFD's deprecated twin
    assert facts["nvidia.com/cuda.runtime-version.full"] == smi["CUDA Version"]
    assert facts["nvidia.com/cuda.runtime.major"] == smi["CUDA Version"].split(".")[0]
    assert facts["nvidia.com/gpu.product"] == gfd_sanitise(smi["Product Name"])
    assert facts["nvidia.com/gpu.count"] == smi["Attached GPUs"]
    assert facts["nvidia.com/gpu.family"] == smi["Product Architecture"].lower()
    assert facts["nvidia.com/gpu.mode"] == "compute"  # class 0302, a 3D controller
    assert (facts["nvidia.com/gpu.compute.major"], facts["nvidia.com/gpu.compute.minor"]) == (
        "9", "0")  # Hopper


def test_host_without_gpu_yields_no_gfd_facts(host_trees: dict[str, Path]) -> None:
    host = HostPaths.from_options(str(host_trees[EPYC]), None)
    assert gfd_facts(host) == {}
    found = discover(host, driver_facts=True)
    assert not any(k.startswith("nvidia.com/") for k in found.features.attributes["local.label"])


def test_module_versions_are_the_trees_files(host_trees: dict[str, Path]) -> None:
    tree = host_trees[H100]
    facts = driver_facts(HostPaths.from_options(str(tree), None))
    expected = {f"kmod.nfd-client.io/{p.parent.name}.version": p.read_text().strip()
                for p in (tree / "sys" / "module").glob("*/version")}
    assert {k: v for k, v in facts.items() if k.startswith("kmod.")} == expected
    assert expected["kmod.nfd-client.io/nvidia.version"] == "580.159.04"


@pytest.mark.parametrize(("driver", "cuda"), [
    ("580.159.04", "13.0"), ("580.65.06", "13.0"), ("575.64", "12.9"), ("535.54.03", "12.2"),
    ("535.43.02", "12.1"), ("550.54.14", "12.4"), ("525.60.13", "12.0"), ("410.48", "10.0"),
    ("390.157", None), ("not-a-version", None),
])
def test_cuda_version_from_nvidias_table(driver: str, cuda: str | None) -> None:
    assert cuda_version_for_driver(driver) == cuda


def test_cuda_table_is_ordered() -> None:
    drivers = [d for d, _ in CUDA_MINIMUM_DRIVERS]
    cudas = [tuple(int(p) for p in c.split(".")) for _, c in CUDA_MINIMUM_DRIVERS]
    assert drivers == sorted(drivers) and cudas == sorted(cudas)


@pytest.mark.parametrize(("device", "capability", "family"), [
    ("2330", (9, 0), "hopper"), ("20b0", (8, 0), "ampere"), ("2204", (8, 6), "ampere"),
    ("27b8", (8, 9), "ada-lovelace"), ("1db4", (7, 0), "volta"), ("1eb8", (7, 5), "turing"),
    ("2901", (10, 0), "blackwell"), ("0fff", None, None), ("zz", None, None),
])
def test_compute_capability_by_chip(device: str, capability: tuple[int, int] | None,
                                    family: str | None) -> None:
    assert compute_capability(device) == capability
    if capability:
        assert gfd_family(*capability) == family


def test_a_real_features_d_line_wins(host_trees: dict[str, Path], tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(host_trees[H100], tree, symlinks=True)
    (tree / FEATURES_D).mkdir(parents=True)
    (tree / FEATURES_D / "gfd").write_text("nvidia.com/gpu.product=From-GFD\n")
    found = discover(HostPaths.from_options(str(tree), None), driver_facts=True)
    labels = found.features.attributes["local.label"]
    assert labels["nvidia.com/gpu.product"] == "From-GFD"
    assert labels["nvidia.com/cuda.driver-version.full"] == "580.159.04"
    assert found.features.attributes["local.feature"]["nvidia.com/gpu.count"] == "1"
    assert "derived by nfd-client" in found.metadata["driverFacts"]


def test_without_the_flag_nothing_is_added(host_trees: dict[str, Path]) -> None:
    found = discover(HostPaths.from_options(str(host_trees[H100]), None))
    assert found.features.attributes["local.label"] == {}
    assert "driverFacts" not in found.metadata


def test_features_d_file_round_trips_through_the_local_source(
        host_trees: dict[str, Path], tmp_path: Path) -> None:
    """What ``export features-d`` writes, NFD's local source reads back as the same facts."""
    tree = tmp_path / "tree"
    shutil.copytree(host_trees[H100], tree, symlinks=True)
    proc = nfd("export", "features-d", "--host-root", str(tree))
    assert proc.returncode == 0, proc.stderr
    host = HostPaths.from_options(str(tree), None)
    assert proc.stdout == features_d_text(driver_facts(host))
    (tree / FEATURES_D).mkdir(parents=True)
    (tree / FEATURES_D / "nfd-client-driver-facts").write_text(proc.stdout)
    found = discover(host)
    assert found.features.attributes["local.label"] == driver_facts(host)
    assert found.features.attributes["local.feature"] == driver_facts(host)


def test_export_features_says_where_the_facts_came_from(host_trees: dict[str, Path]) -> None:
    proc = nfd("export", "features", "--host-root", str(host_trees[H100]), "--driver-facts")
    assert proc.returncode == 0, proc.stderr
    assert '"nvidia.com/cuda.runtime-version.full": "13.0"' in proc.stdout
    assert "--driver-facts:" in proc.stderr and "not by NFD" in proc.stderr


def test_driver_facts_do_not_go_with_a_features_file(tmp_path: Path) -> None:
    features = tmp_path / "f.json"
    features.write_text('{"flags": {}, "attributes": {}, "instances": {}}')
    spec = Path(__file__).resolve().parents[2] / "examples" / "image-compatibility.yaml"
    proc = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(features),
               "--driver-facts")
    assert proc.returncode == 2 and "--driver-facts" in proc.stderr
