"""Linting a compatibility spec: what NFD would reject at match time, and likely mistakes.

Errors are what makes NFD's engine fail (unknown op, wrong value count, bad
regexp, non-numbers, unsupported template) and what makes a compatibility set
unsatisfiable on every node: a rule that needs an element name or value NFD's
sources never publish (:mod:`nfd.compat._vocabulary`: ``vfio-pci`` in
``kernel.loadedmodule``, PCI vendor ``10DE``). Everything NFD evaluates and some node
could match is at most a warning: unfamiliar names, a set or rule with nothing to
match (it matches every node), an impossible value beside possible ones.

An error is *invalid* when NFD's own engine rejects the expression on any node
that has the element (asked of the engine itself, so lint and engine cannot
disagree): :func:`check_spec` refuses such a spec up front, whatever the node has.
"""

from __future__ import annotations

from nfd._go.strconv import atoi as go_atoi
from nfd._go.strconv import quote as go_quote
from nfd._jsondoc import join_path
from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd.api import (
    CompatSpec,
    FeatureMatcherTerm,
    GroupRule,
    MatchExpression,
    loads_spec,
)
from nfd.errors import EvaluationError, SpecError
from nfd.match import OPS, RegexCache, evaluate, parse_version

if TYPE_CHECKING:
    from typing import Any

ERROR = "error"
WARNING = "warning"

FLAG_FEATURES = frozenset({"kernel.enabledmodule", "kernel.loadedmodule"})
# Ops that take no value, and comparisons with their value count (NFD's expression.go);
# `nfd compat explain` prints them from here.
NO_VALUE_OPS = frozenset({"", "Exists", "DoesNotExist", "IsTrue", "IsFalse"})
COMPARE_OPS = {"Gt": 1, "Ge": 1, "Lt": 1, "Le": 1, "GtLt": 2, "GeLe": 2}



class Finding(FrozenRecord):
    """One lint finding, located by JSON path; ``invalid``: NFD's engine rejects it on any
    node (see :func:`check_spec`)."""

    __slots__ = ("invalid", "message", "path", "severity")
    severity: str
    path: str
    message: str
    invalid: bool

    def __init__(self, severity: str, path: str, message: str, invalid: bool = False) -> None:
        set_field(self, "severity", severity)
        set_field(self, "path", path)
        set_field(self, "message", message)
        set_field(self, "invalid", invalid)

    def as_error(self, source: str | None) -> SpecError:
        return SpecError(self.message, source=source, path=self.path)

    def text(self, source: str | None) -> str:
        return f"{self.severity}: {self.as_error(source)}"


class _Linter:
    def __init__(self, *, vocabulary: bool = True) -> None:
        self.findings: list[Finding] = []
        self.regexes = RegexCache()
        self.regex_budget_spent = False
        self.vocabulary = vocabulary

    def error(self, path: str, message: str, *, invalid: bool = False) -> None:
        self.findings.append(Finding(ERROR, path, message, invalid))

    def warn(self, path: str, message: str) -> None:
        self.findings.append(Finding(WARNING, path, message))

    def expression(self, expr: MatchExpression, path: str, flag_feature: bool) -> None:
        before = len(self.findings)
        budget_spent = self.regex_budget_spent
        self.expression_checks(expr, path, flag_feature)
        if budget_spent and expr.op == "InRegexp":
            return  # the RE2 budget was reported once, where it was crossed
        rejection = _engine_rejection(expr, self.regexes)
        if rejection is None:
            return
        found = self.findings[before:]
        if not any(f.severity == ERROR for f in found):
            found.append(Finding(ERROR, path, rejection))  # a rule lint lacks: still located
        self.findings[before:] = [Finding(f.severity, f.path, f.message, invalid=True)
                                  if f.severity == ERROR else f for f in found]

    def expression_checks(self, expr: MatchExpression, path: str, flag_feature: bool) -> None:
        op, values = expr.op, expr.value
        if op not in OPS and op != "":
            self.error(join_path(path, "op"),
                       f"unknown op {go_quote(op)} (expected one of {', '.join(OPS)})")
            return
        if op == "":
            self.warn(join_path(path, "op"), "no op: the expression matches anything")
        if op in NO_VALUE_OPS:
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
            from nfd._go.regexp import RegexpBudgetError  # here: most specs have no regexp

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
                               f"invalid regular expression {go_quote(pattern)}"
                               f"{_regexp_reason(pattern)}")
        if op in COMPARE_OPS:
            self.comparison(expr, path)
        elif expr.type:
            self.warn(join_path(path, "type"), f"type is ignored for op {op}")

    def comparison(self, expr: MatchExpression, path: str) -> None:
        want = COMPARE_OPS[expr.op]
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
        article = "a" if kind == "version" else "an"
        parsed: list[Any] = []
        for i, value in enumerate(expr.value):
            number = parse(value)
            if number is None:
                hint = ""
                if kind == "integer" and parse_version(value) is not None:
                    # NFD compares integers unless the expression says type: version.
                    hint = ' (a version? add type: "version" to compare it as one)'
                self.error(join_path(join_path(path, "value"), i),
                           f"not {article} {kind}: {go_quote(value)}{hint}")
                return
            parsed.append(number)
        if want == 2 and expr.type == "" and parsed[0] >= parsed[1]:
            self.error(join_path(path, "value"), "the first bound must be less than the second")

    def term(self, term: FeatureMatcherTerm, path: str, defined_vars: set[str]) -> list[int]:
        """Lint one term; the indexes of the findings that say it can never match."""
        never: list[int] = []
        feature = term.feature
        fpath = join_path(path, "feature")
        if not feature:
            self.error(fpath, "feature name is empty")
        elif feature != feature.lower():
            self.warn(fpath, f"write {feature.lower()!r}: NFD looks features up in lower case, "
                      "and its report compares names as written, showing FAIL")
        elif self.vocabulary:
            self.feature_name(feature, fpath)
        if term.match_expressions is None and term.match_name is None:
            self.warn(path, "term has neither matchExpressions nor matchName: it matches any "
                      "node that has the feature")
        flag = feature.lower() in FLAG_FEATURES
        for name, expr in (term.match_expressions or {}).items():
            epath = join_path(join_path(path, "matchExpressions"), name)
            self.expression(expr, epath, flag)
            if self.vocabulary:
                never += self.element(feature, name, expr, epath)
            if feature.lower() == "rule.matched" and name not in defined_vars and expr.op not in (
                    "DoesNotExist", ""):
                self.warn(epath, f"no earlier rule sets var {name!r}")
        if term.match_name is not None:
            npath = join_path(path, "matchName")
            self.expression(term.match_name, npath, False)
            if self.vocabulary and term.match_name.op in ("In", "NotIn"):
                never += self.element_names(feature, term.match_name,
                                            join_path(npath, "value"))
        return never

    def feature_name(self, feature: str, path: str) -> None:
        from nfd._suggest import did_you_mean
        from nfd.compat._vocabulary import KNOWN_FEATURES

        if "." not in feature:
            self.warn(path, f"feature {feature!r} is not of the form <source>.<feature>"
                      f"{did_you_mean(feature, KNOWN_FEATURES)}")
        elif feature not in KNOWN_FEATURES:
            self.warn(path, f"unknown feature {feature!r} (no NFD source publishes it)"
                      f"{did_you_mean(feature, KNOWN_FEATURES)}")

    def element(self, feature: str, name: str, expr: MatchExpression, path: str) -> list[int]:
        """Warn about an element name, or In/NotIn values, that no node can have; the
        indexes of the findings that make the expression never match."""
        from nfd.compat._vocabulary import comparison_problem, unknown_element, value_problem

        problem = unknown_element(feature, name) or comparison_problem(feature, name, expr.op,
                                                                       expr.type)
        if problem is not None:
            # NFD's evaluateMatchExpression: an absent element matches only DoesNotExist
            # and the empty op (pkg/apis/nfd/nodefeaturerule/expression.go).
            dead = problem.certain and expr.op not in ("DoesNotExist", "")
            return self.vocabulary_warning(path, problem.message, dead)
        found: list[int] = []
        if expr.op in ("In", "NotIn"):
            bad = 0
            for i, value in enumerate(expr.value):
                why = value_problem(feature, name, value)
                if why is not None:
                    bad += 1
                    found += self.vocabulary_warning(join_path(join_path(path, "value"), i),
                                                     why, True)
            # In never matches when every value is impossible; NotIn then always does.
            if expr.op == "NotIn" or bad < len(expr.value):
                return []
        return found

    def element_names(self, feature: str, match_name: MatchExpression, path: str) -> list[int]:
        from nfd.compat._vocabulary import unknown_element

        found: list[int] = []
        dead = 0
        for i, name in enumerate(match_name.value):
            problem = unknown_element(feature, name)
            if problem is not None:
                dead += problem.certain
                found += self.vocabulary_warning(join_path(path, i), problem.message,
                                                 problem.certain)
        if match_name.op == "NotIn" or dead < len(match_name.value):
            return []
        return found

    def vocabulary_warning(self, path: str, message: str, never_matches: bool) -> list[int]:
        """A vocabulary warning; its index when it makes its expression never match (it
        becomes an error when its whole rule then can never match: see :meth:`rule`)."""
        self.warn(path, message)
        return [len(self.findings) - 1] if never_matches else []

    def unsatisfiable(self, indexes: list[int], why: str, severity: str) -> None:
        for i in indexes:
            f = self.findings[i]
            self.findings[i] = Finding(severity, f.path, f"{f.message}; {why}", f.invalid)

    def rule(self, rule: GroupRule, path: str, defined_vars: set[str]) -> None:
        if not rule.match_features and not rule.match_any:
            self.warn(path, "rule has neither matchFeatures nor matchAny: it always matches")
        never: list[int] = []
        for i, term in enumerate(rule.match_features):
            never += self.term(term, join_path(join_path(path, "matchFeatures"), i),
                               defined_vars)
        dead_alternatives: list[list[int]] = []
        for j, elem in enumerate(rule.match_any):
            epath = join_path(join_path(path, "matchAny"), j)
            if not elem.match_features:
                self.warn(epath, "matchAny alternative has no matchFeatures: it always matches")
            alternative: list[int] = []
            for i, term in enumerate(elem.match_features):
                alternative += self.term(term, join_path(join_path(epath, "matchFeatures"), i),
                                         defined_vars)
            dead_alternatives.append(alternative)
        # A set matches only when every rule does, and a rule only when all its
        # matchFeatures terms and one matchAny alternative do: a term that no node can
        # satisfy there makes the whole set unsatisfiable, an error. In one alternative
        # of several it only closes that alternative.
        if rule.match_any and all(dead_alternatives):
            never += [i for alternative in dead_alternatives for i in alternative]
        elif rule.match_any:
            for alternative in dead_alternatives:
                self.unsatisfiable(alternative, "this matchAny alternative can never match",
                                   WARNING)
        self.unsatisfiable(never, "no node can match this rule, so its compatibility set "
                           "never matches", ERROR)
        if rule.vars_template:
            from nfd.match import compile_template

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
                self.warn(join_path(cpath, "rules"), "compatibility set has no rules: it "
                          "matches every node")
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


def check_spec(spec: CompatSpec) -> CompatSpec:
    """``spec`` unchanged, or the first finding NFD's engine would fail on, as a located
    :class:`SpecError` with lint's message (a spec that can never be valid on any node)."""
    linter = _Linter(vocabulary=False)
    linter.spec(spec)
    for finding in linter.findings:
        if finding.invalid:
            raise finding.as_error(spec.source)
    return spec


def _probe_value(expr: MatchExpression) -> str:
    """A node value every op can parse, so only the expression itself can be at fault."""
    if expr.op in COMPARE_OPS:
        return "1.0.0" if expr.type == "version" else "0"
    return "x"


def _engine_rejection(expr: MatchExpression, regexes: RegexCache) -> str | None:
    """NFD's error for ``expr`` on a node that has the element, or ``None``."""
    try:
        evaluate(expr, True, _probe_value(expr), regexes)
    except EvaluationError as exc:
        return exc.message
    return None


def _regexp_reason(pattern: str) -> str:
    """RE2's reason for refusing ``pattern`` (``: missing )``), as Go's regexp would give it."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options)
    except Exception as exc:  # re2.error carries b'reason: fragment'
        text = str(exc)
        if text.startswith(("b'", 'b"')):
            text = text[2:-1]
        reason = text.split(": ", 1)[0].strip()
        return f": {reason}" if reason else ""
    return ""


def lint_spec_bytes(data: bytes, source: str) -> CompatSpec:
    """Parse and lint spec text; raise the first error as a located :class:`SpecError`."""
    spec = loads_spec(data, source)
    for finding in lint_spec(spec):
        if finding.severity == ERROR:
            raise finding.as_error(source)
    return spec
