"""The YAML emitter: every string reads back as that string, in YAML 1.1 (PyYAML),
YAML 1.2 (ruamel.yaml) and Go (kubectl: go-yaml through sigs.k8s.io/yaml)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from tests._ambiguous import SEEDS, ambiguous_strings
from tests._kubectl import WRAPPER_API, kubectl_reader

from nfd.cli._yaml_emit import dump_yaml, resolves_to_non_string

# Strings no reader takes for anything else stay plain (the output stays readable).
PLAIN = ("vfio-pci", "Intel", "5.15.0-91-generic", "0eee-x", "NaN", "nan", "inf", "+inf",
         "0x1p-2", "1e", "true-ish", "v1alpha1", "yes please")


def _yaml12(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def _document(values: list[str]) -> dict[str, Any]:
    return {"values": values, "keys": {v: v for v in values}, "nested": [{"v": v} for v in values]}


@pytest.mark.parametrize("text", SEEDS)
def test_issue_strings_are_quoted(text: str) -> None:
    assert resolves_to_non_string(text) or text == "NaN"
    line = dump_yaml([text])
    assert line != f"- {text}\n" or text == "NaN"


@pytest.mark.parametrize("text", PLAIN)
def test_unambiguous_strings_stay_plain(text: str) -> None:
    assert not resolves_to_non_string(text)
    assert dump_yaml([text]) == f"- {text}\n"


@pytest.mark.parametrize("text", ["\x85", "a\u2028b", "\u2029"])
def test_yaml11_only_line_breaks_are_escaped(text: str) -> None:
    # NEL, LS and PS break lines in YAML 1.1 only: written raw, go-yaml folds them away
    line = dump_yaml([text])
    assert line.startswith('- "') and not set(line) & {"\x85", "\u2028", "\u2029"}
    assert yaml.safe_load(line) == _yaml12(line) == [text]


@settings(max_examples=400)
@given(st.lists(st.one_of(ambiguous_strings(), st.text(max_size=12)), min_size=1, max_size=8))
def test_yaml11_and_yaml12_read_strings_back(values: list[str]) -> None:
    doc = _document(values)
    text = dump_yaml(doc)
    assert yaml.safe_load(text) == doc
    assert _yaml12(text) == doc


@pytest.fixture(scope="module")
def kube_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubectl")


# kubectl costs ~0.2 s a call: each example is one call over a few hundred strings.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(st.lists(st.one_of(ambiguous_strings(), st.text(max_size=10)), min_size=50,
                max_size=300))
def test_go_reads_strings_back(kube_workdir: Path, values: list[str]) -> None:
    doc = {"apiVersion": WRAPPER_API, "kind": "Document", "metadata": {"name": "probe"},
           "spec": _document(values)}
    with kubectl_reader(kube_workdir) as kube:
        assert kube.read(dump_yaml(doc)) == [doc]


def test_go_reads_every_seed_back(kube_workdir: Path) -> None:
    doc = {"apiVersion": WRAPPER_API, "kind": "Document", "metadata": {"name": "seeds"},
           "spec": _document(list(SEEDS))}
    with kubectl_reader(kube_workdir) as kube:
        assert kube.read(dump_yaml(doc)) == [doc]
        assert "108" not in kube.kustomize({"seeds.yaml": dump_yaml(doc)}).replace("0108", "")
