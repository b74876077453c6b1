"""``nfd compat job``: Jobs that run ``validate-node`` on chosen nodes.

The pod mounts the host read-only the way NFD's worker does and runs
``nfd compat validate-node --image REF --host-prefix /host- --output-json``; its
log is NFD's JSON report, exit 1 ("not compatible") fails the Job with reason
PodFailurePolicy, any other failure with BackoffLimitExceeded. Arguments after
``--`` are passed on to validate-node, checked here first.

``--verify`` is the Job's own flag, not a pass-through one: the pod needs the trust
material, so ``--verify notation`` reads the trust policy and store here (as
validate-node would) and emits them as a ConfigMap before the Jobs, and ``--verify
cosign`` mounts the public key of each ``--cosign-key-secret``.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from nfd.errors import UsageError

EXAMPLES = (
    ("a Job that validates node worker-1 against an image's spec",
     "nfd compat job --image registry.example.com/app:1.0 --node worker-1"),
    ("one Job per node of a file, with a registry Secret, in namespace nfd-check",
     "nfd compat job --image registry.example.com/app:1.0 --nodes nodes.txt "
     "--registry-auth-secret regcred -n nfd-check"),
    ("a Job that uses only a cosign-signed spec (the Secret of `cosign generate-key-pair "
     "k8s://nfd-check/cosign`)",
     "nfd compat job --image registry.example.com/app:1.0 --node worker-1 -n nfd-check "
     "--verify cosign --cosign-key-secret cosign"),
    ("the same with Notation: the policy and the truststore/ beside it go into a ConfigMap",
     "nfd compat job --image registry.example.com/app:1.0 --node worker-1 -n nfd-check "
     "--verify notation --trust-configmap nfd-trust --trust-policy notation/trustpolicy.json"),
)


MAX_NODES_FILE_BYTES = 1 << 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cluster import (
        COSIGN_PUBLIC_KEY,
        DEFAULT_CLIENT_IMAGE,
        HOST_PATH_TYPES,
        VERIFY_SCHEMES,
    )

    parser.add_argument("--image", metavar="REF", required=True, help="image to validate")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--node", metavar="NAME",
                       help="node to run on (default: wherever the scheduler puts it)")
    where.add_argument("--nodes", metavar="FILE|-",
                       help="node names, one per line: one Job per node, in a List")
    parser.add_argument("--pin", choices=("nodeName", "nodeSelector"), default="nodeName",
                        help="how the pod is bound to --node: nodeName (bypasses the "
                        "scheduler, works on cordoned nodes) or a kubernetes.io/hostname "
                        "nodeSelector (default: nodeName)")
    parser.add_argument("--client-image", default=DEFAULT_CLIENT_IMAGE, metavar="REF",
                        help=f"image holding nfd-client, as scripts/build-image makes it "
                        f"(default {DEFAULT_CLIENT_IMAGE})")
    parser.add_argument("--image-pull-secret", action="append", default=[], metavar="NAME",
                        help="Secret to pull the client image with (repeatable)")
    parser.add_argument("--registry-auth-secret", metavar="NAME",
                        help="a kubernetes.io/dockerconfigjson Secret with the credentials "
                        "for --image's registry (mounted read-only, REGISTRY_AUTH_FILE)")
    parser.add_argument("--toleration", action="append", default=[],
                        metavar="KEY[=VALUE]:EFFECT",
                        help="tolerate a taint, e.g. nvidia.com/gpu:NoSchedule (repeatable)")
    parser.add_argument("--skip-mount", action="append", default=[], metavar="NAME",
                        help="leave out a host mount the nodes lack (repeatable): "
                        f"{', '.join(HOST_PATH_TYPES)}")
    parser.add_argument("--namespace", "-n", metavar="NS", help="namespace of the Job")
    parser.add_argument("--job-name", metavar="NAME",
                        help="name of the Job (default: nfd-validate-<node>-<hash>)")
    parser.add_argument("--tags", metavar="T1,T2", help="passed to validate-node")
    parser.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                        help="passed to validate-node")
    parser.add_argument("--backoff-limit", type=int, default=0, metavar="N",
                        help="retries of a crashed pod (default 0; a verdict is never retried)")
    parser.add_argument("--ttl-seconds", type=int, default=3600, metavar="S",
                        help="delete the finished Job after S seconds (default 3600)")
    parser.add_argument("--deadline-seconds", type=int, default=600, metavar="S",
                        help="fail the Job if not finished after S seconds (default 600)")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml",
                        help="format (default: yaml)")
    signatures = parser.add_argument_group("signatures (validate-node's --verify, in the pod)")
    signatures.add_argument("--verify", choices=VERIFY_SCHEMES, default=None,
                            help="the pod uses only a spec signed as the trust material "
                            "below requires (the Job fails with exit 5 when none is)")
    signatures.add_argument("--trust-configmap", metavar="NAME",
                            help="with --verify notation: a ConfigMap of the trust policy and "
                            "store, emitted before the Jobs and mounted read-only")
    signatures.add_argument("--trust-policy", metavar="FILE",
                            help="the Notation trust policy the ConfigMap carries, its store "
                            "the truststore/ beside it (default: Notation's own)")
    signatures.add_argument("--cosign-key-secret", action="append", default=[],
                            metavar="NAME[:KEY]",
                            help="with --verify cosign: a Secret whose KEY (default "
                            f"{COSIGN_PUBLIC_KEY}) is a trusted PEM public key, mounted "
                            "read-only; only that key is mounted (repeatable)")
    parser.add_argument("validate_args", nargs="*", metavar="-- ARGS",
                        help="more validate-node arguments, after '--'")


class _Refusing(argparse.ArgumentParser):
    """validate-node's parser, raising instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"after '--': {message} (validate-node arguments)")


def check_pass_through(image: str, extra: list[str]) -> None:
    """Parse the Job's validate-node command line as validate-node will: an unknown
    flag or a bad value is refused now, not in the pod."""
    from nfd.cli import compat_validate_node

    parser = _Refusing(prog="validate-node", add_help=False, allow_abbrev=False)
    compat_validate_node.add_arguments(parser)
    args = parser.parse_args(["--image", image, "--host-prefix", "/host-", *extra,
                              "--output-json"])
    try:
        compat_validate_node.check_values(args)
    except UsageError as exc:
        raise UsageError(f"after '--': {exc} (validate-node arguments)") from None


def read_nodes(source: str) -> list[str]:
    from nfd._io import read_bounded
    from nfd.cluster import parse_node_list

    data = read_bounded(source, MAX_NODES_FILE_BYTES)
    if len(data) > MAX_NODES_FILE_BYTES:
        raise UsageError(f"--nodes {source}: more than {MAX_NODES_FILE_BYTES} bytes")
    return parse_node_list(data.decode("utf-8", errors="replace"), source)


def trust_files(args: argparse.Namespace) -> tuple[tuple[str, bytes], ...]:
    """The Notation trust policy and store the ConfigMap carries, read and checked here
    as validate-node reads them (a bad policy is exit 2 before anything is emitted)."""
    if args.trust_policy and not (args.verify == "notation" and args.trust_configmap):
        raise UsageError("--trust-policy names what --trust-configmap carries: it goes with "
                         "--verify notation --trust-configmap NAME")
    if args.verify != "notation" or not args.trust_configmap or args.cosign_key_secret:
        return ()  # nothing to carry, or a combination the Job's own check refuses
    from nfd.trust import NotationVerifier

    return tuple(NotationVerifier(args.trust_policy).trust_files().items())


def cosign_key_secrets(values: list[str]) -> tuple[tuple[str, str], ...]:
    from nfd.cluster import COSIGN_PUBLIC_KEY

    pairs = []
    for value in values:
        name, _, key = value.partition(":")
        pairs.append((name, key or COSIGN_PUBLIC_KEY))
    return tuple(pairs)


def run(args: argparse.Namespace) -> int:
    from nfd.cli._output import write_document
    from nfd.cluster import JobOptions, Toleration, build_job, build_jobs, build_trust_configmap

    extra: list[str] = []
    if args.tags:
        extra += ["--tags", args.tags]
    if args.platform:
        from nfd.oci import Platform

        Platform.parse(args.platform)  # a bad one fails here, not later in the pod
        extra += ["--platform", args.platform]
    extra += args.validate_args
    check_pass_through(args.image, extra)
    options = JobOptions(
        image=args.image, node=args.node, pin=args.pin, client_image=args.client_image,
        namespace=args.namespace, name=args.job_name, backoff_limit=args.backoff_limit,
        ttl_seconds=args.ttl_seconds, deadline_seconds=args.deadline_seconds,
        extra_args=tuple(extra), image_pull_secrets=tuple(args.image_pull_secret),
        registry_auth_secret=args.registry_auth_secret,
        tolerations=tuple(Toleration.parse(t) for t in args.toleration),
        skip_mounts=frozenset(args.skip_mount), verify=args.verify,
        trust_configmap=args.trust_configmap, trust_files=trust_files(args),
        cosign_key_secrets=cosign_key_secrets(args.cosign_key_secret))
    document = (build_jobs(options, read_nodes(args.nodes)) if args.nodes
                else build_job(options))
    if options.trust_files:  # the ConfigMap first: `kubectl apply` creates in order
        jobs = document["items"] if args.nodes else [document]
        document = {"apiVersion": "v1", "kind": "List", "metadata": {},
                    "items": [build_trust_configmap(options), *jobs]}
    write_document(document, args.output, sys.stdout)
    return 0
