"""``nfd compat job``: a Job that runs ``validate-node`` on a chosen node.

The pod mounts the host read-only the way NFD's worker does and runs
``nfd compat validate-node --image REF --host-prefix /host-``; its exit code
(0 compatible, 1 not) becomes the Job's success or failure, and its log holds
the report. Arguments after ``--`` are passed on to validate-node.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cluster import DEFAULT_CLIENT_IMAGE

    parser.add_argument("--image", metavar="REF", required=True, help="image to validate")
    parser.add_argument("--node", metavar="NAME",
                        help="node to run on (default: wherever the scheduler puts it)")
    parser.add_argument("--pin", choices=("nodeName", "nodeSelector"), default="nodeName",
                        help="how the pod is bound to --node: nodeName (bypasses the "
                        "scheduler, works on cordoned nodes) or a kubernetes.io/hostname "
                        "nodeSelector (default: nodeName)")
    parser.add_argument("--client-image", default=DEFAULT_CLIENT_IMAGE, metavar="REF",
                        help=f"image holding nfd-client (default {DEFAULT_CLIENT_IMAGE})")
    parser.add_argument("--namespace", "-n", metavar="NS", help="namespace of the Job")
    parser.add_argument("--job-name", metavar="NAME",
                        help="name of the Job (default: nfd-validate-<node>-<hash>)")
    parser.add_argument("--tags", metavar="T1,T2", help="passed to validate-node")
    parser.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                        help="passed to validate-node")
    parser.add_argument("--backoff-limit", type=int, default=0, metavar="N",
                        help="retries of a failed pod (default 0: a verdict is not flaky)")
    parser.add_argument("--ttl-seconds", type=int, default=3600, metavar="S",
                        help="delete the finished Job after S seconds (default 3600)")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml",
                        help="format (default: yaml)")
    parser.add_argument("validate_args", nargs="*", metavar="-- ARGS",
                        help="more validate-node arguments, after '--'")


def run(args: argparse.Namespace) -> int:
    from nfd.cli._output import write_document
    from nfd.cluster import JobOptions, build_job

    extra: list[str] = []
    if args.tags:
        extra += ["--tags", args.tags]
    if args.platform:
        from nfd.oci import Platform

        Platform.parse(args.platform)  # a bad one fails here, not later in the pod
        extra += ["--platform", args.platform]
    extra += args.validate_args
    job = build_job(JobOptions(
        image=args.image, node=args.node, pin=args.pin, client_image=args.client_image,
        namespace=args.namespace, name=args.job_name, backoff_limit=args.backoff_limit,
        ttl_seconds=args.ttl_seconds, extra_args=tuple(extra)))
    write_document(job, args.output, sys.stdout)
    return 0
