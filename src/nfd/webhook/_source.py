"""The one place the webhook reaches the registry: the public use-case API only.

Two blocking steps, run in worker threads by the resolver: what digest a tag
names now, and the compatibility spec attached to a digest
(:func:`nfd.compat.fetch_compat_spec_bytes`). Each step gets its own overall
deadline (``RegistryOptions.deadline``), so a worker never outlives the
review's budget by more than that, whatever the registry does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nfd._text import printable_line
from nfd.api import CompatSpec, loads_spec
from nfd.compat import fetch_compat_spec_bytes
from nfd.errors import NoArtifactError
from nfd.oci import Reference, RegistryClient, RegistryOptions
from nfd.trust import Verifier


@dataclass(frozen=True)
class ImageSpec:
    """The spec attached to an image digest, and the artifact it came from."""

    spec: CompatSpec
    artifact_digest: str
    # What was passed over to find it (a forged listing entry, a newer unsigned artifact).
    warnings: tuple[str, ...] = ()


def _bounded(options: RegistryOptions) -> RegistryOptions:
    """``options`` with the whole step due within one ``timeout`` from now."""
    return options.replace(deadline=time.monotonic() + options.timeout)


def resolve_digest(ref: Reference, options: RegistryOptions) -> str:
    """The digest of the manifest (or index) ``ref``'s tag names now."""
    if ref.digest:
        return ref.digest
    with RegistryClient(_bounded(options)) as client:
        return client.get_manifest(ref).descriptor.digest


def fetch_spec(ref: Reference, digest: str, options: RegistryOptions,
               verifier: Verifier | None = None) -> ImageSpec | None:
    """The newest compatibility spec attached to ``ref`` at ``digest`` (with ``verifier``:
    the newest signed as its policy requires); ``None`` when none is.

    Raises :class:`~nfd.errors.RegistryError` kinds when the registry fails,
    :class:`~nfd.errors.SpecError` when the attached spec is invalid, and
    :class:`~nfd.errors.VerificationError` when no artifact is signed as required.
    """
    pinned = str(ref.with_digest(digest))
    warnings: list[str] = []
    bounded = _bounded(options).replace(warning=warnings.append)
    try:
        fetched = fetch_compat_spec_bytes(pinned, bounded, verifier=verifier)
    except NoArtifactError:
        return None
    return ImageSpec(loads_spec(fetched.spec_bytes,
                                f"{pinned} artifact {fetched.artifact_digest}"),
                     fetched.artifact_digest, tuple(printable_line(w) for w in warnings))
