"""``nfd compat webhook manifests``: the objects that deploy the webhook.

Pipe them to ``kubectl apply -f -``. With ``--cert-manager ISSUER`` a
Certificate makes the serving key pair and cert-manager injects its CA;
with ``--ca-bundle FILE`` the key pair is the Secret ``<name>-tls`` you create
(``kubectl -n NS create secret tls <name>-tls --cert=... --key=...``).
"""

from __future__ import annotations

import argparse
import sys

EXAMPLES = (
    ("the webhook's objects, TLS from cert-manager's Issuer selfsigned",
     "nfd compat webhook manifests --allow-registry registry.example.com "
     "--cert-manager selfsigned"),
    ("failing closed, with your own CA bundle",
     "nfd compat webhook manifests --allow-registry registry.example.com "
     "--ca-bundle ca.crt --failure-policy fail"),
)


MAX_CA_BUNDLE_BYTES = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cluster import DEFAULT_CLIENT_IMAGE
    from nfd.webhook import DEFAULT_NAME, DEFAULT_NAMESPACE

    parser.add_argument("--namespace", "-n", default=DEFAULT_NAMESPACE, metavar="NS",
                        help=f"namespace of the webhook (default {DEFAULT_NAMESPACE})")
    parser.add_argument("--name", default=DEFAULT_NAME, metavar="NAME",
                        help=f"name of its objects (default {DEFAULT_NAME})")
    parser.add_argument("--client-image", default=DEFAULT_CLIENT_IMAGE, metavar="IMG",
                        help=f"image holding nfd-client (default {DEFAULT_CLIENT_IMAGE})")
    tls = parser.add_mutually_exclusive_group(required=True)
    tls.add_argument("--cert-manager", metavar="ISSUER",
                     help="cert-manager issues the certificate: NAME (an Issuer in the "
                     "namespace), Issuer/NAME or ClusterIssuer/NAME")
    tls.add_argument("--ca-bundle", metavar="FILE",
                     help="PEM CA that signed the certificate in the Secret <name>-tls")
    parser.add_argument("--allow-registry", action="append", default=[], required=True,
                        metavar="PATTERN", help="passed to serve: registries it may contact")
    parser.add_argument("--failure-policy", choices=("fail", "ignore"), default="ignore",
                        help="for the API server (webhook down) and the server (registry down)")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="the server answers within S seconds (default 5)")
    parser.add_argument("--webhook-timeout", type=int, default=10, metavar="S",
                        help="the API server's timeoutSeconds (default 10)")
    parser.add_argument("--no-create-rules", dest="create_rules", action="store_false",
                        help="do not let the webhook write NodeFeatureRules (then apply them "
                        "with 'nfd compat affinity --emit rule | kubectl apply -f -')")
    parser.add_argument("--workloads", action="store_true",
                        help="also patch Deployments, StatefulSets, DaemonSets, Jobs, CronJobs")
    parser.add_argument("--unsatisfiable", choices=("off", "warn", "deny"), default="off",
                        help="the webhook warns about, or denies, pods no node can run "
                        "(serve --unsatisfiable); grants list and watch on NodeFeatures "
                        "(default off)")
    parser.add_argument("--registry-auth-secret", metavar="SECRET",
                        help="a kubernetes.io/dockerconfigjson Secret with registry credentials")
    parser.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml",
                        help="format (default yaml; json is a v1 List)")


def _read_ca_bundle(path: str) -> bytes:
    from nfd._io import read_bounded
    from nfd.errors import UsageError

    try:
        data = read_bounded(path, MAX_CA_BUNDLE_BYTES)
    except OSError as exc:
        raise UsageError(f"--ca-bundle {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CA_BUNDLE_BYTES:
        raise UsageError(f"--ca-bundle {path}: over {MAX_CA_BUNDLE_BYTES} bytes")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise UsageError(f"--ca-bundle {path}: no PEM certificate in it")
    return data


def run(args: argparse.Namespace) -> int:
    from nfd.cli._output import write_document
    from nfd.webhook import ManifestOptions, build_manifests

    objects = build_manifests(ManifestOptions(
        allow_registries=tuple(args.allow_registry), namespace=args.namespace, name=args.name,
        client_image=args.client_image, cert_manager_issuer=args.cert_manager,
        ca_bundle=_read_ca_bundle(args.ca_bundle) if args.ca_bundle else None,
        failure_policy=args.failure_policy, serve_timeout=args.timeout,
        webhook_timeout=args.webhook_timeout, create_rules=args.create_rules,
        workloads=args.workloads, registry_auth_secret=args.registry_auth_secret,
        unsatisfiable=args.unsatisfiable))
    if args.output == "json":
        write_document({"apiVersion": "v1", "kind": "List", "items": objects}, "json",
                       sys.stdout)
    else:
        from nfd.cli._yaml_emit import dump_yaml

        sys.stdout.write("---\n".join(dump_yaml(obj) for obj in objects))
    return 0
