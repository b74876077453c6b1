"""A compatibility spec from an image's ``NVIDIA_REQUIRE_*`` environment.

NVIDIA's CUDA images declare what they need from the host in their config's ``Env``, e.g.
``NVIDIA_REQUIRE_CUDA=cuda>=12.6 brand=tesla,driver>=535,driver<536``. The NVIDIA Container
Toolkit checks it when a container starts (``internal/config/image/cuda_image.go``
``GetRequirements``; ``internal/requirements/constraints/factory.go``), with these rules,
kept here exactly:

- every variable named ``NVIDIA_REQUIRE_*`` except ``NVIDIA_REQUIRE_JETPACK*`` is one
  requirement, and the requirements are ANDed; ``NVIDIA_DISABLE_REQUIRE`` set to a true
  value (Go's ``strconv.ParseBool``) turns them all off;
- a legacy image (``CUDA_VERSION`` set, ``NVIDIA_REQUIRE_CUDA`` not) requires
  ``cuda>=MAJOR.MINOR`` of its ``CUDA_VERSION``;
- inside one requirement, space-separated terms are ORed and comma-separated factors ANDed;
- a factor is ``PROPERTY OP VALUE`` with OP one of ``!= <= >= = < >``; properties ``cuda``
  (the CUDA driver version), ``driver``, ``arch`` (compute capability) compare as semantic
  versions, ``brand`` as a string; a factor naming another property is skipped.

Each requirement becomes one rule of one compatibility set (rules are ANDed), its terms the
rule's ``matchAny`` alternatives, its factors their expressions, over GPU Feature Discovery's
labels as NFD's ``local`` source publishes them (:mod:`nfd.sources` derives the same names on
a node without GFD). GFD publishes no brand, so a term with a ``brand`` factor cannot be
expressed exactly: :data:`BRAND_OMIT` leaves such a term out (the spec is stricter than the
toolkit), :data:`BRAND_IGNORE` drops the factor (looser). Either way it is reported, never
dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from nfd.errors import SpecError

REQUIRE_PREFIX = "NVIDIA_REQUIRE_"
JETPACK_PREFIX = "NVIDIA_REQUIRE_JETPACK"
DISABLE_REQUIRE = "NVIDIA_DISABLE_REQUIRE"
BRAND_OMIT = "omit"
BRAND_IGNORE = "ignore"

FEATURE = "local.label"
CUDA_KEY = "nvidia.com/cuda.runtime-version.full"
DRIVER_KEY = "nvidia.com/cuda.driver-version.full"
COMPUTE_MAJOR = "nvidia.com/gpu.compute.major"
COMPUTE_MINOR = "nvidia.com/gpu.compute.minor"

# The toolkit tries the two-character operators first (factory.go ``parse``).
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_VERSION_OPS = {">=": "Ge", ">": "Gt", "<=": "Le", "<": "Lt"}
# Masterminds semver's loose grammar (what the toolkit's Validate accepts), without the
# prerelease and metadata forms that no NVIDIA image uses.
_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", re.ASCII)
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go's strconv.ParseBool

Expression = dict[str, Any]
Alternative = list[tuple[str, Expression]]  # (label key, NFD expression), ANDed


def requirements_from_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """(variable, requirement) pairs the toolkit would check, in name order (Go's map order
    is random; the requirements are ANDed, so order does not change the verdict)."""
    if env.get(DISABLE_REQUIRE, "") in _TRUE:
        return []
    found = [(name, value) for name, value in env.items()
             if name.startswith(REQUIRE_PREFIX) and not name.startswith(JETPACK_PREFIX)]
    legacy = env.get("CUDA_VERSION", "")
    if legacy and not env.get("NVIDIA_REQUIRE_CUDA"):
        found.append(("CUDA_VERSION", f"cuda>={_legacy_version(legacy)}"))
    return sorted(found)


def _legacy_version(text: str) -> str:
    """``legacyVersion``: MAJOR.MINOR of ``CUDA_VERSION`` (e.g. ``10.0.130`` -> ``10.0``)."""
    match = _VERSION.match(text)
    if not match or match.group(2) is None:
        raise SpecError(f"CUDA_VERSION {text!a}: not a MAJOR.MINOR[.PATCH] version",
                        path="CUDA_VERSION")
    return f"{match.group(1)}.{match.group(2)}"


def env_from_list(entries: Iterable[object]) -> dict[str, str]:
    """An image config's ``Env`` (``NAME=VALUE`` strings) as a mapping; later entries win."""
    env: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, str):
            name, _, value = entry.partition("=")
            env[name] = value
    return env


class Translation:
    """The spec object generated from an image's requirements, and what it could not say."""

    __slots__ = ("not_expressed", "spec")

    def __init__(self, spec: dict[str, Any], not_expressed: list[str]) -> None:
        self.spec = spec
        self.not_expressed = not_expressed


def spec_from_env(env: Mapping[str, str], *, description: str,
                  brand: str = BRAND_OMIT) -> Translation:
    """The compatibility spec (a plain object) that says what ``env`` requires of a node.

    Raises :class:`SpecError` (located at the variable) for a factor the toolkit itself would
    refuse, for a requirement none of whose terms can be expressed, and when the image
    requires nothing.
    """
    requirements = requirements_from_env(env)
    if not requirements:
        reason = ("NVIDIA_DISABLE_REQUIRE turns them off" if env.get(DISABLE_REQUIRE, "")
                  in _TRUE else "no NVIDIA_REQUIRE_* or CUDA_VERSION in its environment")
        raise SpecError(f"the image states no NVIDIA requirements: {reason}", path="Env")
    not_expressed: list[str] = []
    rules = [rule for name, text in requirements
             if (rule := _rule(name, text, brand, not_expressed)) is not None]
    if not rules:
        raise SpecError("the image's NVIDIA requirements constrain nothing GFD's labels can "
                        "say: " + "; ".join(not_expressed), path="Env")
    spec = {"version": "v1alpha1",
            "compatibilities": [{"description": description, "rules": rules}]}
    return Translation(spec, not_expressed)


def _rule(name: str, text: str, brand: str, not_expressed: list[str]) -> dict[str, Any] | None:
    """One requirement as a rule; None when it constrains nothing (as the toolkit drops it)."""
    alternatives: list[Alternative] = []
    omitted = False
    for term in text.split(" "):
        factors = [f for f in term.split(",") if f.strip()]
        if not factors:
            continue
        expressed = _term(name, term, factors, brand, not_expressed)
        if expressed is None:
            omitted = True
        elif expressed == [[]]:  # every factor ignored: the term always holds
            not_expressed.append(f"{name}: {term!a} holds on every node once its brand is "
                                 "ignored, so the requirement constrains nothing")
            return None
        else:
            alternatives.extend(expressed)
    if not alternatives:
        if omitted:
            raise SpecError(f"{name}: none of its alternatives can be expressed over GFD's "
                            f"labels ({text[:200]!a}); `brand` ignore drops brand factors",
                            path=name, arguments=("brand",))
        return None  # only unknown properties: the toolkit checks nothing either
    return {"name": name, "matchAny": [_match_features(alt) for alt in alternatives]}


def _term(name: str, term: str, factors: list[str], brand: str,
          not_expressed: list[str]) -> list[Alternative] | None:
    """The alternatives one term becomes (``!=`` and ``arch`` bounds split into several);
    None when the term is left out, ``[]`` when the toolkit skips all its factors."""
    expanded: list[Alternative] = [[]]
    known = 0
    for factor in factors:
        prop, op, value = _parse_factor(name, factor)
        if prop == "brand":
            if brand == BRAND_OMIT:
                not_expressed.append(f"{name}: {term!a} left out (GFD publishes no brand)")
                return None
            not_expressed.append(f"{name}: {factor!a} dropped from {term!a} (GFD publishes "
                                 "no brand)")
            known += 1
            continue
        if prop not in ("cuda", "driver", "arch"):
            not_expressed.append(f"{name}: {factor!a} skipped, as the toolkit skips "
                                 "properties it does not know")
            continue
        known += 1
        choices = _factor_alternatives(prop, op, value)
        expanded = [alt + choice for alt in expanded for choice in choices]
    return expanded if known else []


def _parse_factor(name: str, factor: str) -> tuple[str, str, str]:
    """``factory.parse``: PROPERTY, OP, VALUE; a bad version is the toolkit's error too."""
    end = next((i for i, ch in enumerate(factor) if ch in "<>=!"), -1)
    if end == -1:
        raise SpecError(f"{name}: invalid constraint {factor!a} (no operator)", path=name)
    prop, rest = factor[:end], factor[end:]
    op = next((o for o in _OPERATORS if rest.startswith(o)), "")
    value = rest[len(op):]
    if prop in ("cuda", "driver", "arch") and not _VERSION.fullmatch(value):
        raise SpecError(f"{name}: {factor!a}: {value!a} is not a version", path=name)
    if not op:
        raise SpecError(f"{name}: invalid operator in {factor!a}", path=name)
    return prop, op, value


def _factor_alternatives(prop: str, op: str, value: str) -> list[Alternative]:
    """One factor as ORed alternatives of ANDed (key, expression) pairs."""
    if prop == "arch":
        return _arch_alternatives(op, value)
    key = CUDA_KEY if prop == "cuda" else DRIVER_KEY
    plain = value.removeprefix("v")
    if op in _VERSION_OPS:
        return [[(key, _version_expr(_VERSION_OPS[op], plain))]]
    if op == "=":
        return [[(key, _version_expr("GeLe", plain, plain))]]
    return [[(key, _version_expr("Lt", plain))], [(key, _version_expr("Gt", plain))]]  # !=


def _version_expr(op: str, *values: str) -> Expression:
    return {"op": op, "value": list(values), "type": "version"}


def _arch_alternatives(op: str, value: str) -> list[Alternative]:
    """A compute-capability bound over GFD's integer ``compute.major`` and ``compute.minor``.

    Integer operators only (``Gt``/``Lt``/``In``), which every NFD release accepts; ``>= M.m``
    is ``major > M`` or ``major = M and minor > m-1``.
    """
    match = _VERSION.fullmatch(value)
    assert match is not None  # checked by _parse_factor
    major, minor = int(match.group(1)), int(match.group(2) or 0)

    def major_is(o: str, n: int) -> tuple[str, Expression]:
        return (COMPUTE_MAJOR, {"op": o, "value": [str(n)]})

    def minor_is(o: str, n: int) -> tuple[str, Expression]:
        return (COMPUTE_MINOR, {"op": o, "value": [str(n)]})

    same = major_is("In", major)
    if op == "=":
        return [[same, minor_is("In", minor)]]
    if op == "!=":
        return [[major_is("Lt", major)], [major_is("Gt", major)], [same, minor_is("NotIn", minor)]]
    if op in (">=", ">"):
        floor = minor - 1 if op == ">=" else minor
        return [[major_is("Gt", major)], [same] + ([minor_is("Gt", floor)] if floor >= 0 else [])]
    ceiling = minor + 1 if op == "<=" else minor
    return [[major_is("Lt", major)]] + ([[same, minor_is("Lt", ceiling)]] if ceiling > 0 else [])


def _match_features(alternative: Alternative) -> dict[str, Any]:
    """ANDed pairs as NFD matchFeatures: one term per key use (a key may be bounded twice)."""
    terms: list[dict[str, Expression]] = []
    for key, expression in alternative:
        target = next((t for t in terms if key not in t), None)
        if target is None:
            target = {}
            terms.append(target)
        target[key] = expression
    return {"matchFeatures": [{"feature": FEATURE, "matchExpressions": t} for t in terms]}


MAX_CONFIG_BYTES = 4 * 1024 * 1024  # image configs are kilobytes; history can make them larger


def env_from_config(data: bytes, source: str) -> dict[str, str]:
    """The ``Env`` of an OCI image config (``config.Env``), a ``docker inspect`` array
    (``[0].Config.Env``) or ``skopeo inspect --config`` output, as a mapping."""
    import json

    if len(data) > MAX_CONFIG_BYTES:
        raise SpecError(f"over the {MAX_CONFIG_BYTES}-byte limit of an image config",
                        source=source)
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise SpecError(f"not an image config (JSON): {exc}", source=source) from None
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]  # docker inspect prints an array
    config = None
    if isinstance(obj, dict):
        config = obj.get("config") if isinstance(obj.get("config"), dict) else obj.get("Config")
    if not isinstance(config, dict):
        raise SpecError("not an image config: no 'config' object", source=source)
    entries = config.get("Env") or []
    if not isinstance(entries, list):
        raise SpecError("config.Env is not a list", source=source, path="config.Env")
    return env_from_list(entries)
