"""What ``audit`` and ``what-if`` share: where specs come from, and reading the dumps."""

from __future__ import annotations

import argparse
from typing import Any

from nfd.cli._cluster_args import add_cluster_access_arguments
from nfd.cluster import SpecLookup, SpecSource


def add_spec_source_arguments(parser: argparse.ArgumentParser) -> None:
    from nfd.cli._registry_options import add_registry_arguments

    parser.add_argument("--specs", metavar="FILE",
                        help="offline: a YAML/JSON mapping of image reference to spec file "
                             "(an image matches its exact reference, else its repository); "
                             "without it each image's spec is fetched from its registry, once "
                             "per image")
    add_registry_arguments(parser, platform_help=(
        "platform whose manifest a multi-platform image's spec is looked for on (default: "
        "this host's)"))


def _spec_file_source(path: str) -> SpecSource:
    from pathlib import Path

    from nfd.api import load_file, load_spec
    from nfd.errors import SpecError

    table = load_file(path)
    if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise SpecError("expected a mapping of image reference to spec file", source=path)
    base = Path(path).parent
    by_repository = {_repository(image): spec for image, spec in table.items()}
    loaded: dict[str, Any] = {}

    def lookup(image: str) -> SpecLookup:
        spec_path = table.get(image) or by_repository.get(_repository(image))
        if spec_path is None:
            return SpecLookup(None)
        full = str(base / spec_path)
        if full not in loaded:
            loaded[full] = load_spec(full)
        return SpecLookup(loaded[full], artifact=spec_path, same_as=full)

    return lookup


def _repository(image: str) -> str:
    """``registry/repository`` of ``image``; a reference that does not parse is its own key
    (it can then only match itself exactly)."""
    from nfd.errors import UsageError
    from nfd.oci import Reference

    try:
        ref = Reference.parse(image)
    except UsageError:
        return image
    return f"{ref.registry}/{ref.repository}"


def _registry_source(args: argparse.Namespace) -> SpecSource:
    import hashlib

    from nfd.api import loads_spec
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat import fetch_compat_spec_bytes
    from nfd.errors import NoArtifactError

    options = registry_options_from_args(args)

    def lookup(image: str) -> SpecLookup:
        try:
            fetched = fetch_compat_spec_bytes(image, options)
        except NoArtifactError:
            return SpecLookup(None)
        spec = loads_spec(fetched.spec_bytes,
                          source=f"{image} artifact {fetched.artifact_digest}")
        content = hashlib.sha256(fetched.spec_bytes).hexdigest()
        return SpecLookup(spec, artifact=fetched.artifact_digest, same_as=content)

    return lookup


def spec_source(args: argparse.Namespace) -> SpecSource:
    """Specs from ``--specs``, else from each image's registry."""
    return _spec_file_source(args.specs) if args.specs else _registry_source(args)


def load_pods(path: str, workloads: bool) -> list[Any]:
    from nfd.cluster import MAX_DUMP_BYTES, load_documents, pods_from_document
    from nfd.errors import SpecError

    docs = load_documents(path, MAX_DUMP_BYTES)
    if len(docs) != 1:
        raise SpecError(f"expected one document (a 'kubectl get pods -A' list), found "
                        f"{len(docs)}", source=path)
    try:
        return pods_from_document(docs[0], workloads=workloads)
    except SpecError as exc:
        if exc.source is None:
            raise SpecError(exc.message, source=path, path=exc.path) from None
        raise


def load_nodes(path: str, only: dict[str, frozenset[str] | None] | None = None) -> Any:
    from nfd.cluster import load_cluster_dump

    return load_cluster_dump(path, only=only)


def spec_lookups(args: argparse.Namespace, images: list[str]) -> dict[str, SpecLookup]:
    from nfd.cluster import fetch_specs

    return fetch_specs(images, spec_source(args))


# What ``--workloads`` lists besides pods: (group, version, plural, kind).
_WORKLOAD_RESOURCES = (
    ("apps", "v1", "deployments", "Deployment"), ("apps", "v1", "statefulsets", "StatefulSet"),
    ("apps", "v1", "daemonsets", "DaemonSet"), ("apps", "v1", "replicasets", "ReplicaSet"),
    ("batch", "v1", "jobs", "Job"), ("batch", "v1", "cronjobs", "CronJob"),
)


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the live cluster is, as ``validate-cluster`` reads it."""
    live = parser.add_argument_group(
        "live cluster (what no dump gives is listed from it)")
    add_cluster_access_arguments(live.add_mutually_exclusive_group(), live)


class LiveCluster:
    """The live cluster of the command line: one client for every listing, made on first
    use (a run from dumps never reads a kubeconfig)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._client: Any = None
        self._options: Any = None

    def __enter__(self) -> LiveCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def _connect(self) -> tuple[Any, Any]:
        if self._client is None:
            from nfd.cli._registry_options import checked_seconds, command_redactor
            from nfd.cluster import KubeOptions, kube_client

            args = self._args
            self._options = KubeOptions(
                kubeconfig=args.kubeconfig, context=args.context, in_cluster=args.in_cluster,
                page_size=args.page_size,
                timeout=checked_seconds("--request-timeout", args.request_timeout),
                redactor=command_redactor(args))
            self._client = kube_client(self._options)
        return self._options, self._client

    def pods(self, workloads: bool) -> list[Any]:
        """The active pods (and with ``workloads`` the workloads' templates), listed."""
        from nfd.cluster import Resource, list_objects, pods_from_document

        options, client = self._connect()
        resources = [Resource("", "v1", "pods", "Pod")]
        if workloads:
            resources += [Resource(*r) for r in _WORKLOAD_RESOURCES]
        items: list[Any] = []
        for resource in resources:
            listing = list_objects(options, resource, client)
            # A list's items carry no kind: the list's resource says it.
            items += [{**item, "kind": resource.kind} for item in listing.items
                      if isinstance(item, dict)]
        return pods_from_document({"items": items}, workloads=workloads)

    def nodes(self, only: dict[str, frozenset[str] | None] | None = None) -> Any:
        """The NodeFeatures, merged per node as NFD's master does, projected on ``only``."""
        from nfd.cluster import cluster_features_from_pages, iter_pages

        options, client = self._connect()
        features, _ = cluster_features_from_pages(iter_pages(options, client=client),
                                                  only=only)
        return features


def check_live_arguments(args: argparse.Namespace, live_used: bool) -> None:
    """Live-cluster options with dumps only are a usage error (they would be ignored)."""
    from nfd.errors import UsageError

    if not live_used and (args.kubeconfig or args.in_cluster or args.context):
        raise UsageError("--kubeconfig, --context and --in-cluster read a live cluster; "
                         "every input here comes from a file")
