"""``nfd compat audit``: running pods whose node no longer satisfies their image (drift).

Pods (and, with ``--workloads``, the templates of Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs and CronJobs) come from a ``kubectl get`` dump; node features from a
``kubectl get nodefeatures -A`` dump; whichever is not given is listed from the live cluster
(kubeconfig, context or service account, as ``validate-cluster`` reads it). Each image's
spec is looked up once; each spec is evaluated once per distinct projection of the nodes.
Exit 0 when nothing drifted, 1 when something did, 2 on bad input, 3 when a registry or
the cluster cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nfd.cli._base import EXIT_NOT_COMPATIBLE, EXIT_OK

EXAMPLES = (
    ("pods whose node drifted, from 'kubectl get pods -A -o json' and "
     "'kubectl get nodefeatures -A -o json' dumps",
     "nfd compat audit --pods pods.json --nodefeatures nodefeatures.json"),
    ("workload templates too (kubectl get pods,deploy,sts,ds,job,cronjob -A -o json), "
     "as JSON",
     "nfd compat audit --pods workloads.json --workloads --nodefeatures nodefeatures.json "
     "-o json"),
    ("the live cluster of a kubeconfig context",
     "nfd compat audit --context prod --workloads"),
    ("with the specs from a file instead of the registry",
     "nfd compat audit --pods pods.json --nodefeatures nodefeatures.json --specs specs.yaml"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._audit_args import add_live_arguments, add_spec_source_arguments
    from nfd.cli._output import OUTPUT_FORMATS

    parser.add_argument("--pods", metavar="FILE",
                        help="'kubectl get pods -A -o json|yaml' (with --workloads, also "
                             "deploy, sts, ds, rs, job, cronjob objects); default: listed "
                             "from the live cluster")
    parser.add_argument("--nodefeatures", metavar="FILE",
                        help="'kubectl get nodefeatures -A -o json|yaml'; default: listed "
                             "from the live cluster")
    parser.add_argument("--workloads", action="store_true",
                        help="also check workload templates: drift is then no node at all")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")
    add_spec_source_arguments(parser)
    add_live_arguments(parser)


def audit_report(result: Any) -> dict[str, Any]:
    """The JSON/YAML document of an audit."""
    return {
        "drift": [_group(g) for g in result.drift],
        "unsatisfiableWorkloads": [_group(g) for g in result.unsatisfiable],
        "imagesWithoutSpec": [{"image": i, "uses": n} for i, n in sorted(result.no_spec.items())],
        "lookupFailures": [{"image": i, "error": e} for i, e in sorted(result.failed.items())],
        "nodesWithoutFeatures": [{"node": n, "uses": c}
                                 for n, c in sorted(result.unknown_nodes.items())],
        "checked": result.checked,
    }


def _group(group: Any) -> dict[str, Any]:
    return {"image": group.image, "artifact": group.artifact, "reasons": list(group.reasons),
            "pods": [{"name": p, "node": n} for p, n in group.pods]}


def render_audit(result: Any, out: Any) -> None:
    from nfd._text import printable_line as clean

    for title, groups in (("drift", result.drift),
                          ("workloads no node can run", result.unsatisfiable)):
        for group in groups:
            print(f"{title.upper()}: {clean(group.image)} ({len(group.pods)} "
                  f"{'pod' if title == 'drift' else 'workload'}(s))", file=out)
            for reason in group.reasons:
                print(f"  - {clean(reason)}", file=out)
            for pod, node in group.pods:
                print(f"    {clean(pod)}" + (f" on {clean(node)}" if node else ""), file=out)
    for image, uses in sorted(result.no_spec.items()):
        print(f"no spec: {clean(image)} ({uses} use(s))", file=out)
    for image, error in sorted(result.failed.items()):
        print(f"lookup failed: {clean(image)}: {clean(error)}", file=out)
    for node, uses in sorted(result.unknown_nodes.items()):
        print(f"no NodeFeature for node {clean(node)} ({uses} use(s) not checked)", file=out)
    drifted = sum(len(g.pods) for g in result.drift)
    print(f"checked {result.checked} pod image(s): {drifted} on a node that does not satisfy "
          f"the image" + (f", {len(result.unsatisfiable)} workload image(s) no node satisfies"
                          if result.unsatisfiable else ""), file=out)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._audit_args import (
        LiveCluster,
        check_live_arguments,
        load_nodes,
        load_pods,
        spec_lookups,
    )
    from nfd.cli._output import write_big_json, write_document
    from nfd.cluster import Evaluations, audit, reads_of

    check_live_arguments(args, not (args.pods and args.nodefeatures))
    with LiveCluster(args) as live:
        pods = load_pods(args.pods, args.workloads) if args.pods else live.pods(args.workloads)
        lookups = spec_lookups(args, [image for pod in pods for image in pod.images])
        evaluations = Evaluations(lookups)
        reads = reads_of(evaluations.evaluators)
        cluster = load_nodes(args.nodefeatures, reads) if args.nodefeatures else \
            live.nodes(reads)
    result = audit(pods, cluster, lookups, evaluations)
    if args.output == "table":
        render_audit(result, sys.stdout)
    elif args.output == "json":
        write_big_json(audit_report(result))
    else:
        write_document(audit_report(result), args.output)
    return EXIT_NOT_COMPATIBLE if result.has_drift else EXIT_OK
