"""Typed, validated documents: the compatibility spec, NFD rules, features, NodeFeature.

Pure: parsing and validation only, no I/O beyond reading a named file.
"""

from __future__ import annotations

from nfd.api._features import (
    DEFAULT_NFD_NAMESPACE,
    NFD_API_VERSION,
    NODE_NAME_LABEL,
    Features,
    NodeFeature,
    features_from_obj,
    features_to_obj,
    load_features_document,
    merge_node_features,
    merge_order,
    node_feature_from_obj,
)
from nfd.api._load import MAX_FEATURES_BYTES, load_features
from nfd.api._spec import (
    ARTIFACT_TYPE,
    SPEC_MEDIA_TYPE,
    SPEC_VERSION,
    Compatibility,
    CompatSpec,
    FeatureMatcherTerm,
    GroupRule,
    MatchAnyElem,
    MatchExpression,
    load_spec,
    loads_spec,
    parse_spec,
    spec_to_obj,
)
from nfd.api._yaml import LoadLimits, check_json_containers, load_file, loads

__all__ = [
    "ARTIFACT_TYPE",
    "DEFAULT_NFD_NAMESPACE",
    "MAX_FEATURES_BYTES",
    "NFD_API_VERSION",
    "NODE_NAME_LABEL",
    "SPEC_MEDIA_TYPE",
    "SPEC_VERSION",
    "CompatSpec",
    "Compatibility",
    "FeatureMatcherTerm",
    "Features",
    "GroupRule",
    "LoadLimits",
    "MatchAnyElem",
    "MatchExpression",
    "NodeFeature",
    "check_json_containers",
    "features_from_obj",
    "features_to_obj",
    "load_features",
    "load_features_document",
    "load_file",
    "load_spec",
    "loads",
    "loads_spec",
    "merge_node_features",
    "merge_order",
    "node_feature_from_obj",
    "parse_spec",
    "spec_to_obj",
]
