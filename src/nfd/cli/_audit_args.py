"""What ``audit`` and ``what-if`` share: where specs come from, and reading the dumps."""

from __future__ import annotations

import argparse
from typing import Any

from nfd.cluster._audit import SpecLookup, SpecSource


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

    from nfd.api import load_spec
    from nfd.api._yaml import load_file
    from nfd.errors import SpecError
    from nfd.oci import Reference

    table = load_file(path)
    if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise SpecError("expected a mapping of image reference to spec file", source=path)
    base = Path(path).parent
    by_repository = {_repository(Reference, image): spec for image, spec in table.items()}
    loaded: dict[str, Any] = {}

    def lookup(image: str) -> SpecLookup:
        spec_path = table.get(image) or by_repository.get(_repository(Reference, image))
        if spec_path is None:
            return SpecLookup(None)
        full = str(base / spec_path)
        if full not in loaded:
            loaded[full] = load_spec(full)
        return SpecLookup(loaded[full], artifact=spec_path, same_as=full)

    return lookup


def _repository(reference: Any, image: str) -> str:
    try:
        ref = reference.parse(image)
    except Exception:
        return image
    return f"{ref.registry}/{ref.repository}"


def _registry_source(args: argparse.Namespace) -> SpecSource:
    import hashlib

    from nfd.api import loads_spec
    from nfd.cli._registry_options import registry_options_from_args
    from nfd.compat import fetch_compat_spec
    from nfd.errors import NoArtifactError

    options = registry_options_from_args(args)

    def lookup(image: str) -> SpecLookup:
        try:
            fetched = fetch_compat_spec(image, options)
        except NoArtifactError:
            return SpecLookup(None)
        spec = loads_spec(fetched.data, source=f"{image} artifact {fetched.artifact_digest}")
        content = hashlib.sha256(fetched.data).hexdigest()
        return SpecLookup(spec, artifact=fetched.artifact_digest, same_as=content)

    return lookup


def spec_source(args: argparse.Namespace) -> SpecSource:
    """Specs from ``--specs``, else from each image's registry."""
    return _spec_file_source(args.specs) if args.specs else _registry_source(args)


def load_pods(path: str, workloads: bool) -> list[Any]:
    from nfd.cluster._audit import pods_from_document
    from nfd.cluster._documents import MAX_DUMP_BYTES, load_documents
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
    from nfd.cluster._documents import load_cluster_dump

    return load_cluster_dump(path, only=only)


def spec_lookups(args: argparse.Namespace, images: list[str]) -> dict[str, SpecLookup]:
    from nfd.cluster._audit import fetch_specs

    return fetch_specs(images, spec_source(args))
