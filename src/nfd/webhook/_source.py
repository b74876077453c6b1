"""The one place the webhook reaches the registry and spec-fetching code.

Two blocking steps, run in worker threads by the resolver: what digest a tag
names now, and the compatibility spec attached to a digest. Everything else in
the webhook speaks to these two functions only, so moving to the public
``nfd.compat.fetch_compat_spec`` / ``nfd.oci.RegistryOptions`` API is a change
of this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from nfd.api import CompatSpec, loads_spec
from nfd.compat._artifacts import fetch_compat_spec
from nfd.errors import NoArtifactError
from nfd.oci import Reference, RegistryClient, RegistryOptions


@dataclass(frozen=True)
class ImageSpec:
    """The spec attached to an image digest, and the artifact it came from."""

    spec: CompatSpec
    artifact_digest: str


def resolve_digest(ref: Reference, options: RegistryOptions) -> str:
    """The digest of the manifest (or index) ``ref``'s tag names now."""
    if ref.digest:
        return ref.digest
    with RegistryClient(options) as client:
        return client.get_manifest(ref).descriptor.digest


def fetch_spec(ref: Reference, digest: str, options: RegistryOptions) -> ImageSpec | None:
    """The newest compatibility spec attached to ``ref`` at ``digest``; ``None`` when none is.

    Raises :class:`~nfd.errors.RegistryError` kinds when the registry fails, and
    :class:`~nfd.errors.SpecError` when the attached spec is invalid.
    """
    pinned = str(ref.with_digest(digest))
    try:
        fetched = fetch_compat_spec(pinned, options)
    except NoArtifactError:
        return None
    return ImageSpec(loads_spec(fetched.data, f"{pinned} artifact {fetched.artifact_digest}"),
                     fetched.artifact_digest)
