"""Where a compatibility spec comes from: a file, or the artifact attached to an image.

Every command (validate-node, validate-spec, validate-cluster, affinity) loads its
spec here, so images, platforms and artifacts resolve identically everywhere; the
context returned names the origin in reports.
"""

from __future__ import annotations

from nfd._lazy import TYPE_CHECKING
from nfd.api import CompatSpec, load_spec
from nfd.errors import UsageError

if TYPE_CHECKING:
    from typing import Any

    from nfd.oci import RegistryOptions
    from nfd.trust import Verifier


def load_compat_spec(spec_path: str | None, image: str | None,
                     registry_options: RegistryOptions | None = None,
                     digest: str | None = None, verifier: Verifier | None = None
                     ) -> tuple[CompatSpec, dict[str, Any]]:
    """The spec (from the file ``spec_path``, or attached to ``image``: the newest
    artifact, or ``digest``; with ``verifier``, the newest signed as it requires) and a
    context (``spec`` or ``image``/digests, and ``signer``) for the report."""
    if spec_path is not None:
        if digest:
            raise UsageError("`digest` goes with `image`", arguments=("digest", "image"))
        return load_spec(spec_path), {"spec": spec_path}
    if image is None:
        raise UsageError("give `image` REF or `spec_path` FILE", arguments=("image", "spec_path"))
    from nfd.compat._artifacts import fetch_compat_spec

    fetched = fetch_compat_spec(image, registry_options, digest, verifier)
    context = {"image": fetched.image, "imageDigest": fetched.image_digest,
               "artifactDigest": fetched.artifact_digest, "created": fetched.created}
    if fetched.signer is not None:
        context["signer"] = fetched.signer
    return fetched.spec, context
