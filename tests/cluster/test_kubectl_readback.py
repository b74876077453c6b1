"""kubectl reads every object we emit as YAML to exactly what our ``-o json`` says.

``kubectl create --dry-run=client -o json`` (go-yaml v2 via sigs.k8s.io/yaml) and
``kubectl kustomize`` (go-yaml v3 via kyaml, then read again by create) over the
NodeFeatureRule and patched workloads of ``affinity``, the Job of ``job``, and the
report of ``validate-node -o yaml``; values are strings Go could take for numbers,
booleans or nulls (``0108`` is the PCI class of NVMe controllers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests._ambiguous import SEEDS, ambiguous_strings
from tests._cli import nfd
from tests._kubectl import Kubectl, as_kubectl_shows, kubectl_reader, wrap

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "app", "labels": {"tier": "0108", "canary": "no", "rev": "1e3"}},
    "spec": {"selector": {"matchLabels": {"app": "on"}}, "template": {
        "metadata": {"labels": {"app": "on"}},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:0x10",
                                 "args": ["--level", "0o17", "~"]}]}}},
}


def _spec(values: list[str]) -> str:
    keys = {v: {"op": "In", "value": [v]} for v in values}
    spec = {"version": "v1alpha1", "compatibilities": [{
        "description": values[0], "tag": "yes", "rules": [
            {"name": "class", "matchFeatures": [
                {"feature": "pci.device", "matchExpressions": {
                    "class": {"op": "In", "value": values}}}]},
            {"name": "labels", "matchFeatures": [
                {"feature": "local.label", "matchExpressions": keys}]}]}]}
    return json.dumps(spec)  # JSON is YAML: our input is not what is on trial


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with kubectl_reader(tmp_path_factory.mktemp("kubectl")) as reader:
        yield reader


def _out(*args: str) -> str:
    proc = nfd(*args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def _by_kind(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objs, key=lambda o: (o["kind"], o["metadata"]["name"]))


def _affinity_objects(kube: Kubectl, tmp_path: Path, values: list[str]) -> None:
    spec, manifest = tmp_path / "spec.yaml", tmp_path / "deploy.json"
    spec.write_text(_spec(values))
    manifest.write_text(json.dumps(DEPLOYMENT))
    args = ("compat", "affinity", "--spec", str(spec), "--patch", str(manifest))
    emitted = _out(*args)
    ours = as_kubectl_shows(json.loads(_out(*args, "-o", "json"))["items"])
    assert len(ours) == 2
    assert kube.read(emitted) == ours
    rule = _out("compat", "affinity", "--spec", str(spec), "--emit", "rule")
    assert kube.read(rule) == ours[:1]
    everything = _out("compat", "affinity", "--spec", str(spec))  # --emit all: rule, fragment
    assert kube.read(everything) == ours[:1]
    documents = emitted.split("---\n")
    kustomized = kube.kustomize({f"doc{i}.yaml": d for i, d in enumerate(documents)})
    assert _by_kind(kube.read(kustomized)) == _by_kind(ours)


def test_affinity_rule_and_patch(kube: Kubectl, tmp_path: Path) -> None:
    _affinity_objects(kube, tmp_path, list(SEEDS))


@settings(max_examples=8, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(ambiguous_strings(), min_size=1, max_size=40, unique=True))
def test_affinity_property(kube: Kubectl, tmp_path: Path, values: list[str]) -> None:
    _affinity_objects(kube, tmp_path, values)


def test_job(kube: Kubectl) -> None:
    args = ("compat", "job", "--image", "registry.example/app:0108", "--node", "node-1e3",
            "--tags", "yes,0108", "--platform", "linux/amd64")
    passed_on = ("--", "--timeout", "1e3", "--ca-file", "~")
    ours = as_kubectl_shows([json.loads(_out(*args, "-o", "json", *passed_on))])
    emitted = _out(*args, *passed_on)
    assert kube.read(emitted) == ours
    assert kube.read(kube.kustomize({"job.yaml": emitted})) == ours


def test_validate_node_yaml_report(kube: Kubectl, tmp_path: Path) -> None:
    values = list(SEEDS)
    spec, features = tmp_path / "spec.yaml", tmp_path / "features.json"
    spec.write_text(_spec(values))
    features.write_text(json.dumps({
        "flags": {}, "attributes": {"local.label": {"elements": {v: v for v in values}}},
        "instances": {"pci.device": {"elements": [{"attributes": {"class": v, "vendor": v}}
                                                  for v in values[:5]]}}}))
    args = ("compat", "validate-node", "--spec", str(spec), "--features", str(features))
    ours = json.loads(_out(*args, "--output", "json"))
    [read] = kube.read(wrap("report", _out(*args, "--output", "yaml")))
    assert read["spec"] == ours
