"""``nfd compat explain``: what a compatibility spec can say, from lint's own tables.

The ops with their value counts, each feature NFD publishes with its kind (flags,
attributes, instances), its element names when NFD closes them and their value
formats, and the NodeFeature shape that ``validate-node --features`` and
``validate-cluster --nodefeatures`` read.
"""

from __future__ import annotations

import argparse
import sys

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

EXAMPLES = (
    ("everything: ops, features, the NodeFeature shape", "nfd compat explain"),
    ("one feature's element names and value formats", "nfd compat explain pci.device"),
    ("as JSON, for tools", "nfd compat explain -o json"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("feature", nargs="?", metavar="FEATURE",
                        help="only this feature, e.g. pci.device (default: all)")
    parser.add_argument("--output", "-o", choices=("table", "json", "yaml"), default="table",
                        help="format (default: table: text for people)")


def _wrapped(text: str, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, 79, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False)


def _text(doc: dict[str, Any]) -> str:
    from nfd.cli._yaml_emit import dump_yaml

    lines = ["OPS (matchExpressions: {op: OP, value: [...]}; matchName takes the same)"]
    lines += [f"  {o['op']:<13} {o['values']:<12} {o['meaning']}" for o in doc["ops"]]
    lines += ["", "TYPE"]
    for name, text in doc["types"].items():
        lines += _wrapped(f"type: {name}  {text}", "  ")
    lines += ["", "FEATURES (feature: kind; element names; value formats)"]
    for f in doc["features"]:
        lines.append(f"  {f['name']}: {f['kind']}")
        if f["elements"] is None:
            lines.append("    elements: open (any name the node has)")
        else:
            more = " (and other upper-case keys)" if f["openElements"] else ""
            lines += _wrapped(f"elements: {', '.join(f['elements'])}{more}", "    ")
        lines += [f"    {name}: {fmt}" for name, fmt in f["valueFormats"].items()]
    lines += ["", "NODEFEATURE (validate-node --features; items of a validate-cluster dump)"]
    lines += ["  " + line for line in dump_yaml(doc["nodeFeature"]).splitlines()]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from nfd.compat import explain_vocabulary

    if args.feature and args.feature.endswith((".yaml", ".yml", ".json")):
        # No NFD feature name ends so: this is a spec file, which the linter reads.
        from nfd.errors import UsageError

        raise UsageError(f"explain takes a feature name (e.g. cpu.cpuid), not a file; to "
                         f"check a spec: nfd compat validate-spec {args.feature}")
    doc = explain_vocabulary(args.feature)
    if args.output == "table":
        sys.stdout.write(_text(doc))
    else:
        from nfd.cli._output import write_document

        write_document(doc, args.output)
    return 0
