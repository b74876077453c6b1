"""Where a compatibility spec comes from: a file, or the artifact attached to an image.

Every command (validate-node, validate-spec, validate-cluster, affinity) loads its
spec here, so images, platforms and artifacts resolve identically everywhere; the
context returned names the origin in reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nfd.api import CompatSpec, load_spec, loads_spec
from nfd.errors import UsageError

if TYPE_CHECKING:
    from nfd.oci import RegistryOptions


def load_compat_spec(spec_path: str | None, image: str | None,
                     registry_options: RegistryOptions | None = None,
                     artifact_digest: str | None = None) -> tuple[CompatSpec, dict[str, Any]]:
    """The spec and a context (``spec`` or ``image``/digests) for the report."""
    if spec_path is not None:
        if artifact_digest:
            raise UsageError("--artifact-digest goes with --image")
        return load_spec(spec_path), {"spec": spec_path}
    if image is None:
        raise UsageError("give --image REF or --spec FILE")
    from nfd.compat._artifacts import fetch_compat_spec
    from nfd.oci import RegistryOptions

    fetched = fetch_compat_spec(image, registry_options or RegistryOptions(),
                                artifact_digest=artifact_digest)
    spec = loads_spec(fetched.data, f"{fetched.image}@{fetched.artifact_digest}")
    context = {"image": fetched.image, "imageDigest": fetched.image_digest,
               "artifactDigest": fetched.artifact_digest, "created": fetched.created}
    return spec, context
