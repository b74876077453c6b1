"""``nfd compat what-if``: which images would not run on planned nodes, and why.

Planned node profiles are an ``nfd export features`` file or a NodeFeature (``--features``),
or a NodeFeature list (``--nodefeatures``, one profile per node). The images are those of a
pods dump (``--pods``), a list (``--images``), or, with neither, the pods of the live
cluster, whose NodeFeatures then show what each image gets today (as
``--current-nodefeatures`` does beside ``--pods``).
Exit 0 when every image runs on every profile, 1 when something would break.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nfd.cli._base import EXIT_NOT_COMPATIBLE, EXIT_OK

_MAX_IMAGE_LIST = 16 * 1024 * 1024
EXAMPLES = (
    ("the pods (kubectl get pods -A -o json) a planned node would run; its features from "
     "'nfd export features --path new-node.json' on it",
     "nfd compat what-if --features new-node.json --pods pods.json"),
    ("a planned pool's NodeFeatures against a list of images, as JSON",
     "nfd compat what-if --nodefeatures planned.json --images images.txt -o json"),
    ("the live cluster's pods on a planned node, next to what they get today",
     "nfd compat what-if --features new-node.json --context prod"),
    ("compared with today's nodes",
     "nfd compat what-if --features new-node.json --pods pods.json "
     "--current-nodefeatures nodefeatures.json"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._audit_args import add_live_arguments, add_spec_source_arguments
    from nfd.cli._output import OUTPUT_FORMATS

    planned = parser.add_mutually_exclusive_group(required=True)
    planned.add_argument("--features", metavar="FILE",
                         help="one planned node: 'nfd export features' JSON or a NodeFeature")
    planned.add_argument("--nodefeatures", metavar="FILE",
                         help="planned nodes: a NodeFeature list, one profile per node")
    images = parser.add_mutually_exclusive_group()
    images.add_argument("--pods", metavar="FILE",
                        help="the images of a 'kubectl get pods -A -o json|yaml' dump "
                             "(default: the live cluster's pods)")
    images.add_argument("--images", metavar="FILE", help="image references, one a line")
    parser.add_argument("--current-nodefeatures", metavar="FILE",
                        help="today's 'kubectl get nodefeatures -A' dump (with --pods): show "
                             "what each image gets today")
    parser.add_argument("--output", "-o", choices=OUTPUT_FORMATS, default="table",
                        help="report format (default: table)")
    add_spec_source_arguments(parser)
    add_live_arguments(parser)


def _profiles(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from nfd.api import load_features
    from nfd.cli._audit_args import load_nodes
    from nfd.cluster import ClusterFeatures

    if args.nodefeatures:
        return load_nodes(args.nodefeatures)
    return ClusterFeatures(nodes={Path(args.features).name: load_features(args.features)})


def _today(args: argparse.Namespace, pods: list[Any], lookups: Any, evaluations: Any,
           live: Any) -> dict[str, tuple[int, int]]:
    """Image -> (pods whose node satisfies it today, pods checked)."""
    from nfd.cli._audit_args import load_nodes
    from nfd.cluster import audit, reads_of
    from nfd.errors import UsageError

    reads = reads_of(evaluations.evaluators)
    if args.current_nodefeatures:
        if not pods:
            raise UsageError("--current-nodefeatures goes with --pods, or the live cluster")
        cluster = load_nodes(args.current_nodefeatures, reads)
    elif live is not None:
        cluster = live.nodes(reads)
    else:
        return {}
    result = audit(pods, cluster, lookups, evaluations)
    drifted: dict[str, int] = {}
    for group in result.drift:
        drifted[group.image] = drifted.get(group.image, 0) + len(group.pods)
    checked: dict[str, int] = {}
    for pod in pods:
        if pod.node in cluster.nodes:
            for image in pod.images:
                checked[image] = checked.get(image, 0) + 1
    return {image: (n - drifted.get(image, 0), n) for image, n in checked.items()}


def what_if_report(verdicts: list[Any], today: dict[str, tuple[int, int]],
                   lookups: dict[str, Any]) -> dict[str, Any]:
    profiles: dict[str, list[dict[str, Any]]] = {}
    for v in verdicts:
        entry: dict[str, Any] = {"image": v.image, "compatible": v.compatible,
                                 "reasons": list(v.reasons)}
        if v.image in today:
            ok, total = today[v.image]
            entry["today"] = {"podsSatisfied": ok, "pods": total}
        profiles.setdefault(v.profile, []).append(entry)
    return {
        "profiles": [{"name": name, "images": images} for name, images in profiles.items()],
        "imagesWithoutSpec": sorted(i for i, lk in lookups.items() if lk.spec is None
                                    and not lk.error),
        "lookupFailures": [{"image": i, "error": lk.error}
                           for i, lk in sorted(lookups.items()) if lk.error],
    }


def render_what_if(report: dict[str, Any], out: Any) -> None:
    from nfd._text import printable_line as clean

    for profile in report["profiles"]:
        broken = [i for i in profile["images"] if not i["compatible"]]
        print(f"PROFILE {clean(profile['name'])}: {len(broken)} of {len(profile['images'])} "
              "image(s) would not run", file=out)
        for image in profile["images"]:
            today = image.get("today")
            now = (f"today: {today['podsSatisfied']}/{today['pods']} pod(s) on satisfying "
                   "nodes; " if today else "")
            verdict = "runs" if image["compatible"] else "would NOT run"
            print(f"  {clean(image['image'])}: {now}{verdict}", file=out)
            for reason in image["reasons"]:
                print(f"    - {clean(reason)}", file=out)
    for image in report["imagesWithoutSpec"]:
        print(f"no spec: {clean(image)}", file=out)
    for failure in report["lookupFailures"]:
        print(f"lookup failed: {clean(failure['image'])}: {clean(failure['error'])}", file=out)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._audit_args import LiveCluster, check_live_arguments, load_pods, spec_lookups
    from nfd.cli._output import write_document
    from nfd.cluster import Evaluations, what_if

    pods: list[Any] = []
    from_live = not (args.pods or args.images)
    check_live_arguments(args, from_live)
    with LiveCluster(args) as live:
        if args.pods or from_live:
            pods = load_pods(args.pods, workloads=True) if args.pods else \
                live.pods(workloads=True)
            images = [image for pod in pods for image in pod.images]
        else:
            images = _image_list(args.images)
        lookups = spec_lookups(args, images)
        evaluations = Evaluations(lookups)
        verdicts = what_if(images, _profiles(args), lookups, evaluations)
        today = _today(args, pods, lookups, evaluations, live if from_live else None)
    report = what_if_report(verdicts, today, lookups)
    if args.output == "table":
        render_what_if(report, sys.stdout)
    else:
        write_document(report, args.output)
    return EXIT_OK if all(v.compatible for v in verdicts) else EXIT_NOT_COMPATIBLE


def _image_list(path: str) -> list[str]:
    from nfd._io import read_document
    from nfd.cluster import images_from_list
    from nfd.errors import SpecError

    data = read_document(path, _MAX_IMAGE_LIST)
    if len(data) > _MAX_IMAGE_LIST:
        raise SpecError(f"over the {_MAX_IMAGE_LIST}-byte limit", source=path)
    return images_from_list(data.decode("utf-8", "replace"))
