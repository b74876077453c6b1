"""Data-driven verdict cases: YAML files of (spec, features, expected outcome).

Each case file holds ``source`` (where the cases come from, e.g. the NFD Go
test they translate) and ``cases``, a list of mappings:

- ``name``: unique within the file;
- the spec, in one of three forms: ``spec`` (a whole compatibility spec),
  ``rules`` (the rules of a single compatibility set) or ``term`` (one
  ``matchFeatures`` term of a single rule named ``r``);
- ``features``: NFD's ``{flags, attributes, instances}`` document (or a NodeFeature);
- ``exit``: what ``nfd compat validate-node`` must return: 0 compatible,
  1 not compatible, 2 the spec is rejected (NFD's engine returns an error);
- optional ``tags`` (the ``--tags`` values), ``report`` (NFD's
  ``--output-json`` document, compared exactly), ``vars`` (the vars the first
  rule produces), ``elements`` (the matched elements of the first rule's first
  ``matchFeatures`` term, NFD's template input), ``error`` (a substring of the
  one-line error) and ``cli`` (also run through the real command line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nfd.api import CompatSpec, Features, load_features_document, parse_spec
from nfd.compat import ValidationResult, nfd_report, validate_features
from nfd.errors import SpecError
from nfd.match import RegexCache, UnknownTagError, execute_group_rule

_KNOWN_KEYS = frozenset(
    ("name", "spec", "rules", "term", "features", "exit", "tags", "report", "vars",
     "elements", "error", "cli", "note")
)


# Field order of NFD's Go structs (status.go, types.go): json.Marshal follows it.
_GO_ORDER = {
    "compat": ("rules", "description", "weight", "tag"),
    "rule": ("name", "isMatch", "matchedExpressions", "matchedAny"),
    "any": ("matchedExpressions",),
    "status": ("feature", "name", "expression", "matcherType", "isMatch"),
    "expression": ("op", "value", "type"),
}


def _ordered(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    order = _GO_ORDER[kind]
    assert set(obj) <= set(order), f"unexpected {kind} fields {set(obj) - set(order)}"
    return {k: obj[k] for k in order if k in obj}


def _statuses(items: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    out = []
    for item in items:
        status = _ordered(item, "status")
        status["expression"] = _ordered(status["expression"], "expression")
        out.append(status)
    return out


def go_ordered(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An expected report written in any key order, in the order NFD marshals it."""
    out = []
    for compat in report:
        c = _ordered(compat, "compat")
        if c["rules"] is not None:
            rules = []
            for rule in c["rules"]:
                r = _ordered(rule, "rule")
                if "matchedExpressions" in r:
                    r["matchedExpressions"] = _statuses(r["matchedExpressions"])
                if "matchedAny" in r:
                    r["matchedAny"] = [
                        {"matchedExpressions": _statuses(_ordered(a, "any")["matchedExpressions"])}
                        for a in r["matchedAny"]
                    ]
                rules.append(r)
            c["rules"] = rules
        out.append(c)
    return out


@dataclass(frozen=True)
class Case:
    """One verdict case, its spec already expanded to a whole document."""

    file: str
    name: str
    spec: dict[str, Any]
    features: dict[str, Any]
    exit: int
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def _spec_doc(raw: dict[str, Any]) -> dict[str, Any]:
    forms = [k for k in ("spec", "rules", "term") if k in raw]
    assert len(forms) == 1, f"case {raw.get('name')!r} needs exactly one of spec/rules/term"
    if "spec" in raw:
        spec: dict[str, Any] = raw["spec"]
        return spec
    rules = raw["rules"] if "rules" in raw else [{"name": "r", "matchFeatures": [raw["term"]]}]
    return {"version": "v1alpha1", "compatibilities": [{"rules": rules}]}


def load_cases(directory: Path) -> list[Case]:
    """Every case of every ``*.yaml`` file in ``directory`` (names checked unique)."""
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc.get("source"), f"{path.name}: say where the cases come from"
        seen: set[str] = set()
        for raw in doc["cases"]:
            unknown = set(raw) - _KNOWN_KEYS
            assert not unknown, f"{path.name}: {raw.get('name')}: unknown keys {unknown}"
            assert raw["name"] not in seen, f"{path.name}: duplicate case {raw['name']!r}"
            assert raw["exit"] in (0, 1, 2), f"{path.name}: {raw['name']}: bad exit"
            seen.add(raw["name"])
            cases.append(Case(path.name, raw["name"], _spec_doc(raw),
                              raw.get("features") or {}, raw["exit"], raw))
    return cases


@dataclass(frozen=True)
class Outcome:
    """What the library made of a case: a result, or the error it raised."""

    spec: CompatSpec | None
    features: Features | None
    result: ValidationResult | None
    error: SpecError | None
    unknown_tags: UnknownTagError | None = None

    @property
    def exit(self) -> int:
        if self.error is not None or self.result is None:
            return 2
        return 0 if self.result.compatible else 1


def run_case(case: Case) -> Outcome:
    """Parse, validate, and capture any located error, as the CLI does."""
    spec: CompatSpec | None = None
    features: Features | None = None
    try:
        spec = parse_spec(case.spec, "spec.yaml")
        features = load_features_document(case.features, source="features.json")
        tags = case.raw.get("tags") or []
        return Outcome(spec, features, validate_features(spec, features, tags), None)
    except SpecError as exc:
        return Outcome(spec, features, None, exc)
    except UnknownTagError as exc:
        # What NFD makes of it (no set, not compatible); check_case sees the refusal too.
        return Outcome(spec, features, ValidationResult([]), None, exc)


def check_case(case: Case) -> None:
    """Assert every expectation the case states."""
    outcome = run_case(case)
    if outcome.unknown_tags is not None:
        # A deliberate difference from NFD: where the tags select no set, NFD reports
        # an empty list and exit 1, which a CI gate reads as "incompatible"; we refuse
        # the tags (exit 2) and name the spec's. The case must be NFD's empty report.
        assert case.exit == 1 and case.raw.get("report", []) == [], case.raw
        return
    detail = f" (error: {outcome.error})" if outcome.error else ""
    assert outcome.exit == case.exit, f"exit {outcome.exit}, want {case.exit}{detail}"
    if "error" in case.raw:
        assert outcome.error is not None
        assert case.raw["error"] in str(outcome.error)
    if "report" in case.raw:
        assert outcome.result is not None
        # Compared as JSON text so that key order (Go's struct order) counts too.
        got = json.dumps(nfd_report(outcome.result))
        assert got == json.dumps(go_ordered(case.raw["report"]))
    if "vars" in case.raw or "elements" in case.raw:
        _check_first_rule(case, outcome)


def _check_first_rule(case: Case, outcome: Outcome) -> None:
    assert outcome.spec is not None and outcome.features is not None
    rule = outcome.spec.compatibilities[0].rules[0]
    result = execute_group_rule(rule, outcome.features.copy(), RegexCache())
    if "vars" in case.raw:
        assert result.vars == case.raw["vars"]
    if "elements" in case.raw:
        assert result.match_features is not None
        term = rule.match_features[0].feature
        domain, _, short = term.partition(".")
        if not _:
            domain, short = term.lower(), ""
        got = result.match_features.matched_features[domain].get(short, [])
        assert got == case.raw["elements"]
