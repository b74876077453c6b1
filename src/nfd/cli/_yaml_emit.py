"""The one YAML emitter: block style, keys in document order, no aliases, and every string
that some reader would take for something else quoted.

PyYAML quotes only what its own YAML 1.1 resolver would misread, which is not what the
readers of our output use. kubectl, kustomize and the API server read YAML with Go's
go-yaml (v2 through sigs.k8s.io/yaml, v3 in kustomize's kyaml), whose resolver
(``resolve.go``) also takes ``0108`` and ``1e3`` for numbers (``strconv.ParseInt(s, 0,
64)`` with underscores removed, then ``ParseFloat`` for "YAML-style" floats), and other
tools read YAML 1.2 (``0o17``). A string is written plain only if no reader below
resolves it to a non-string:

- YAML 1.1 (the type repository's regular expressions, as the spec words them: ``y``,
  ``on``, ``1_000``, ``1:20``, ``1.2.3``, ``=``, ``<<``, timestamps, ...);
- YAML 1.2 core schema (``0o17``, ``0x10``, ``1e3``, ``.inf``, ``null``, ...);
- go-yaml v2/v3 (resolve table, strconv base 0, YAML-style floats, ``0b`` binary,
  timestamps with one-digit months).

Quoting more than needed is harmless (a quoted scalar is always a string), so where a
rule is fiddly (number ranges, Go's underscore placement) the pattern errs wide.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_YAML11 = (
    # bool, null, merge and value keys
    r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
    r"~|null|Null|NULL|<<|=",
    # int: binary, octal, decimal, hex, sexagesimal
    r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+",
    r"[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
    # float, including the spec's wide ``[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?``
    r"[-+]?(?:[0-9][0-9_]*)?\.[0-9._]*(?:[eE][-+]?[0-9]+)?",
    r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
    r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    # timestamp: date, or date and time
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+).*)?",
)
_YAML12 = (
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
    r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
)
# go-yaml: what strconv.ParseInt/ParseUint(s, 0, 64) accept once "_" is removed
# (so underscores may stand anywhere after a sign or first digit), any range.
_GO_INT = r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)"
# go-yaml v2's own binary branch: ParseInt(s[2:], 2) after "0b", so a sign may follow it
_GO_BINARY = r"0b[-+]?[01]+"
# go-yaml's yamlStyleFloat, after "_" is removed; and ParseFloat for a leading "."
_GO_FLOAT = r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
_GO_DOT_FLOAT = r"\.[0-9][0-9_]*(?:[eE][-+]?[0-9][0-9_]*)?"
_GO_WORDS = r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|-0(?:\.0)?"

_AMBIGUOUS = re.compile("|".join(f"(?:{p})" for p in (*_YAML11, *_YAML12, _GO_DOT_FLOAT,
                                                        _GO_WORDS)))
_GO_NUMBER = re.compile(f"(?:{_GO_INT})|(?:{_GO_FLOAT})|(?:{_GO_BINARY})")


def resolves_to_non_string(text: str) -> bool:
    """Whether a YAML 1.1, YAML 1.2 or go-yaml reader takes plain ``text`` for a
    non-string (bool, number, null, timestamp, merge key). Empty text is null."""
    if text == "" or _AMBIGUOUS.fullmatch(text):
        return True
    # go-yaml's digit-or-sign branch strips every "_" before parsing
    return text[0] in "+-0123456789" and bool(_GO_NUMBER.fullmatch(text.replace("_", "")))


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes no anchors and quotes ambiguous strings."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# Line breaks in YAML 1.1 but not in 1.2 (NEL, LS, PS): PyYAML would write them raw
# inside quotes, where go-yaml folds them; in double quotes they become escapes.
_OLD_LINE_BREAKS = frozenset("\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style: str | None = None
    if _OLD_LINE_BREAKS.intersection(data):
        style = '"'
    elif resolves_to_non_string(data):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(obj: Any) -> str:
    """One YAML document."""
    text: str = yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text

