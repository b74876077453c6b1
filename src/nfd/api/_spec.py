"""The image compatibility spec ``v1alpha1`` and NFD's GroupRule shapes.

Mirrors ``api/image-compatibility/v1alpha1/spec.go`` and the GroupRule part of
``api/nfd/v1alpha1/types.go``. Parsing is structural and strict: wrong types,
unknown keys, missing required fields and a wrong ``version`` are
:class:`~nfd.errors.SpecError` with the JSON path. Whether an operator or value
makes sense is NFD's engine's business at match time (and the linter's); the
model keeps what was written, so verdicts match NFD's exactly.
"""

from __future__ import annotations

from nfd._jsondoc import join_path, mapping, sequence
from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.api._convert import (
    check_keys,
    integer,
    key_str,
    scalar_str,
    string_map,
)
from nfd.api._yaml import LoadLimits, load_file, loads
from nfd.errors import SpecError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

SPEC_VERSION = "v1alpha1"
ARTIFACT_TYPE = "application/vnd.nfd.image-compatibility.v1alpha1"
SPEC_MEDIA_TYPE = "application/vnd.nfd.image-compatibility.spec.v1alpha1+yaml"


class MatchExpression(FrozenRecord):
    """One ``{op, value, type}`` expression; ``op`` is kept verbatim (checked at match time)."""

    __slots__ = ("op", "type", "value")
    op: str
    value: tuple[str, ...]
    type: str

    def __init__(self, op: str, value: tuple[str, ...] = (), type: str = "") -> None:
        set_field(self, "op", op)
        set_field(self, "value", value)
        set_field(self, "type", type)

    def __str__(self) -> str:
        """NFD's ``MatchExpression.String()``, as shown in its report table."""
        from nfd._go.strconv import quote as go_quote

        if not self.value:
            return f"{{op: {go_quote(self.op)}}}"
        values = " ".join(go_quote(v) for v in self.value)
        return f"{{op: {go_quote(self.op)}, value: [{values}]}}"

    def text_with_type(self) -> str:
        """NFD's text plus the ``type`` it leaves out, so that a version comparison
        (``type: "version"``) never reads like an integer one; in every report."""
        text = str(self)
        return f'{text[:-1]}, type: "{self.type}"}}' if self.type else text

    def to_obj(self) -> dict[str, Any]:
        """JSON shape with Go's ``omitempty`` on value and type."""
        obj: dict[str, Any] = {"op": self.op}
        if self.value:
            obj["value"] = list(self.value)
        if self.type:
            obj["type"] = self.type
        return obj


class FeatureMatcherTerm(FrozenRecord):
    """A ``matchFeatures`` term. ``None`` for a matcher means Go's nil pointer (not written)."""

    __slots__ = ("feature", "match_expressions", "match_name")
    feature: str
    match_expressions: dict[str, MatchExpression] | None
    match_name: MatchExpression | None

    def __init__(self, feature: str, match_expressions: dict[str, MatchExpression] | None = None,
                 match_name: MatchExpression | None = None) -> None:
        set_field(self, "feature", feature)
        set_field(self, "match_expressions", match_expressions)
        set_field(self, "match_name", match_name)

    def to_obj(self) -> dict[str, Any]:
        """The term as a document (nil matchers left out, an empty ``{}`` kept)."""
        obj: dict[str, Any] = {"feature": self.feature}
        if self.match_expressions is not None:
            obj["matchExpressions"] = {k: e.to_obj() for k, e in self.match_expressions.items()}
        if self.match_name is not None:
            obj["matchName"] = self.match_name.to_obj()
        return obj


class MatchAnyElem(FrozenRecord):
    """One alternative of ``matchAny``."""

    __slots__ = ("match_features",)
    match_features: tuple[FeatureMatcherTerm, ...]

    def __init__(self, match_features: tuple[FeatureMatcherTerm, ...] = ()) -> None:
        set_field(self, "match_features", match_features)


class GroupRule(FrozenRecord):
    """NFD's GroupRule: the rule type of NodeFeatureGroup and of compatibility sets.

    ``vars`` defaults to a new empty mapping.
    """

    __slots__ = ("match_any", "match_features", "name", "vars", "vars_template")
    name: str
    vars: dict[str, str]
    vars_template: str
    match_features: tuple[FeatureMatcherTerm, ...]
    match_any: tuple[MatchAnyElem, ...]

    def __init__(self, name: str = "", vars: dict[str, str] | None = None,
                 vars_template: str = "", match_features: tuple[FeatureMatcherTerm, ...] = (),
                 match_any: tuple[MatchAnyElem, ...] = ()) -> None:
        set_field(self, "name", name)
        set_field(self, "vars", {} if vars is None else vars)
        set_field(self, "vars_template", vars_template)
        set_field(self, "match_features", match_features)
        set_field(self, "match_any", match_any)


class Compatibility(FrozenRecord):
    """One compatibility set: rules that must all match, with weight, tag and description."""

    __slots__ = ("description", "rules", "tag", "weight")
    rules: tuple[GroupRule, ...]
    weight: int
    tag: str
    description: str

    def __init__(self, rules: tuple[GroupRule, ...] = (), weight: int = 0, tag: str = "",
                 description: str = "") -> None:
        set_field(self, "rules", rules)
        set_field(self, "weight", weight)
        set_field(self, "tag", tag)
        set_field(self, "description", description)


class CompatSpec(FrozenRecord):
    """A whole compatibility spec document."""

    __slots__ = ("compatibilities", "source", "version")
    version: str
    compatibilities: tuple[Compatibility, ...]
    source: str | None

    def __init__(self, version: str, compatibilities: tuple[Compatibility, ...],
                 source: str | None = None) -> None:
        set_field(self, "version", version)
        set_field(self, "compatibilities", compatibilities)
        set_field(self, "source", source)


def _expression(value: Any, path: str) -> MatchExpression:
    obj = mapping(value, path)
    obj = check_keys(obj, ("op", "value", "type"), path)
    op = scalar_str(obj.get("op"), join_path(path, "op"), allow_null=True)
    raw_values = obj.get("value")
    values: tuple[str, ...] = ()
    if raw_values is not None:
        vpath = join_path(path, "value")
        values = tuple(
            scalar_str(v, join_path(vpath, i), allow_null=True)
            for i, v in enumerate(sequence(raw_values, vpath))
        )
    vtype = scalar_str(obj.get("type"), join_path(path, "type"), allow_null=True)
    return MatchExpression(op=op, value=values, type=vtype)


def _expression_set(value: Any, path: str) -> dict[str, MatchExpression]:
    out: dict[str, MatchExpression] = {}
    for key, item in mapping(value, path).items():
        name = key_str(key, join_path(path, str(key)))
        out[name] = _expression(item, join_path(path, name))
    return out


def _term(value: Any, path: str) -> FeatureMatcherTerm:
    obj = mapping(value, path)
    obj = check_keys(obj, ("feature", "matchExpressions", "matchName"), path)
    if "feature" not in obj:
        raise SpecError("missing required field feature", path=join_path(path, "feature"))
    feature = scalar_str(obj["feature"], join_path(path, "feature"))
    expressions = obj.get("matchExpressions")
    name = obj.get("matchName")
    return FeatureMatcherTerm(
        feature=feature,
        match_expressions=None
        if expressions is None
        else _expression_set(expressions, join_path(path, "matchExpressions")),
        match_name=None if name is None else _expression(name, join_path(path, "matchName")),
    )


def _feature_matcher(value: Any, path: str) -> tuple[FeatureMatcherTerm, ...]:
    if value is None:
        return ()
    return tuple(_term(t, join_path(path, i)) for i, t in enumerate(sequence(value, path)))


def _match_any(value: Any, path: str) -> tuple[MatchAnyElem, ...]:
    if value is None:
        return ()
    out = []
    for i, elem in enumerate(sequence(value, path)):
        epath = join_path(path, i)
        obj = mapping(elem, epath)
        obj = check_keys(obj, ("matchFeatures",), epath)
        out.append(MatchAnyElem(_feature_matcher(obj.get("matchFeatures"),
                                                 join_path(epath, "matchFeatures"))))
    return tuple(out)


def _group_rule(value: Any, path: str) -> GroupRule:
    obj = mapping(value, path)
    obj = check_keys(obj, ("name", "vars", "varsTemplate", "matchFeatures", "matchAny"), path)
    return GroupRule(
        name=scalar_str(obj.get("name"), join_path(path, "name"), allow_null=True),
        vars=string_map(obj.get("vars"), join_path(path, "vars")),
        vars_template=scalar_str(
            obj.get("varsTemplate"), join_path(path, "varsTemplate"), allow_null=True
        ),
        match_features=_feature_matcher(obj.get("matchFeatures"), join_path(path, "matchFeatures")),
        match_any=_match_any(obj.get("matchAny"), join_path(path, "matchAny")),
    )


def _compatibility(value: Any, path: str) -> Compatibility:
    obj = mapping(value, path)
    obj = check_keys(obj, ("rules", "weight", "tag", "description"), path)
    if "rules" not in obj:
        raise SpecError("missing required field rules", path=join_path(path, "rules"))
    rules_path = join_path(path, "rules")
    raw_rules = obj["rules"]
    rules = () if raw_rules is None else tuple(
        _group_rule(r, join_path(rules_path, i)) for i, r in enumerate(sequence(raw_rules,
                                                                                 rules_path))
    )
    weight = obj.get("weight")
    return Compatibility(
        rules=rules,
        weight=0 if weight is None else integer(weight, join_path(path, "weight")),
        tag=scalar_str(obj.get("tag"), join_path(path, "tag"), allow_null=True),
        description=scalar_str(obj.get("description"), join_path(path, "description"),
                               allow_null=True),
    )


def parse_spec(obj: Any, source: str | None = None) -> CompatSpec:
    """Validate a decoded document as a compatibility spec; errors name ``source`` and the path."""
    try:
        doc = mapping(obj, "(document)")
        doc = check_keys(doc, ("version", "compatibilities"), "")
        if "version" not in doc:
            raise SpecError(f"missing required field version (expected {SPEC_VERSION})",
                            path="version")
        version = doc["version"]
        if version != SPEC_VERSION:
            raise SpecError(f"unsupported version {version!r} (expected {SPEC_VERSION})",
                            path="version")
        if "compatibilities" not in doc:
            raise SpecError("missing required field compatibilities", path="compatibilities")
        compats = sequence(doc["compatibilities"], "compatibilities")
        if not compats:
            raise SpecError("must list at least one compatibility set", path="compatibilities")
        return CompatSpec(
            version=version,
            compatibilities=tuple(
                _compatibility(c, join_path("compatibilities", i)) for i, c in enumerate(compats)
            ),
            source=source,
        )
    except SpecError as exc:
        raise exc.located(source) if source else exc from None


def loads_spec(text: str | bytes, source: str | None = None,
               limits: LoadLimits | None = None) -> CompatSpec:
    """Parse spec text (YAML or JSON)."""
    return parse_spec(loads(text, source=source, limits=limits), source)


def load_spec(path: str | Path, limits: LoadLimits | None = None) -> CompatSpec:
    """Read and parse a spec file (``-`` for standard input)."""
    return parse_spec(load_file(path, limits=limits), str(path))


def _rule_to_obj(rule: GroupRule) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": rule.name}
    if rule.vars:
        obj["vars"] = dict(rule.vars)
    if rule.vars_template:
        obj["varsTemplate"] = rule.vars_template
    if rule.match_features:
        obj["matchFeatures"] = [t.to_obj() for t in rule.match_features]
    if rule.match_any:
        obj["matchAny"] = [
            {"matchFeatures": [t.to_obj() for t in e.match_features]} for e in rule.match_any
        ]
    return obj


def spec_to_obj(spec: CompatSpec) -> dict[str, Any]:
    """The spec as a plain document (for YAML/JSON output and round trips)."""
    compats = []
    for c in spec.compatibilities:
        obj: dict[str, Any] = {}
        if c.description:
            obj["description"] = c.description
        if c.weight:
            obj["weight"] = c.weight
        if c.tag:
            obj["tag"] = c.tag
        obj["rules"] = [_rule_to_obj(r) for r in c.rules]
        compats.append(obj)
    return {"version": spec.version, "compatibilities": compats}
