"""Make and re-check oracle-verified verdict cases (``tests/match/cases/oracle_*.yaml``).

A case's expected ``exit``/``report``/``error`` are NFD's own, from an *oracle*: a
program that runs NFD's Go engine (see ``README.md`` beside this file for what it
does and the JSON it speaks). This script makes the case inputs, asks the oracle,
cross-checks every answer against nfd-client, and writes the case file; or re-checks
existing files against an oracle (after bumping the NFD commit).

    python3 -m tests.match.oracle.generate make matrix --seed 1 --count 50 \\
        --oracle 'path/to/nfd-oracle' --out tests/match/cases/oracle_matrix2.yaml
    python3 -m tests.match.oracle.generate make inputs --inputs my-probes.yaml ...
    python3 -m tests.match.oracle.generate check tests/match/cases/oracle_*.yaml \\
        --oracle 'path/to/nfd-oracle'

``--oracle self`` answers with nfd-client itself: for trying a family out, never for
committing (the file's header then says the cases are *not* oracle-verified).
Exit status: 0 all agree, 1 some disagreement (listed on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from tests.match._cases import Case, go_ordered, run_case

from nfd.compat import nfd_report

NFD_VERSION = "v0.19.0"  # the reference release; nfd-oracle (scripts/install-peers) runs it
ORACLE_TIMEOUT = 600
Input = dict[str, Any]  # {"name", "spec", "features", "tags"?, "note"?}
Answer = dict[str, Any]  # {"name", "exit", "report", "error"}

FAMILIES: dict[str, tuple[str, str]] = {
    # name: (header line, ``source``)
    "matrix": ("One matchExpressions or matchName expression against one node state.",
               "engine run on one expression (op x value x type x node)"),
    "random": ("Random specs: 1-3 sets, matchFeatures/matchAny, vars, rule.matched, tags.",
               "engine run on randomly generated specs"),
    "inputs": ("Hand-written probes.", "engine run on hand-written probes"),
}

# --- the families: inputs only, the oracle supplies the verdicts ---------------------

OPS = ("In", "NotIn", "InRegexp", "Exists", "DoesNotExist", "Gt", "Ge", "Lt", "Le", "GtLt",
       "GeLe", "IsTrue", "IsFalse", "Bogus", "exists", "in", "")
VALUES: tuple[list[str] | None, ...] = (
    None, [], ["1"], ["5", "10"], ["10", "5"], ["01"], ["+5"], ["-3", "-3"], ["k"], ["true"],
    ["1.2.3"], ["1.2.3", "2.0.0"], ["v1.2", "1.10.0"], ["1.2.3-rc1"], ["^a", "["], ["a"],
    ["9223372036854775808"], ["k1", "01", "x<y>&z"])
TYPES = (None, "version", "bogus")
NODE_VALUES = ("5", "1", "01", "true", "false", "1.2.3", "2.0.0-rc1", "a", "k", "")


def _node_state(rng: random.Random) -> dict[str, Any]:
    """A features document for feature ``d.f`` holding key ``k`` (or not) in some shape."""
    doc: dict[str, Any] = {}
    for kind in ("flags", "attributes", "instances"):
        if rng.random() < 0.4:
            continue
        if rng.random() < 0.15:
            doc[kind] = {"d.f": {"elements": None}}
            continue
        key = rng.choice(("k", "z"))
        value = rng.choice(NODE_VALUES)
        if kind == "flags":
            elements: Any = {key: {}}
        elif kind == "attributes":
            elements = {key: value}
        else:
            elements = [{"attributes": {key: rng.choice(NODE_VALUES)}}
                        for _ in range(rng.randint(0, 2))]
        doc[kind] = {"d.f": {"elements": elements}}
    return doc


def matrix_inputs(rng: random.Random, count: int) -> Iterator[Input]:
    for i in range(count):
        expression: dict[str, Any] = {"op": rng.choice(OPS)}
        value = rng.choice(VALUES)
        if value is not None:
            expression["value"] = value
        kind = rng.choice(TYPES)
        if kind is not None:
            expression["type"] = kind
        by_name = rng.random() < 0.25
        term: dict[str, Any] = {"feature": "d.f"}
        if by_name:
            term["matchName"] = expression
        else:
            term["matchExpressions"] = {"k": expression}
        features = _node_state(rng)
        label = "matchName" if by_name else "k"
        yield {"name": f"m{i:03d} {label} {json.dumps(expression)} on {json.dumps(features)}",
               "spec": _one_rule_spec([term]), "features": features}


def _one_rule_spec(terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "v1alpha1",
            "compatibilities": [{"rules": [{"name": "r", "matchFeatures": terms}]}]}


def _random_term(rng: random.Random, earlier_vars: list[str]) -> dict[str, Any]:
    if earlier_vars and rng.random() < 0.3:
        return {"feature": "rule.matched",
                "matchExpressions": {rng.choice(earlier_vars): {"op": "In", "value": ["1"]}}}
    feature = rng.choice(("dom.multi", "dom.attr", "dom.inst"))
    op = rng.choice(("Exists", "DoesNotExist", "In", "NotIn", "Gt", "IsTrue"))
    expression: dict[str, Any] = {"op": op}
    if op in ("In", "NotIn"):
        expression["value"] = rng.sample(["1", "2", "AVX", "b", "x"], rng.randint(1, 2))
    elif op == "Gt":
        expression["value"] = [str(rng.randint(0, 5))]
    return {"feature": feature,
            "matchExpressions": {rng.choice(("AVX", "b", "K1", "n")): expression}}


def _random_rule(rng: random.Random, index: int, earlier_vars: list[str]) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": f"r{index}"}
    if rng.random() < 0.7:
        rule["matchFeatures"] = [_random_term(rng, earlier_vars)
                                 for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.4:
        rule["matchAny"] = [{"matchFeatures": [_random_term(rng, earlier_vars)]}
                            for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.3:
        name = f"v{index}"
        rule["vars"] = {name: "1"}
        earlier_vars.append(name)
    return rule


def _random_features(rng: random.Random) -> dict[str, Any]:
    keys = ("AVX", "b", "K1", "n")
    return {
        "flags": {"dom.multi": {"elements": {k: {} for k in keys if rng.random() < 0.5}}},
        "attributes": {"dom.attr": {"elements": {k: str(rng.randint(0, 5)) for k in keys
                                                 if rng.random() < 0.5}}},
        "instances": {"dom.inst": {"elements": [
            {"attributes": {k: rng.choice(("1", "2", "x")) for k in keys if rng.random() < 0.5}}
            for _ in range(rng.randint(0, 2))]}},
    }


def random_inputs(rng: random.Random, count: int) -> Iterator[Input]:
    for i in range(count):
        earlier_vars: list[str] = []
        sets = []
        for _ in range(rng.randint(1, 3)):
            compat: dict[str, Any] = {"rules": [_random_rule(rng, len(earlier_vars) + j,
                                                             earlier_vars)
                                                for j in range(rng.randint(0, 3))]}
            if rng.random() < 0.5:
                compat["tag"] = rng.choice(("a", "b", "gpu"))
            sets.append(compat)
        case: Input = {"name": f"random {i:03d}",
                       "spec": {"version": "v1alpha1", "compatibilities": sets},
                       "features": _random_features(rng)}
        if rng.random() < 0.4:
            case["tags"] = rng.sample(["a", "b", "gpu", "zzz"], rng.randint(1, 2))
        yield case


def hand_written_inputs(path: Path) -> Iterator[Input]:
    """A YAML list of inputs (``name``, one of ``spec``/``rules``/``term``, ``features``,
    optional ``tags`` and ``note``); ``rules``/``term`` are expanded as the runner does."""
    for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
        yield _expanded(raw)


def _expanded(raw: Input) -> Input:
    """``raw`` with its ``rules``/``term`` form made a whole ``spec``."""
    rest = {k: v for k, v in raw.items() if k not in ("rules", "term")}
    return {**rest, "spec": _as_case(raw).spec}


# --- oracles --------------------------------------------------------------------------

def _as_case(raw: Input) -> Case:
    from tests.match._cases import _spec_doc

    return Case("input", raw["name"], _spec_doc(raw), raw.get("features") or {},
                0, {k: v for k, v in raw.items() if k == "tags"})


def nfd_client_answer(raw: Input) -> Answer:
    """What nfd-client makes of an input, in the oracle's answer shape."""
    outcome = run_case(_as_case(raw))
    if outcome.unknown_tags is not None:
        # Where the tags select no set we refuse them (exit 2: a CI gate must not read a
        # typo as incompatible); NFD answers an empty report and exit 1, and the case file
        # records NFD's answer.
        return {"name": raw["name"], "exit": 1, "report": [], "error": None}
    report = nfd_report(outcome.result) if outcome.result is not None else None
    return {"name": raw["name"], "exit": outcome.exit, "report": report,
            "error": str(outcome.error) if outcome.error else None}


def command_oracle(command: str) -> Callable[[list[Input]], list[Answer]]:
    """The oracle as a program: a JSON array of inputs on stdin, answers on stdout."""
    def ask(inputs: list[Input]) -> list[Answer]:
        question = [{"name": i["name"], "spec": i["spec"], "features": i.get("features") or {},
                     "tags": i.get("tags") or []} for i in inputs]
        done = subprocess.run(shlex.split(command), input=json.dumps(question), text=True,
                              capture_output=True, timeout=ORACLE_TIMEOUT, check=False)
        if done.returncode != 0:
            raise SystemExit(f"oracle failed ({done.returncode}): {done.stderr.strip()}")
        answers: list[Answer] = json.loads(done.stdout)
        if [a["name"] for a in answers] != [i["name"] for i in inputs]:
            raise SystemExit("oracle answered other cases than it was asked")
        return answers
    return ask


def self_oracle(inputs: list[Input]) -> list[Answer]:
    return [nfd_client_answer(i) for i in inputs]


# --- agreement and writing ------------------------------------------------------------

def disagreement(answer: Answer, ours: Answer) -> str | None:
    """Why nfd-client differs from the oracle on one case, or None."""
    if answer["exit"] != ours["exit"]:
        return f"exit {ours['exit']}, NFD {answer['exit']} ({ours['error'] or 'no error'})"
    if answer["exit"] == 2:
        wanted = answer.get("error") or ""
        if wanted in (ours["error"] or ""):
            return None
        return f"error {ours['error']!r}, NFD {wanted!r}"
    got = json.dumps(ours["report"])
    return None if got == json.dumps(go_ordered(answer["report"])) else "report differs"


def case_entry(raw: Input, answer: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": raw["name"]}
    if raw.get("note"):
        entry["note"] = raw["note"]
    entry["spec"] = raw["spec"]
    entry["features"] = raw.get("features") or {}
    if raw.get("tags"):
        entry["tags"] = raw["tags"]
    entry["exit"] = answer["exit"]
    if answer["exit"] == 2:
        if answer.get("error"):
            entry["error"] = answer["error"]
    else:
        entry["report"] = answer["report"]
    return entry


def header(family: str, verified: bool) -> str:
    line, _ = FAMILIES[family]
    if not verified:
        return ("# NOT oracle-verified: these verdicts are nfd-client's own (--oracle self).\n"
                f"# {line}\n")
    return ("# Generated by a differential oracle: each case was run through NFD's own engine\n"
            f"# (node-validator.go Execute + nodefeaturerule, NFD {NFD_VERSION}: nfd-oracle, "
            "built by\n# scripts/install-peers from tests/peers/nfd-oracle) and through "
            f"nfd-client; exit and report\n# are NFD's.\n# {line}\n"
            "# Made by tests/match/oracle/generate.py (see README.md there).\n")


def write_cases(out: Path, family: str, verified: bool, entries: list[dict[str, Any]]) -> None:
    _, source = FAMILIES[family]
    doc = {"source": f"NFD {NFD_VERSION} {source}" if verified else f"nfd-client {source}",
           "cases": entries}
    out.write_text(header(family, verified) + yaml.safe_dump(doc, sort_keys=False,
                                                             allow_unicode=True, width=100))


def _report(problems: list[str]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def make(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    if args.family == "inputs":
        if args.inputs is None:
            raise SystemExit("make inputs needs --inputs FILE")
        inputs = list(hand_written_inputs(args.inputs))
    else:
        inputs = list((matrix_inputs if args.family == "matrix" else random_inputs)(
            rng, args.count))
    oracle = self_oracle if args.oracle == "self" else command_oracle(args.oracle)
    answers = oracle(inputs)
    problems = []
    for raw, answer in zip(inputs, answers, strict=True):
        why = disagreement(answer, nfd_client_answer(raw))
        if why:
            problems.append(f"{raw['name']}: nfd-client disagrees with NFD: {why}")
    write_cases(args.out, args.family, args.oracle != "self",
                [case_entry(r, a) for r, a in zip(inputs, answers, strict=True)])
    return _report(problems)


def stated_differs(case: dict[str, Any], answer: Answer) -> str | None:
    """How a case file's stated verdict differs from the oracle's answer, or None."""
    if case["exit"] != answer["exit"]:
        return f"the file says exit {case['exit']}, NFD {answer['exit']}"
    if "error" in case and case["error"] not in (answer.get("error") or ""):
        return f"the file says error {case['error']!r}, NFD {answer.get('error')!r}"
    if "report" in case and json.dumps(go_ordered(case["report"])) != json.dumps(
            go_ordered(answer["report"])):
        return "the file's report differs from NFD's"
    return None


def check(args: argparse.Namespace) -> int:
    """Re-ask the oracle about every case of the files; list the cases whose stated
    verdict it no longer gives."""
    oracle = self_oracle if args.oracle == "self" else command_oracle(args.oracle)
    problems = []
    for path in args.files:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        inputs = [_expanded(c) for c in cases]
        for case, answer in zip(cases, oracle(inputs), strict=True):
            why = stated_differs(case, answer)
            if why:
                problems.append(f"{path.name}: {case['name']}: {why}")
    return _report(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="generate.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_make = sub.add_parser("make", help="make a case file")
    p_make.add_argument("family", choices=sorted(FAMILIES))
    p_make.add_argument("--seed", type=int, default=1)
    p_make.add_argument("--count", type=int, default=100)
    p_make.add_argument("--inputs", type=Path, help="for the 'inputs' family: a YAML list")
    p_make.add_argument("--oracle", required=True, help="oracle command, or 'self'")
    p_make.add_argument("--out", type=Path, required=True)
    p_check = sub.add_parser("check", help="re-check case files against an oracle")
    p_check.add_argument("files", type=Path, nargs="+")
    p_check.add_argument("--oracle", required=True, help="oracle command, or 'self'")
    args = parser.parse_args(argv)
    return make(args) if args.command == "make" else check(args)


if __name__ == "__main__":
    sys.exit(main())
