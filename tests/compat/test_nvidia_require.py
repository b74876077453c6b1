"""``NVIDIA_REQUIRE_*`` to a spec: the toolkit's semantics, checked against NFD's engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._cli import assert_one_line_error, nfd

from nfd.api import Features, loads_spec
from nfd.compat import validate_features
from nfd.compat._nvidia_require import (
    BRAND_IGNORE,
    BRAND_OMIT,
    requirements_from_env,
    spec_from_env,
)
from nfd.errors import SpecError

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "cuda-images"
H100 = "gpu-h100-ubuntu2404"
OPS = ("!=", "<=", ">=", "=", "<", ">")


def _semver(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")] + [0, 0]
    return parts[0], parts[1], parts[2]


def _toolkit_holds(requirement: str, node: dict[str, str], brand: str) -> bool:
    """The container toolkit's check (constraints/factory.go), written out independently."""
    terms = []
    for term in requirement.split(" "):
        factors = [f for f in term.split(",") if f.strip()]
        if factors:
            terms.append(factors)
    if not terms:
        return True

    def factor_holds(factor: str) -> bool:
        prop = factor[:next(i for i, c in enumerate(factor) if c in "<>=!")]
        rest = factor[len(prop):]
        op = next(o for o in OPS if rest.startswith(o))
        value = rest[len(op):]
        if prop == "brand":
            return brand == BRAND_IGNORE  # omit: the term is left out of the spec
        left, right = _semver(node[prop]), _semver(value)
        return {"=": left == right, "!=": left != right, "<": left < right,
                "<=": left <= right, ">": left > right, ">=": left >= right}[op]

    return any(all(factor_holds(f) for f in factors) for factors in terms)


def _node(cuda: str, driver: str, arch: str) -> Features:
    major, minor = arch.split(".")
    labels = {"nvidia.com/cuda.runtime-version.full": cuda,
              "nvidia.com/cuda.driver-version.full": driver,
              "nvidia.com/gpu.compute.major": major, "nvidia.com/gpu.compute.minor": minor}
    return Features(attributes={"local.label": labels, "local.feature": dict(labels)})


def _verdict(env: dict[str, str], node: Features, brand: str) -> bool:
    spec_obj = spec_from_env(env, description="t", brand=brand).spec
    spec = loads_spec(json.dumps(spec_obj).encode(), source="generated")
    return validate_features(spec, node).compatible


_versions = st.tuples(st.integers(0, 3), st.integers(0, 3)).map(lambda t: f"{10 + t[0]}.{t[1]}")
_factor = st.one_of(
    st.tuples(st.just("cuda"), st.sampled_from(OPS), _versions),
    st.tuples(st.just("driver"), st.sampled_from(OPS),
              st.sampled_from(["535", "535.54", "550", "580.65.06", "580"])),
    st.tuples(st.just("arch"), st.sampled_from(OPS),
              st.sampled_from(["7.5", "8.0", "8.6", "9.0", "9", "10.0"])),
    st.tuples(st.just("brand"), st.just("="), st.sampled_from(["tesla", "nvidia"])),
).map(lambda t: f"{t[0]}{t[1]}{t[2]}")
_term = st.lists(_factor, min_size=1, max_size=3).map(",".join)
_requirement = st.lists(_term, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(requirement=_requirement, cuda=_versions,
       driver=st.sampled_from(["535.54.03", "550.54.14", "580.159.04", "580.65.06", "535.0.0"]),
       arch=st.sampled_from(["7.5", "8.0", "8.6", "8.9", "9.0", "10.0"]),
       brand=st.sampled_from([BRAND_OMIT, BRAND_IGNORE]))
def test_engine_verdict_equals_the_toolkits(requirement: str, cuda: str, driver: str, arch: str,
                                            brand: str) -> None:
    env = {"NVIDIA_REQUIRE_X": requirement}
    expected = _toolkit_holds(requirement, {"cuda": cuda, "driver": driver, "arch": arch}, brand)
    try:
        got = _verdict(env, _node(cuda, driver, arch), brand)
    except SpecError:
        # Refused only when every term was left out (brand under "omit") or none constrains.
        assert brand == BRAND_OMIT or expected
        assert not expected or all("brand" in t or brand == BRAND_IGNORE
                                   for t in requirement.split(" "))
        return
    assert got == expected, spec_from_env(env, description="t", brand=brand).spec


def test_requirement_variables_as_the_toolkit_collects_them() -> None:
    env = {"NVIDIA_REQUIRE_CUDA": "cuda>=12.6", "NVIDIA_REQUIRE_ARCH": "arch>=8.0",
           "NVIDIA_REQUIRE_JETPACK_HOST_MOUNTS": "x", "CUDA_VERSION": "12.6.3", "PATH": "/bin"}
    assert requirements_from_env(env) == [("NVIDIA_REQUIRE_ARCH", "arch>=8.0"),
                                          ("NVIDIA_REQUIRE_CUDA", "cuda>=12.6")]
    # Legacy images: CUDA_VERSION alone means cuda>=MAJOR.MINOR.
    assert requirements_from_env({"CUDA_VERSION": "10.0.130"}) == [("CUDA_VERSION", "cuda>=10.0")]
    for true in ("1", "true", "TRUE", "t"):
        assert requirements_from_env({**env, "NVIDIA_DISABLE_REQUIRE": true}) == []
    assert requirements_from_env({**env, "NVIDIA_DISABLE_REQUIRE": "no"}) != []


def test_unknown_properties_are_skipped_and_said() -> None:
    translation = spec_from_env({"NVIDIA_REQUIRE_CUDA": "cuda>=12.0,jetson>=5"},
                                description="t")
    assert any("jetson>=5" in item for item in translation.not_expressed)
    rule = translation.spec["compatibilities"][0]["rules"][0]
    assert len(rule["matchAny"]) == 1


def test_a_bad_constraint_is_the_toolkits_error_too() -> None:
    with pytest.raises(SpecError, match="no operator"):
        spec_from_env({"NVIDIA_REQUIRE_CUDA": "cuda12"}, description="t")
    with pytest.raises(SpecError, match="not a version"):
        spec_from_env({"NVIDIA_REQUIRE_CUDA": "cuda>=twelve"}, description="t")


def _tree_with_driver(trees: dict[str, Path], tmp_path: Path, driver: str) -> Path:
    tree = tmp_path / f"h100-{driver}"
    shutil.copytree(trees[H100], tree, symlinks=True)
    version = tree / "proc" / "driver" / "nvidia" / "version"
    version.write_text(version.read_text().replace("580.159.04", driver))
    for module in ("nvidia", "nvidia_uvm"):
        (tree / "sys" / "module" / module / "version").write_text(driver + "\n")
    return tree


@pytest.fixture(scope="module")
def host_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:

    from tests._fixtures import unpack_host

    return {H100: unpack_host(H100, tmp_path_factory.mktemp(H100))}


@pytest.mark.parametrize("config", ["cuda-12.1.1-ubuntu22.04.json", "vllm-openai-cu129.json"])
def test_real_cuda_image_specs_on_the_h100_and_an_older_driver(
        config: str, host_trees: dict[str, Path], tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    made = nfd("compat", "generate", "--from-config", str(CONFIGS / config), "--path", str(spec))
    assert made.returncode == 0, made.stderr
    assert "left out (GFD publishes no brand)" in made.stderr  # said, never silent
    assert nfd("compat", "validate-spec", str(spec)).returncode == 0
    ok = nfd("compat", "validate-node", "--spec", str(spec), "--host-root",
             str(host_trees[H100]), "--driver-facts")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    old = _tree_with_driver(host_trees, tmp_path, "525.60.13")  # CUDA 12.0
    refused = nfd("compat", "validate-node", "--spec", str(spec), "--host-root", str(old),
                  "--driver-facts", "-o", "json")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert '"13.0"' not in refused.stdout and "12.0" in refused.stdout


def test_brand_policy_decides_forward_compatible_branches(
        host_trees: dict[str, Path], tmp_path: Path) -> None:
    """A 550 driver (CUDA 12.4) runs the CUDA 12.9 image only through its 550-branch terms."""
    tree = _tree_with_driver(host_trees, tmp_path, "550.54.14")
    verdicts = {}
    for brand in (BRAND_OMIT, BRAND_IGNORE):
        spec = tmp_path / f"{brand}.yaml"
        made = nfd("compat", "generate", "--from-config", str(CONFIGS / "vllm-openai-cu129.json"),
                   "--brand", brand, "--path", str(spec))
        assert made.returncode == 0, made.stderr
        verdicts[brand] = nfd("compat", "validate-node", "--spec", str(spec), "--host-root",
                              str(tree), "--driver-facts").returncode
    assert verdicts == {BRAND_OMIT: 1, BRAND_IGNORE: 0}


def test_disabled_requirements_are_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"config": {"Env": ["NVIDIA_REQUIRE_CUDA=cuda>=12.0",
                                                     "NVIDIA_DISABLE_REQUIRE=true"]}}))
    assert_one_line_error(nfd("compat", "generate", "--from-config", str(config)), 2,
                          "NVIDIA_DISABLE_REQUIRE")
    config.write_text("[1, 2")
    assert_one_line_error(nfd("compat", "generate", "--from-config", str(config)), 2,
                          str(config))


@pytest.mark.parametrize("prop", ["cuda", "driver", "arch"])
def test_every_operator_on_every_boundary(prop: str) -> None:
    """Each single factor, exhaustively around its boundaries, agrees with the toolkit."""
    values = {"cuda": ["12.4", "12.6", "13.0", "13"],
              "driver": ["535", "535.54.03", "550.54.14", "580"],
              "arch": ["8.0", "8.6", "9.0", "9"]}[prop]
    nodes = {"cuda": ["12.4", "12.6", "12.8", "13.0"],
             "driver": ["535.0.0", "535.54.03", "550.54.14", "580.159.04"],
             "arch": ["7.5", "8.0", "8.6", "8.9", "9.0", "10.0"]}[prop]
    base = {"cuda": "12.6", "driver": "550.54.14", "arch": "8.6"}
    for op in OPS:
        for value in values:
            requirement = f"{prop}{op}{value}"
            for node_value in nodes:
                node = {**base, prop: node_value}
                expected = _toolkit_holds(requirement, node, BRAND_OMIT)
                got = _verdict({"NVIDIA_REQUIRE_X": requirement},
                               _node(node["cuda"], node["driver"], node["arch"]), BRAND_OMIT)
                assert got == expected, (requirement, node_value)


def test_lint_knows_gfds_names_and_their_value_formats(tmp_path: Path) -> None:
    spec = tmp_path / "gpu.yaml"
    spec.write_text("""version: v1alpha1
compatibilities:
- rules:
  - name: gpu
    matchFeatures:
    - feature: local.label
      matchExpressions:
        nvidia.com/cuda.driver-version.full: {op: Ge, value: ["535"]}
        nvidia.com/gpu.compute.majr: {op: Gt, value: ["7"]}
        nvidia.com/cuda.runtime-version.full: {op: Ge, value: ["12.6"], type: version}
        example.com/free-form: {op: In, value: ["x"]}
""")
    proc = nfd("compat", "validate-spec", str(spec))
    lines = proc.stderr.splitlines()
    assert any("driver-version.full" in line and "needs type: version" in line for line in lines)
    assert any('did you mean "nvidia.com/gpu.compute.major"' in line for line in lines)
    assert not any("runtime-version" in line or "free-form" in line for line in lines)
