"""Features documents: export JSON, NodeFeature, lists; nil vs empty; nfd-master merging."""

from __future__ import annotations

import json

import pytest

from nfd._go.json import dumps
from nfd.api import (
    Features,
    features_from_obj,
    features_to_obj,
    load_features_document,
    merge_node_features,
    node_feature_from_obj,
)
from nfd.errors import SpecError


def node_feature(name: str, node: str | None, features: dict[str, object]) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "namespace": "nfd"}
    if node:
        meta["labels"] = {"nfd.node.kubernetes.io/node-name": node}
    return {"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature", "metadata": meta,
            "spec": {"features": features}}


def test_nil_and_empty_elements_are_kept_apart() -> None:
    f = features_from_obj({"flags": {"a.nil": {}, "a.null": {"elements": None},
                                     "a.empty": {"elements": {}}}})
    assert f.flags == {"a.nil": None, "a.null": None, "a.empty": set()}


def test_export_shape_round_trip_and_go_order() -> None:
    doc = {"flags": {"k.m": {"elements": {"b": {}, "a": {}}}},
           "attributes": {"c.m": {"elements": {"z": "1", "a": "<&>"}}},
           "instances": {"p.d": {"elements": [
               {"attributes": {"vendor": "10de", "class": "0302"}}]}}}
    f = features_from_obj(doc)
    text = dumps(features_to_obj(f), indent=4)
    assert list(json.loads(text)) == ["flags", "attributes", "instances"]
    assert '"a": {},\n' in text and text.index('"a"') < text.index('"b"')
    assert "\\u003c\\u0026\\u003e" in text
    assert features_from_obj(json.loads(text)) == f


def test_yaml_numbers_become_strings_like_sigs_yaml() -> None:
    f = features_from_obj({"attributes": {"cpu.model": {"elements": {"family": 6, "x": True}}}})
    assert f.attributes["cpu.model"] == {"family": "6", "x": "true"}


def test_merge_like_nfd_master() -> None:
    a = Features(flags={"k.m": {"a"}}, attributes={"c.m": {"x": "1"}},
                 instances={"p.d": [{"v": "1"}]})
    b = Features(flags={"k.m": {"b"}, "k.e": None}, attributes={"c.m": {"x": "2", "y": "3"}},
                 instances={"p.d": [{"v": "2"}]})
    a.merge(b)
    assert a.flags == {"k.m": {"a", "b"}, "k.e": None}
    assert a.attributes == {"c.m": {"x": "2", "y": "3"}}
    assert a.instances == {"p.d": [{"v": "1"}, {"v": "2"}]}


def test_node_features_grouped_by_node_label() -> None:
    objs = [
        node_feature_from_obj(node_feature("worker-1", "worker-1",
                                           {"flags": {"k.m": {"elements": {"a": {}}}}})),
        node_feature_from_obj(node_feature("vendor-extra", "worker-1",
                                           {"flags": {"k.m": {"elements": {"b": {}}}}})),
        node_feature_from_obj(node_feature("worker-2", None, {})),
    ]
    merged = merge_node_features(objs)
    # nfd-master selects by the node-name label only: the unlabelled object is unused.
    assert set(merged) == {"worker-1"}
    assert merged["worker-1"].flags["k.m"] == {"a", "b"}


def test_merge_order_is_nfd_masters() -> None:
    def obj(name: str, ns: str, value: str) -> dict[str, object]:
        doc = node_feature(name, "w", {"attributes": {"a.b": {"elements": {"k": value}}}})
        doc["metadata"]["namespace"] = ns  # type: ignore[index]
        return doc

    objs = [node_feature_from_obj(obj("zz", "node-feature-discovery", "own")),
            node_feature_from_obj(obj("aa", "vendor", "vendor-aa")),
            node_feature_from_obj(obj("bb", "other", "other-bb"))]
    # own namespace first, then by name: the last applied (bb) wins
    assert merge_node_features(objs)["w"].attributes["a.b"] == {"k": "other-bb"}


def test_list_needs_node_choice_when_ambiguous() -> None:
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        node_feature("w1", "w1", {}), node_feature("w2", "w2", {})]}
    with pytest.raises(SpecError, match=r"nodes.yaml: the list holds several nodes \(w1, w2\)"):
        load_features_document(doc, source="nodes.yaml")
    with pytest.raises(SpecError, match="no NodeFeature for node 'w3'"):
        load_features_document(doc, node="w3")
    assert load_features_document(doc, node="w2") == Features()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"flags": {"x": {"elements": ["a"]}}}, "flags.x.elements: expected a mapping, got list"),
        ({"flags": {"x": {"elemnts": {}}}}, "flags.x.elemnts: unknown field \"elemnts\""),
        ({"instances": {"x": {"elements": [{"attributes": {"a": [1]}}]}}},
         "instances.x.elements[0].attributes.a: expected a string, got list"),
        ({"kind": "Pod"}, "not a features document"),
    ],
)
def test_bad_features_are_located(doc: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_features_document(doc, source="f.json")
    assert str(info.value).startswith("f.json: ")
    assert message in str(info.value)
