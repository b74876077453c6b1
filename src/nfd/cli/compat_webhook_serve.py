"""``nfd compat webhook serve``: the mutating admission webhook over HTTPS.

Pods (and, with ``--workloads``, the pod templates of Deployments,
StatefulSets, DaemonSets, Jobs and CronJobs) get the node affinity
``nfd compat affinity --patch`` would give them, for every image whose
registry is allowed and which carries a compatibility spec. Registry
credentials come from ``--registry-auth-file``, else the usual auth files.
"""

from __future__ import annotations

import argparse
from typing import Any

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from nfd.trust import Verifier

EXAMPLES = (
    ("serve on :8443 with the certificate cert-manager mounted",
     "nfd compat webhook serve --tls-cert-file /tls/tls.crt --tls-key-file /tls/tls.key "
     "--allow-registry registry.example.com"),
)


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e6:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cluster import DEFAULT_LABEL_PREFIX

    parser.add_argument("--listen", type=_listen, default=("0.0.0.0", 8443), metavar="HOST:PORT",
                        help="address to serve HTTPS on (default 0.0.0.0:8443; port 0 picks one)")
    parser.add_argument("--tls-cert-file", required=True, metavar="FILE",
                        help="serving certificate (PEM, chain first); reloaded when it changes")
    parser.add_argument("--tls-key-file", required=True, metavar="FILE", help="its private key")
    parser.add_argument("--tls-reload-seconds", type=_seconds, default=30.0, metavar="S",
                        help="look for a renewed key pair every S seconds (default 30)")
    parser.add_argument("--allow-registry", action="append", default=[], metavar="PATTERN",
                        required=True, help="a registry that may be contacted; repeat for "
                        "more, others never are. PATTERN is HOST[:PORT][/PATH], exact: HOST a "
                        "DNS name (any case), '*.' + a DNS name (one or more whole labels), "
                        "an IPv4 address or [IPv6]; no PORT: the default port only, ':*' any; "
                        "no PATH: every repository, '/a/b' that repository, '/a/*' every one "
                        "below a. E.g. ghcr.io/acme/*, *.corp.example:5000, [fd00::1]:5000")
    parser.add_argument("--failure-policy", choices=("fail", "ignore"), default="ignore",
                        help="when a registry is slow or down: deny the pod (fail) or admit "
                        "it without that image's requirements, with a warning (default ignore)")
    parser.add_argument("--timeout", type=_seconds, default=5.0, metavar="S",
                        help="answer every review within S seconds (default 5; the API server "
                        "waits 10 at most)")
    parser.add_argument("--cache-ttl", type=_seconds, default=300.0, metavar="S",
                        help="keep an image digest's spec S seconds (default 300)")
    parser.add_argument("--negative-cache-ttl", type=_seconds, default=60.0, metavar="S",
                        help="remember an image without a spec S seconds (default 60)")
    parser.add_argument("--tag-cache-ttl", type=_seconds, default=30.0, metavar="S",
                        help="keep what digest a tag names S seconds (default 30)")
    parser.add_argument("--cache-size", type=int, default=2048, metavar="N",
                        help="entries per cache (default 2048)")
    parser.add_argument("--workloads", action="store_true",
                        help="also patch the pod templates of Deployments, StatefulSets, "
                        "DaemonSets, Jobs and CronJobs")
    parser.add_argument("--label-prefix", default=DEFAULT_LABEL_PREFIX, metavar="PREFIX",
                        help=f"label prefix, as for nfd compat affinity "
                        f"(default {DEFAULT_LABEL_PREFIX})")
    parser.add_argument("--create-rules", action="store_true",
                        help="create or update each new spec's NodeFeatureRule through the "
                        "Kubernetes API (in-cluster, or --kubeconfig)")
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="with --create-rules or --unsatisfiable: use this kubeconfig, not "
                        "the service account")
    parser.add_argument("--unsatisfiable", choices=("off", "warn", "deny"), default="off",
                        help="check each pod against the cluster's NodeFeatures (listed, then "
                        "watched): warn about, or deny, a pod no current node satisfies (its "
                        "images' specs and the NFD labels its own node selector and affinity "
                        "require), naming the closest nodes and what each lacks (default off)")
    parser.add_argument("--index-watch-seconds", type=int, default=30, metavar="S",
                        help="with --unsatisfiable: each NodeFeature watch call lasts S seconds; "
                        "its events apply as they arrive, and its end (or a bookmark) confirms "
                        "the index current (default 30)")
    parser.add_argument("--index-max-staleness", type=_seconds, metavar="S",
                        help="with --unsatisfiable deny: deny only while the index was "
                        "confirmed current within S seconds, else warn (default: twice "
                        "--index-watch-seconds plus --timeout)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log records on stderr as text lines or JSON lines (ts, level, "
                        "msg and fields); outside text is escaped either way (default text)")
    parser.add_argument("--nfd-version", metavar="VERSION",
                        help="with --create-rules: the cluster's NFD release (e.g. v0.17.3); "
                        "default: read from its NodeFeatureRule CRD")
    registry = parser.add_argument_group("registry")
    registry.add_argument("--registry-auth-file", metavar="FILE",
                          help="registry credentials: a Docker/Podman auth file (as a "
                          "kubernetes.io/dockerconfigjson Secret holds); default: the usual "
                          "search (REGISTRY_AUTH_FILE, DOCKER_CONFIG, ...)")
    registry.add_argument("--ca-file", metavar="FILE",
                          help="also trust the CA certificates in FILE (PEM)")
    registry.add_argument("--plain-http", action="store_true",
                          help="use plain HTTP for all registries")
    registry.add_argument("--verify-registry", action="append", default=[],
                          metavar="PATTERN=notation[:POLICY]|cosign:KEY[,KEY]",
                          help="images of registries matching PATTERN (as --allow-registry) "
                          "need a trusted Notation or cosign signature on their compatibility "
                          "artifact; else the failure policy applies (repeatable; first match)")
    registry.add_argument("--platform", metavar="OS/ARCH[/VARIANT]",
                          help="platform of multi-platform images (default: this host's, as "
                          "nfd compat affinity)")


def _resolver(args: argparse.Namespace, log: Any) -> object:
    from nfd.cluster import check_label_prefix
    from nfd.errors import UsageError
    from nfd.oci import Platform, RegistryOptions
    from nfd.webhook import AllowList, Resolver, ResolverSettings

    if args.cache_size < 1:
        raise UsageError(f"--cache-size must be at least 1, not {args.cache_size}")
    if args.kubeconfig and not args.create_rules and args.unsatisfiable == "off":
        raise UsageError("--kubeconfig goes with --create-rules or --unsatisfiable")
    registry = RegistryOptions(plain_http=args.plain_http, ca_file=args.ca_file,
                               auth_file=args.registry_auth_file,
                               platform=Platform.parse(args.platform) if args.platform else None,
                               timeout=args.timeout)
    if args.nfd_version and not args.create_rules:
        raise UsageError("--nfd-version goes with --create-rules")
    writer, nfd = None, None
    if args.create_rules:
        from nfd.webhook import RuleWriter

        writer = RuleWriter(kubeconfig=args.kubeconfig, in_cluster=args.kubeconfig is None,
                            timeout=args.timeout)
        nfd = _nfd_support(args, writer, log)
    settings = ResolverSettings(
        registry=registry, allow=AllowList.parse(args.allow_registry),
        label_prefix=check_label_prefix(args.label_prefix), spec_ttl=args.cache_ttl,
        negative_ttl=min(args.negative_cache_ttl, args.cache_ttl), tag_ttl=args.tag_cache_ttl,
        max_entries=args.cache_size, nfd=nfd, verifiers=_verifiers(args.verify_registry))
    return Resolver(settings, writer, log=log)


def _verifiers(values: list[str]) -> tuple[tuple[str, Verifier], ...]:
    """``PATTERN=notation[:POLICY]`` or ``PATTERN=cosign:KEY[,KEY]`` for each flag, read now
    (a bad policy is exit 2 before serving)."""
    from nfd.errors import UsageError
    from nfd.trust import CosignVerifier, NotationVerifier
    from nfd.webhook import AllowList

    found: list[tuple[str, Verifier]] = []
    for value in values:
        pattern, _, how = value.partition("=")
        scheme, _, files = how.partition(":")
        AllowList.parse([pattern])
        try:
            if scheme == "notation":
                found.append((pattern, NotationVerifier(files or None)))
            elif scheme == "cosign" and files:
                found.append((pattern, CosignVerifier([f for f in files.split(",") if f])))
            else:
                raise UsageError("expected PATTERN=notation[:POLICY] or PATTERN=cosign:KEY[,KEY]")
        except UsageError as exc:
            # The library names its own argument (`trust_policy`); here the policy is the
            # POLICY part of this flag's value.
            text = str(exc).replace("`trust_policy` FILE",
                                    "--verify-registry PATTERN=notation:POLICY")
            raise UsageError(f"--verify-registry {value!r}: {text}") from None
    return tuple(found)


def _nfd_support(args: argparse.Namespace, writer: Any, log: Any) -> Any:
    """What the cluster's NFD accepts: the release given, else its CRD's schema; if that
    cannot be read, the spec's ops as written (a warning says so)."""
    from nfd.cluster import NfdSupport, parse_nfd_version
    from nfd.errors import ClusterError, SpecError

    if args.nfd_version:
        return NfdSupport.of_release(parse_nfd_version(args.nfd_version))
    try:
        return writer.nfd_support()
    except (ClusterError, SpecError) as exc:
        log("NodeFeatureRules keep the spec's ops as written", level="warning",
            reason=str(exc))
        return None


def _unsatisfiable(args: argparse.Namespace, resolver: Any, log: Any) -> Any:
    """The NodeFeature index and its check, when ``--unsatisfiable`` is on (else None)."""
    from nfd.cluster import FeatureIndex, IndexFeed, KubeOptions
    from nfd.errors import UsageError
    from nfd.webhook import UnsatisfiableCheck

    if args.unsatisfiable == "off":
        if args.index_max_staleness is not None:
            raise UsageError("--index-max-staleness goes with --unsatisfiable")
        return None
    if not 1 <= args.index_watch_seconds <= 3600:
        raise UsageError(f"--index-watch-seconds must be 1 to 3600, not "
                         f"{args.index_watch_seconds}")
    options = KubeOptions(kubeconfig=args.kubeconfig, in_cluster=args.kubeconfig is None,
                          timeout=args.timeout)
    feed = IndexFeed(FeatureIndex({}), options, args.index_watch_seconds, log=log)
    feed.client()  # a kubeconfig or service account that cannot be read: exit now
    staleness = args.index_max_staleness or 2 * args.index_watch_seconds + args.timeout
    return UnsatisfiableCheck(args.unsatisfiable, feed, resolver, staleness)


def _require_server() -> None:
    """A clear error instead of an ImportError when the server framework is missing."""
    from nfd._extras import require_extra

    require_extra("aiohttp", "webhook", "the webhook server")


def run(args: argparse.Namespace) -> int:
    import asyncio

    _require_server()
    from nfd.webhook import Logger, Resolver, ServerSettings, serve

    log = Logger(args.log_format)
    resolver = _resolver(args, log)
    assert isinstance(resolver, Resolver)
    host, port = args.listen
    settings = ServerSettings(host=host, port=port, cert_file=args.tls_cert_file,
                              key_file=args.tls_key_file, failure_policy=args.failure_policy,
                              timeout=args.timeout, workloads=args.workloads,
                              tls_reload_seconds=args.tls_reload_seconds)
    asyncio.run(serve(settings, resolver, log, unsatisfiable=_unsatisfiable(args, resolver, log)))
    return 0
