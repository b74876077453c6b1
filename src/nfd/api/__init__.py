"""Typed, validated documents: the compatibility spec, NFD rules, features, NodeFeature.

Pure: parsing and validation only, no I/O beyond reading a named file.
"""

from __future__ import annotations

from nfd.api._features import (
    DEFAULT_NFD_NAMESPACE,
    NFD_API_VERSION,
    NODE_NAME_LABEL,
    AttributeElements,
    Features,
    FlagElements,
    InstanceElements,
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
from nfd.api._yaml import (
    STRICT_JSON_BYTES,
    LoadLimits,
    check_json_containers,
    load_file,
    load_file_all,
    loads,
    loads_all,
)

__all__ = [
    "ARTIFACT_TYPE",
    "DEFAULT_NFD_NAMESPACE",
    "MAX_FEATURES_BYTES",
    "NFD_API_VERSION",
    "NODE_NAME_LABEL",
    "SPEC_MEDIA_TYPE",
    "SPEC_VERSION",
    "STRICT_JSON_BYTES",
    "AttributeElements",
    "CompatSpec",
    "Compatibility",
    "FeatureMatcherTerm",
    "Features",
    "FlagElements",
    "GroupRule",
    "InstanceElements",
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
    "load_file_all",
    "load_spec",
    "loads",
    "loads_all",
    "loads_spec",
    "merge_node_features",
    "merge_order",
    "node_feature_from_obj",
    "parse_spec",
    "spec_to_obj",
]
