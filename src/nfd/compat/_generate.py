"""``generate``: a compatibility spec from an image's own metadata (its ``NVIDIA_REQUIRE_*``)."""

from __future__ import annotations

from nfd.compat._artifacts import resolve_image
from nfd.compat._nvidia_require import MAX_CONFIG_BYTES, env_from_config
from nfd.errors import RegistryError
from nfd.oci import Reference, RegistryClient, RegistryOptions, descriptor_from_obj


class ImageConfig:
    """An image's config environment, and which manifest (and platform) it came from."""

    __slots__ = ("env", "image", "manifest_digest", "platform")

    def __init__(self, image: str, manifest_digest: str, platform: str | None,
                 env: dict[str, str]) -> None:
        self.image = image
        self.manifest_digest = manifest_digest
        self.platform = platform
        self.env = env


def read_image_config(image: str, options: RegistryOptions | None = None) -> ImageConfig:
    """The config ``Env`` of ``image`` for ``options.platform`` (default: this host's).

    The config blob is size-bounded and digest-verified like every blob we read.
    """
    options = options or RegistryOptions()
    ref = Reference.parse(image)
    with RegistryClient(options) as client:
        resolved = resolve_image(client, ref, options.platform)
        target = resolved.target
        if target.is_index:
            raise RegistryError(f"{ref}: a multi-platform image without a manifest for this "
                                "platform; name one with the platform option",
                                registry=ref.registry, repository=ref.repository)
        config = target.obj.get("config")
        if not isinstance(config, dict):
            raise RegistryError(f"{ref}: manifest {target.descriptor.digest} has no config",
                                registry=ref.registry, repository=ref.repository)
        descriptor = descriptor_from_obj(config, where=f"manifest {target.descriptor.digest}: "
                                         "config")
        data = client.get_blob(ref, descriptor, limit=MAX_CONFIG_BYTES)
    platform = str(options.platform) if options.platform else None
    return ImageConfig(str(ref), target.descriptor.digest, platform,
                       env_from_config(data, f"{ref} config {descriptor.digest}"))
