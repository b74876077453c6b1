"""What a spec can say: the ops, the features NFD publishes with their element names and
value formats, and the NodeFeature shape a features dump needs.

Built from the tables lint checks against (:mod:`nfd.compat._vocabulary` and the op
rules of :mod:`nfd.compat._lint`), so ``nfd compat explain`` and ``validate-spec`` cannot
disagree.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.compat._lint import COMPARE_OPS, NO_VALUE_OPS
from nfd.compat._vocabulary import (
    CLOSED_ELEMENTS,
    FLAG_SET_FEATURES,
    INSTANCE_FEATURES,
    OS_RELEASE_KEYS,
    VALUE_FORMATS,
)
from nfd.errors import UsageError
from nfd.match import OPS

if TYPE_CHECKING:
    from typing import Any

# What each op asks of an element (NFD's pkg/apis/nfd/nodefeaturerule/expression.go).
_MEANING = {
    "In": "its value is one of the values",
    "NotIn": "it exists, its value none of the values",
    "InRegexp": "its value matches one of the RE2 regexps",
    "Exists": "the element exists (a flag, a module, a CPUID name)",
    "DoesNotExist": "the element does not exist",
    "Gt": "value > bound (integers; versions with type)",
    "Ge": "value >= bound (integers; versions with type)",
    "Lt": "value < bound (integers; versions with type)",
    "Le": "value <= bound (integers; versions with type)",
    "GtLt": "low < value < high (integers; versions with type)",
    "GeLe": "low <= value <= high (integers; versions with type)",
    "IsTrue": 'the value is "true"',
    "IsFalse": 'the value is "false"',
}
# A features file for validate-node --features (or one item of a validate-cluster dump).
NODE_FEATURE_SHAPE: dict[str, Any] = {
    "apiVersion": "nfd.k8s-sigs.io/v1alpha1",
    "kind": "NodeFeature",
    "metadata": {"name": "worker-1", "namespace": "node-feature-discovery",
                 "labels": {"nfd.node.kubernetes.io/node-name": "worker-1"}},
    "spec": {"features": {
        "flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
        "attributes": {"cpu.model": {"elements": {"vendor_id": "AMD", "family": "25"}}},
        "instances": {"pci.device": {"elements": [
            {"attributes": {"vendor": "10de", "class": "0302", "device": "2330"}}]}},
    }},
}


def _values(op: str) -> str:
    if op in NO_VALUE_OPS:
        return "none"
    count = COMPARE_OPS.get(op)
    if count is not None:
        return "exactly one" if count == 1 else "exactly two"
    return "one or more"


def _kind(feature: str) -> str:
    if feature in FLAG_SET_FEATURES:
        return "flags" if feature != "cpu.cpuid" else "flags (and attributes on x86-64)"
    return "instances" if feature in INSTANCE_FEATURES else "attributes"


def _feature(name: str) -> dict[str, Any]:
    closed = CLOSED_ELEMENTS[name]
    elements = sorted(closed) if closed is not None else None
    if name == "system.osrelease":
        elements = sorted(OS_RELEASE_KEYS)
    formats = {element: fmt.description for (feature, element), fmt in VALUE_FORMATS.items()
               if feature == name}
    return {"name": name, "kind": _kind(name), "elements": elements,
            "openElements": closed is None, "valueFormats": formats}


def explain_vocabulary(feature: str | None = None) -> dict[str, Any]:
    """The ops, the features (or only ``feature``), and the NodeFeature shape."""
    from nfd._suggest import did_you_mean

    if feature is not None and feature not in CLOSED_ELEMENTS:
        raise UsageError(f"unknown feature {feature!r}{did_you_mean(feature, CLOSED_ELEMENTS)}"
                         "; 'nfd compat explain' lists them all")
    names = [feature] if feature is not None else sorted(CLOSED_ELEMENTS)
    return {
        "ops": [{"op": op, "values": _values(op), "meaning": _MEANING[op]} for op in OPS],
        "types": {"version": "with Gt, Ge, Lt, Le, GtLt, GeLe: compare as versions "
                             "(22.04, 6.8.0-45-generic) instead of integers"},
        "features": [_feature(name) for name in names],
        "nodeFeature": NODE_FEATURE_SHAPE,
    }
