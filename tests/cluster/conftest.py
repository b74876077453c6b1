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


def k8s_validate(obj: dict[str, Any]) -> None:
    """Validate against the real Kubernetes OpenAPI schema (strict: unknown fields fail)."""
    import kubernetes_validate

    kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
