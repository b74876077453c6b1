"""NFD's own NodeFeatureRule CRD of a release, read from the Go module cache.

``go mod download -json sigs.k8s.io/node-feature-discovery@VERSION`` puts the
published module (CRDs in ``deployment/base/nfd-crds/nfd-api-crds.yaml``) in the
module cache and names its directory; nothing is copied into the repository.
Without Go the test is skipped, loudly (a failure under ``CI=true``).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

MODULE = "sigs.k8s.io/node-feature-discovery"
CRD_FILE = "deployment/base/nfd-crds/nfd-api-crds.yaml"
RULE_CRD = "nodefeaturerules.nfd.k8s-sigs.io"


@functools.cache
def _module_dir(version: str) -> Path | str:
    go = shutil.which("go")
    if go is None:
        return "needs Go (go mod download) to read NFD's published CRDs"
    done = subprocess.run([go, "mod", "download", "-json", f"{MODULE}@{version}"],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).parent)
    info = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "Dir" not in info:
        return f"go mod download {MODULE}@{version} failed: {info.get('Error') or done.stderr}"
    return Path(info["Dir"])


def nodefeaturerule_crd(version: str) -> dict[str, Any]:
    """The NodeFeatureRule CustomResourceDefinition NFD ``version`` ships."""
    found = _module_dir(version)
    if isinstance(found, str):
        pytest.skip(found)
    for doc in yaml.safe_load_all((found / CRD_FILE).read_text()):
        if isinstance(doc, dict) and doc.get("metadata", {}).get("name") == RULE_CRD:
            return doc
    raise AssertionError(f"{MODULE}@{version}: no {RULE_CRD} in {CRD_FILE}")


def rule_schema(crd: dict[str, Any]) -> dict[str, Any]:
    """The served v1alpha1 openAPIV3Schema, with unknown fields refused as the API server's
    strict field validation does (``additionalProperties: false`` where properties are
    listed and nothing else is allowed)."""
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = json.loads(json.dumps(version["schema"]["openAPIV3Schema"]))

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema["properties"]["spec"])
    return schema
