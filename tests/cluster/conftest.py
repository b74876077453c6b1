"""Shared fixtures: the real host trees, their features, schemas of what we emit."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from nfd.api import Features

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def host_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two real host trees, unpacked, by host name."""
    from tests.cluster._synthetic import unpack_hosts

    return unpack_hosts(tmp_path_factory.mktemp("hosts"))


@pytest.fixture(scope="session")
def host_features(host_roots: dict[str, Path]) -> dict[str, Features]:
    """Features discovered on the two real host trees, by host name."""
    from nfd.sources import HostPaths, discover

    return {name: discover(HostPaths(root=str(root))).features
            for name, root in host_roots.items()}


@pytest.fixture(scope="session")
def nfr_schema_validator() -> Any:
    """jsonschema validator for the NodeFeatureRule CRD's openAPIV3Schema."""
    jsonschema: Any = importlib.import_module("jsonschema")  # no type stubs installed
    schema = json.loads((DATA / "nodefeaturerule-v1alpha1.schema.json").read_text())
    schema.pop("$comment")
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="session")
def nf_schema_validator() -> Any:
    """jsonschema validator for the NodeFeature CRD (our synthetic inputs must be valid)."""
    jsonschema: Any = importlib.import_module("jsonschema")
    schema = json.loads((DATA / "nodefeature-v1alpha1.schema.json").read_text())
    schema.pop("$comment")
    return jsonschema.Draft7Validator(schema)


# The oldest Kubernetes release we promise and the newest whose published OpenAPI schemas
# kubernetes-validate ships: fields turn optional over releases (1.32's schema requires
# ``onPodConditions[].status``, 1.37's does not), so strictness needs both ends.
K8S_SCHEMA_VERSIONS = ("1.32.0", "1.37.0")


def k8s_validate(obj: dict[str, Any]) -> None:
    """Validate against the real Kubernetes OpenAPI schemas of every release in
    :data:`K8S_SCHEMA_VERSIONS` (strict: unknown fields fail). A ``v1`` List, which only
    kubectl knows, is validated item by item."""
    import kubernetes_validate

    if obj.get("apiVersion") == "v1" and obj.get("kind") == "List":
        for item in obj["items"]:
            k8s_validate(item)
        return
    for version in K8S_SCHEMA_VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)
