"""Pod node affinity for a compatibility spec, and merging it into workload manifests.

*Required*: the pod must land on a node labelled for at least one selected set.
Kubernetes ORs ``nodeSelectorTerms`` and ANDs the requirements inside one term,
so that is one term per set.

*Preferred*: one term per set, weighted by the set's ``weight``. Kubernetes
accepts weights 1..100 only, so: 0 (the spec's default) means no preference and
adds no term; above 100 is clamped to 100; below 0 adds no term. Both of the
latter come with a warning.

*Merging into an existing affinity*: existing required terms ``E1 | E2`` and
ours ``N1 | N2`` must both hold, i.e. ``(E1 | E2) & (N1 | N2)``, which in
Kubernetes' OR-of-ANDs form is the cross product ``E1&N1 | E1&N2 | E2&N1 | E2&N2``
(requirements of both terms concatenated). An empty existing term matches no node
(Kubernetes API docs), so its products are dropped. Existing preferred terms are
kept; ours are appended unless already present. When every existing required
term already holds one of ours (a manifest patched before), it is kept as is,
so patching twice changes nothing. Duplicates are found by a canonical JSON
key per term and requirement (sets, not list scans), and the product is
bounded before it is built (:data:`MAX_MERGED_TERMS`), so the cost is linear
in the manifest's size.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nfd._jsondoc import join_path
from nfd.cluster._labels import LABEL_VALUE
from nfd.cluster._rule import SelectedSet
from nfd.errors import SpecError

MIN_WEIGHT, MAX_WEIGHT = 1, 100
# The AND of an existing required affinity with ours is a cross product: bounded before it is
# built, so a pod with thousands of terms costs a refusal, not quadratic work. Kubernetes sets
# no count of its own; these leave room for any real affinity.
MAX_MERGED_TERMS = 4096
MAX_MERGED_REQUIREMENTS = 65536
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"

# Where each supported kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


class AffinityTooLarge(SpecError):
    """The merged affinity would exceed :data:`MAX_MERGED_TERMS` or its requirement bound."""


@dataclass(frozen=True)
class Affinity:
    """A ``nodeAffinity`` object and the warnings building it produced."""

    node_affinity: dict[str, Any]
    warnings: tuple[str, ...]


def _requirement(label: str) -> dict[str, Any]:
    return {"key": label, "operator": "In", "values": [LABEL_VALUE]}


def build_affinity(sets: Sequence[SelectedSet], source: str | None = None) -> Affinity:
    """Required: any selected set's label; preferred: each set's label weighted by its weight."""
    warnings: list[str] = []
    preferred: list[dict[str, Any]] = []
    for s in sets:
        weight = s.compat.weight
        where = f"{source + ': ' if source else ''}compatibilities[{s.index}].weight"
        if weight > MAX_WEIGHT:
            warnings.append(f"{where}: weight {weight} is over Kubernetes' maximum of "
                            f"{MAX_WEIGHT}; clamped to {MAX_WEIGHT}")
            weight = MAX_WEIGHT
        elif weight < 0:
            warnings.append(f"{where}: negative weight {weight} cannot be a Kubernetes "
                            "preference (1..100); no preferred term for this set")
            continue
        if weight == 0:
            continue
        preferred.append({"weight": weight,
                          "preference": {"matchExpressions": [_requirement(s.label)]}})
    node_affinity: dict[str, Any] = {
        REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [_requirement(s.label)]}
                                         for s in sets]},
    }
    if preferred:
        node_affinity[PREFERRED] = preferred
    return Affinity(node_affinity, tuple(warnings))


_FIELDS = ("matchExpressions", "matchFields")
# A term as its requirements by identity, per field: {field: {canonical JSON: requirement}}.
_Indexed = dict[str, dict[str, Any]]


def _key(item: Any) -> str:
    """A hashable identity for a JSON value: de-duplication by dict, not by list scans, so
    merging stays linear in the pod's size."""
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


def _copy(value: Any) -> Any:
    """A copy of JSON data (dicts, lists, scalars): no shared objects, which YAML would
    alias, and much cheaper than ``copy.deepcopy``'s memo for this one shape."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _index(term: dict[str, Any]) -> _Indexed:
    """``term``'s requirements keyed by identity (duplicates dropped, first order kept)."""
    return {field: {_key(item): item for item in term.get(field) or []} for field in _FIELDS}


def _identity(indexed: _Indexed) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(indexed[field]) for field in _FIELDS)


def _product(left: list[_Indexed], right: list[_Indexed], path: str) -> list[_Indexed]:
    """Every term of ``left`` AND every term of ``right`` (duplicates dropped, order kept),
    refused before it is built when over the bounds."""
    _check_product(left, right, path)
    out: dict[tuple[tuple[str, ...], ...], _Indexed] = {}
    for a in left:
        for b in right:
            both = {field: a[field] | b[field] for field in _FIELDS}
            out.setdefault(_identity(both), both)
    return list(out.values())


def _term(indexed: _Indexed) -> dict[str, Any]:
    """A NodeSelectorTerm object from its index (its requirements shared, not copied)."""
    return {field: list(items.values()) for field, items in indexed.items() if items}


def _is_empty_term(term: Any) -> bool:
    return not isinstance(term, dict) or not (term.get("matchExpressions")
                                              or term.get("matchFields"))


def _size(term: _Indexed) -> int:
    return sum(len(items) for items in term.values())


def _check_product(live: list[_Indexed], ours: list[_Indexed], path: str) -> None:
    """Refuse, before building it, a cross product over :data:`MAX_MERGED_TERMS` terms or
    :data:`MAX_MERGED_REQUIREMENTS` requirements (it grows with the product of both sides)."""
    terms = len(live) * len(ours)
    requirements = (len(ours) * sum(_size(t) for t in live)
                    + len(live) * sum(_size(t) for t in ours))
    if terms > MAX_MERGED_TERMS or requirements > MAX_MERGED_REQUIREMENTS:
        raise AffinityTooLarge(
            f"ANDing {len(live)} existing required term(s) with {len(ours)} of ours would make "
            f"{terms} terms with {requirements} requirements (at most {MAX_MERGED_TERMS} and "
            f"{MAX_MERGED_REQUIREMENTS}); refusing to merge", path=path)


def merge_node_affinity(existing: Any, ours: dict[str, Any], path: str, *,
                        share: bool = False) -> dict[str, Any]:
    """``existing`` nodeAffinity AND ``ours``; ``path`` locates ``existing`` for errors.

    The result is a fresh object; with ``share``, it may share objects with
    ``existing`` and ``ours`` (cheaper, for a result that is only serialised to JSON:
    YAML would write shared objects as aliases).
    """
    merged = _merge(existing, ours, path)
    if share:
        return merged
    copied: dict[str, Any] = _copy(merged)
    return copied


def _merge(existing: Any, ours: dict[str, Any], path: str) -> dict[str, Any]:
    if existing is None:
        return ours
    if not isinstance(existing, dict):
        raise SpecError("nodeAffinity must be a mapping", path=path)
    required = existing.get(REQUIRED)
    if required is None:
        return _with_preferred({**existing, REQUIRED: ours[REQUIRED]}, existing, ours, path)
    rpath = join_path(path, REQUIRED)
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if not isinstance(terms, list):
        raise SpecError("nodeSelectorTerms must be a list", path=join_path(rpath,
                                                                            "nodeSelectorTerms"))
    for index, term in enumerate(terms):
        _check_term(term, join_path(join_path(rpath, "nodeSelectorTerms"), index))
    indexed = {_identity(i): i for i in (_index(t) for t in terms if not _is_empty_term(t))}
    live = list(indexed.values())
    if not live:
        raise SpecError("the existing required node affinity matches no node (no non-empty "
                        "nodeSelectorTerms); refusing to merge", path=rpath)
    our_terms = [_index(n) for n in ours[REQUIRED]["nodeSelectorTerms"]]
    if _already_patched(live, our_terms):
        return _with_preferred(dict(existing), existing, ours, path)
    product = _product(live, our_terms, rpath)
    merged = {**existing, REQUIRED: {**required, "nodeSelectorTerms": [_term(t) for t in product]}}
    return _with_preferred(merged, existing, ours, path)


def and_node_affinities(affinities: Sequence[dict[str, Any]], path: str = "") -> dict[str, Any]:
    """Our node affinities of several images ANDed into one, as merging them one after the
    other gives, in one product: each term is built once, not once per image (linear,
    where merging image by image rebuilds every term per image). Shares objects with
    ``affinities``, like ``merge_node_affinity(..., share=True)``."""
    if len(affinities) == 1:
        return affinities[0]
    terms = [_index(t) for t in affinities[0][REQUIRED]["nodeSelectorTerms"]]
    for affinity in affinities[1:]:
        terms = _product(terms, [_index(t) for t in affinity[REQUIRED]["nodeSelectorTerms"]],
                         path)
    preferred: dict[str, Any] = {}
    for affinity in affinities:
        for term in affinity.get(PREFERRED, []):
            preferred.setdefault(_key(term), term)
    out: dict[str, Any] = {REQUIRED: {"nodeSelectorTerms": [_term(t) for t in terms]}}
    if preferred:
        out[PREFERRED] = list(preferred.values())
    return out


def _check_term(term: Any, path: str) -> None:
    """An existing nodeSelectorTerm must have Kubernetes' shape before we combine it."""
    if not isinstance(term, dict):
        raise SpecError("a nodeSelectorTerm must be a mapping", path=path)
    for field in ("matchExpressions", "matchFields"):
        requirements = term.get(field)
        if requirements is None:
            continue
        fpath = join_path(path, field)
        if not isinstance(requirements, list):
            raise SpecError("must be a list", path=fpath)
        for i, req in enumerate(requirements):
            rpath = join_path(fpath, i)
            if not isinstance(req, dict) or not isinstance(req.get("key"), str) or not (
                    isinstance(req.get("operator"), str)):
                raise SpecError("a requirement needs a string key and operator", path=rpath)
            values = req.get("values")
            if values is not None and (not isinstance(values, list) or not all(
                    isinstance(v, str) for v in values)):
                raise SpecError("values must be a list of strings", path=join_path(rpath,
                                                                                    "values"))


def _already_patched(live: list[_Indexed], our_terms: list[_Indexed]) -> bool:
    """Whether every existing term already holds all requirements of one of our terms."""
    wanted = [set(n["matchExpressions"]) for n in our_terms]
    return all(any(want <= term["matchExpressions"].keys() for want in wanted)
               for term in live)


def _with_preferred(merged: dict[str, Any], existing: dict[str, Any], ours: dict[str, Any],
                    path: str) -> dict[str, Any]:
    """Existing preferred terms kept, ours appended unless already there."""
    if PREFERRED in ours:
        current = existing.get(PREFERRED) or []
        if not isinstance(current, list):
            raise SpecError("must be a list", path=join_path(path, PREFERRED))
        present = {_key(p) for p in current}
        extra = [p for p in ours[PREFERRED] if _key(p) not in present]
        merged[PREFERRED] = current + extra
    return merged


def _pod_spec(doc: dict[str, Any], kind: str, path: str) -> dict[str, Any]:
    node: Any = doc
    where = path
    for key in POD_SPEC_PATHS[kind]:
        where = join_path(where, key)
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            raise SpecError(f"expected a mapping in a {kind}", path=where)
        node = child
    pod: dict[str, Any] = node
    return pod


def patch_workload(doc: Any, node_affinity: dict[str, Any], path: str = "") -> Any:
    """A copy of ``doc`` (a workload, or a ``List`` of them) with ``node_affinity`` merged in.

    Objects of other kinds are returned unchanged; :func:`patchable` tells which count.
    """
    if not isinstance(doc, dict):
        return doc
    kind = doc.get("kind")
    if kind in ("List",) and isinstance(doc.get("items"), list):
        out = dict(doc)
        out["items"] = [patch_workload(item, node_affinity, join_path(join_path(path, "items"),
                                                                      i))
                        for i, item in enumerate(doc["items"])]
        return out
    if not isinstance(kind, str) or kind not in POD_SPEC_PATHS:
        return doc
    patched = copy.deepcopy(doc)
    pod = _pod_spec(patched, str(kind), path)
    spec_path = join_path(path, ".".join(POD_SPEC_PATHS[str(kind)]))
    affinity = pod.get("affinity")
    if affinity is None:
        affinity = pod["affinity"] = {}
    if not isinstance(affinity, dict):
        raise SpecError("affinity must be a mapping", path=join_path(spec_path, "affinity"))
    affinity["nodeAffinity"] = merge_node_affinity(
        affinity.get("nodeAffinity"), node_affinity,
        join_path(spec_path, "affinity.nodeAffinity"))
    return patched


def patchable(doc: Any) -> int:
    """How many workloads ``doc`` holds (a ``List`` counts its items)."""
    if not isinstance(doc, dict):
        return 0
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return sum(patchable(item) for item in doc["items"])
    kind = doc.get("kind")
    return 1 if isinstance(kind, str) and kind in POD_SPEC_PATHS else 0
