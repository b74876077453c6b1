"""``nfd compat affinity``: make the scheduler honour an image's compatibility spec.

Emits a NodeFeatureRule that labels the nodes satisfying each compatibility
set, and the pod node affinity that requires one of those labels (preferring
them by the sets' weights; Kubernetes allows 1..100: higher weights are clamped
to 100, 0 and negative weights add no preference, with a warning for both out-of-range cases).
With ``--patch FILE`` the affinity is merged into the workloads of FILE (Pod,
Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, or a List),
keeping their own affinity; the result goes to stdout, FILE is never written.

YAML output is a ``---`` stream of objects (``kubectl apply -f -`` takes it): with
``--emit all`` the affinity fragment follows the rule as a comment; ``--emit
affinity`` prints it bare. JSON output is one object: the rule alone
(``--emit rule``), a ``v1`` List (with ``--patch``), else
``{nodeFeatureRule, affinity, labels}``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXAMPLES = (
    ("the NodeFeatureRule and the node affinity for a spec file",
     "nfd compat affinity --spec examples/image-compatibility.yaml"),
    ("merge the affinity into a Deployment (the file is not written)",
     "nfd compat affinity --image registry.example.com/app:1.0 --patch deployment.yaml"),
)


PROG = "nfd compat affinity"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._spec_args import add_spec_arguments
    from nfd.cluster import DEFAULT_LABEL_PREFIX

    add_spec_arguments(parser)
    parser.add_argument("--name", metavar="NAME",
                        help="base of label and rule names (default: from the image reference, "
                        "or the spec file's name)")
    parser.add_argument("--label-prefix", default=DEFAULT_LABEL_PREFIX, metavar="PREFIX",
                        help=f"label prefix (default {DEFAULT_LABEL_PREFIX})")
    parser.add_argument("--patch", metavar="FILE",
                        help="merge the affinity into the workloads of this manifest "
                        "('-' for stdin); written to stdout, FILE is left alone")
    parser.add_argument("--emit", choices=("all", "rule", "affinity"), default="all",
                        help="what to print (default: all)")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml",
                        help="format (default: yaml)")
    parser.add_argument("--nfd-version", metavar="VERSION",
                        help="the cluster's NFD release (e.g. v0.17.3): the rule uses only "
                        "the ops it accepts, rewritten where exact (Ge 5 as Gt 4), else "
                        "refused (default: NFD's ops as the spec writes them)")


def _label_base(args: argparse.Namespace) -> str:
    from nfd.cluster import image_label_base, sanitize_name
    from nfd.errors import UsageError

    if args.name is not None:
        base = sanitize_name(args.name)
        if not base:
            raise UsageError(f"--name {args.name!r}: no letter or digit to build names from")
        return base
    if args.image is not None:
        return image_label_base(args.image)
    if args.spec == "-":
        raise UsageError("--name is needed when the spec is read from stdin")
    return sanitize_name(Path(args.spec).stem) or "spec"


def _patched(args: argparse.Namespace, node_affinity: dict[str, Any]) -> list[Any]:
    from nfd.cluster import load_documents, patch_workload, patchable
    from nfd.errors import SpecError, UsageError

    if args.patch == "-" and args.spec == "-":
        raise UsageError("--spec and --patch cannot both read stdin")
    docs = load_documents(args.patch)
    out = []
    for i, doc in enumerate(docs):
        where = f"documents[{i}]" if len(docs) > 1 else ""
        try:
            out.append(patch_workload(doc, node_affinity, where))
        except SpecError as exc:
            raise exc.located(args.patch) from None
        if not patchable(doc):
            kind = doc.get("kind") if isinstance(doc, dict) else None
            _warn(f"{args.patch}: {where or 'document'}: kind {kind!r} has no pod template; "
                  "passed through unchanged")
    if not any(patchable(d) for d in docs):
        raise SpecError("no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or "
                        "CronJob to patch", source=args.patch)
    return out


def _warn(message: str) -> None:
    from nfd._text import printable_line

    print(f"{PROG}: warning: {printable_line(message)}", file=sys.stderr)


def _write_yaml(docs: list[Any], fragment: bool) -> None:
    """A ``---`` stream ``kubectl apply -f -`` takes: objects only. The pod spec fragment,
    which is no object, is printed bare only alone (``--emit affinity``); after the rule it
    is a comment, for the reader."""
    from nfd.cli._yaml_emit import dump_yaml

    objects = docs[:-1] if fragment else docs
    for i, doc in enumerate(objects):
        if i:
            sys.stdout.write("---\n")
        sys.stdout.write(dump_yaml(doc))
    if not fragment:
        return
    text = dump_yaml(docs[-1])
    if objects:
        sys.stdout.write("# Pod spec fragment for the pod template's spec (--emit affinity "
                         "prints it alone):\n")
        sys.stdout.write("".join(f"#   {line}\n" for line in text.splitlines()))
    else:
        sys.stdout.write("# Pod spec fragment: merge into the pod template's spec.\n")
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._spec_args import parse_tags, spec_from_args
    from nfd.cluster import LabelScheme, build_affinity, build_rule_plan, check_label_prefix

    scheme = LabelScheme(check_label_prefix(args.label_prefix), _label_base(args))
    spec, _ = spec_from_args(args)
    nfd = None
    if args.nfd_version is not None:
        from nfd.cluster import NfdSupport, parse_nfd_version

        nfd = NfdSupport.of_release(parse_nfd_version(args.nfd_version))
    plan = build_rule_plan(spec, scheme, parse_tags(args.tags), nfd)
    affinity = build_affinity(plan.sets, spec.source)
    for message in affinity.warnings:
        _warn(message)
    for note in plan.notes:
        from nfd._text import printable_line

        print(f"{PROG}: note: {printable_line(note)}", file=sys.stderr)
    if args.patch is not None and args.emit == "rule":
        from nfd.errors import UsageError

        raise UsageError("--patch applies the affinity: it cannot go with --emit rule")
    docs: list[Any] = [plan.rule] if args.emit in ("all", "rule") else []
    fragment = False
    if args.patch is not None:
        docs += _patched(args, affinity.node_affinity)
    elif args.emit in ("all", "affinity"):
        docs.append({"affinity": {"nodeAffinity": affinity.node_affinity}})
        fragment = True
    if args.output == "yaml":
        _write_yaml(docs, fragment)
    else:
        from nfd.cli._output import write_json

        if len(docs) == 1 and not fragment:
            write_json(docs[0])
        elif fragment:
            doc = {"nodeFeatureRule": plan.rule} if args.emit == "all" else {}
            write_json({**doc, "affinity": docs[-1]["affinity"],
                        "labels": {str(s.index): s.label for s in plan.sets}})
        else:
            write_json({"apiVersion": "v1", "kind": "List", "items": docs})
    return 0
