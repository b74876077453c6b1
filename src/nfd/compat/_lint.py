"""Linting a compatibility spec: what NFD would reject at match time, and likely mistakes.

Errors are what makes NFD's engine fail (unknown op, wrong value count, bad
regexp, non-numbers, unsupported template) or a spec that cannot mean what was
meant (a set or rule with nothing to match). Warnings are legal but suspicious.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nfd._go.regexp import RegexpBudgetError
from nfd._go.strconv import quote as go_quote
from nfd.api import (
    CompatSpec,
    FeatureMatcherTerm,
    GroupRule,
    MatchExpression,
    loads_spec,
)
from nfd.api._convert import join_path
from nfd.errors import EvaluationError, SpecError
from nfd.match import OPS, RegexCache, go_atoi, parse_version

ERROR = "error"
WARNING = "warning"

# Feature names NFD's sources publish (feature-sources.md), plus rule back-references.
KNOWN_FEATURES = frozenset({
    "cpu.coprocessor", "cpu.cpuid", "cpu.cstate", "cpu.model", "cpu.pstate", "cpu.rdt",
    "cpu.security", "cpu.sst", "cpu.topology", "kernel.config", "kernel.enabledmodule",
    "kernel.kvm", "kernel.loadedmodule", "kernel.selinux", "kernel.version", "local.feature",
    "local.label", "memory.hugepages", "memory.numa", "memory.nv", "memory.swap",
    "network.device", "network.virtual", "pci.device", "rule.matched", "storage.block",
    "system.dmiid", "system.name", "system.osrelease", "usb.device",
})
FLAG_FEATURES = frozenset({"kernel.enabledmodule", "kernel.loadedmodule"})
_NO_VALUE = frozenset({"", "Exists", "DoesNotExist", "IsTrue", "IsFalse"})
_COMPARE = {"Gt": 1, "Ge": 1, "Lt": 1, "Le": 1, "GtLt": 2, "GeLe": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding, located by JSON path."""

    severity: str
    path: str
    message: str

    def as_error(self, source: str | None) -> SpecError:
        return SpecError(self.message, source=source, path=self.path)

    def text(self, source: str | None) -> str:
        text = str(self.as_error(source))
        return text if self.severity == ERROR else f"warning: {text}"


class _Linter:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.regexes = RegexCache()
        self.regex_budget_spent = False

    def error(self, path: str, message: str) -> None:
        self.findings.append(Finding(ERROR, path, message))

    def warn(self, path: str, message: str) -> None:
        self.findings.append(Finding(WARNING, path, message))

    def expression(self, expr: MatchExpression, path: str, flag_feature: bool) -> None:
        op, values = expr.op, expr.value
        if op not in OPS and op != "":
            self.error(join_path(path, "op"),
                       f"unknown op {go_quote(op)} (expected one of {', '.join(OPS)})")
            return
        if op == "":
            self.warn(join_path(path, "op"), "no op: the expression matches anything")
        if op in _NO_VALUE:
            if values:
                self.error(join_path(path, "value"), f"must be empty for op {op or '(none)'}")
        elif op in ("In", "NotIn", "InRegexp"):
            if not values:
                self.error(join_path(path, "value"), f"must not be empty for op {op}")
            if flag_feature:
                self.warn(join_path(path, "op"),
                          f"op {op} never matches a flag feature (flags have no values); "
                          "use Exists")
        if op == "InRegexp":
            for i, pattern in enumerate(values):
                if self.regex_budget_spent:
                    return
                try:
                    compiled = self.regexes.compile(pattern)  # the spec's one RE2 budget
                except RegexpBudgetError as exc:
                    self.error(join_path(join_path(path, "value"), i), exc.message)
                    self.regex_budget_spent = True  # said once, where it was crossed
                    return
                if compiled is None:
                    self.error(join_path(join_path(path, "value"), i),
                               f"invalid regular expression {pattern!r}")
        if op in _COMPARE:
            self.comparison(expr, path)
        elif expr.type:
            self.warn(join_path(path, "type"), f"type is ignored for op {op}")

    def comparison(self, expr: MatchExpression, path: str) -> None:
        want = _COMPARE[expr.op]
        if len(expr.value) != want:
            count = "one value" if want == 1 else "two values"
            self.error(join_path(path, "value"), f"op {expr.op} takes exactly {count}, "
                       f"got {len(expr.value)}")
            return
        if expr.type not in ("", "version"):
            self.error(join_path(path, "type"),
                       f"unknown type {expr.type!r} (expected \"version\" or nothing)")
            return
        parse = parse_version if expr.type == "version" else go_atoi
        kind = "version" if expr.type == "version" else "integer"
        parsed: list[Any] = []
        for i, value in enumerate(expr.value):
            number = parse(value)
            if number is None:
                self.error(join_path(join_path(path, "value"), i), f"not a {kind}: {value!r}")
                return
            parsed.append(number)
        if want == 2 and expr.type == "" and parsed[0] >= parsed[1]:
            self.error(join_path(path, "value"), "the first bound must be less than the second")

    def term(self, term: FeatureMatcherTerm, path: str, defined_vars: set[str]) -> None:
        feature = term.feature
        fpath = join_path(path, "feature")
        if not feature:
            self.error(fpath, "feature name is empty")
        elif feature != feature.lower():
            self.warn(fpath, f"write {feature.lower()!r}: NFD looks features up in lower case, "
                      "and its report compares names as written, showing FAIL")
        elif feature not in KNOWN_FEATURES and "." in feature:
            self.warn(fpath, f"unknown feature {feature!r} (no NFD source publishes it)")
        elif "." not in feature:
            self.warn(fpath, f"feature {feature!r} is not of the form <source>.<feature>")
        if term.match_expressions is None and term.match_name is None:
            self.error(path, "term has neither matchExpressions nor matchName")
        flag = feature.lower() in FLAG_FEATURES
        for name, expr in (term.match_expressions or {}).items():
            epath = join_path(join_path(path, "matchExpressions"), name)
            self.expression(expr, epath, flag)
            if feature.lower() == "rule.matched" and name not in defined_vars and expr.op not in (
                    "DoesNotExist", ""):
                self.warn(epath, f"no earlier rule sets var {name!r}")
        if term.match_name is not None:
            self.expression(term.match_name, join_path(path, "matchName"), False)

    def rule(self, rule: GroupRule, path: str, defined_vars: set[str]) -> None:
        if not rule.match_features and not rule.match_any:
            self.error(path, "rule has neither matchFeatures nor matchAny: it always matches")
        for i, term in enumerate(rule.match_features):
            self.term(term, join_path(join_path(path, "matchFeatures"), i), defined_vars)
        for j, elem in enumerate(rule.match_any):
            epath = join_path(join_path(path, "matchAny"), j)
            if not elem.match_features:
                self.error(epath, "matchAny alternative has no matchFeatures")
            for i, term in enumerate(elem.match_features):
                self.term(term, join_path(join_path(epath, "matchFeatures"), i), defined_vars)
        if rule.vars_template:
            from nfd.match._template import compile_template

            try:
                compile_template(rule.vars_template)
            except EvaluationError as exc:
                self.error(join_path(path, "varsTemplate"), exc.message)
        defined_vars.update(rule.vars)

    def spec(self, spec: CompatSpec) -> None:
        defined_vars: set[str] = set()
        for c, compat in enumerate(spec.compatibilities):
            cpath = join_path("compatibilities", c)
            if not compat.rules:
                self.error(join_path(cpath, "rules"), "compatibility set has no rules")
            if compat.weight and not 1 <= compat.weight <= 100:
                self.warn(join_path(cpath, "weight"),
                          f"weight {compat.weight} is outside Kubernetes' 1..100 for "
                          "preferred node affinity")
            names: set[str] = set()
            for r, rule in enumerate(compat.rules):
                rpath = join_path(join_path(cpath, "rules"), r)
                if rule.name and rule.name in names:
                    self.warn(join_path(rpath, "name"), f"duplicate rule name {rule.name!r}")
                names.add(rule.name)
                self.rule(rule, rpath, defined_vars)


def lint_spec(spec: CompatSpec) -> list[Finding]:
    """Every finding for ``spec``, errors and warnings, in document order."""
    linter = _Linter()
    linter.spec(spec)
    return linter.findings


def lint_spec_bytes(data: bytes, source: str) -> CompatSpec:
    """Parse and lint spec text; raise the first error as a located :class:`SpecError`."""
    spec = loads_spec(data, source)
    for finding in lint_spec(spec):
        if finding.severity == ERROR:
            raise finding.as_error(source)
    return spec
