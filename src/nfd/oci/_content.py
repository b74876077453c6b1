"""Descriptors, digests and manifest documents (OCI image-spec v1.1).

Everything that arrives from a registry is checked here: its digest
(``verify_digest``) and its shape (``parse_manifest``, ``descriptor_from_obj``)
before anything else reads it.
"""

from __future__ import annotations

import hashlib
import json

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd._text import clipped_repr
from nfd.errors import DigestMismatchError, RegistryError
from nfd.oci._options import (
    CREATED_ANNOTATION,
    CREATED_ANNOTATION_ALT,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
)
from nfd.oci._reference import is_valid_digest

if TYPE_CHECKING:
    from typing import Any


class Descriptor(FrozenRecord):
    """An OCI content descriptor (image-spec descriptor.md)."""

    __slots__ = ("annotations", "artifact_type", "digest", "media_type", "platform", "size")
    _uncompared = ("annotations", "platform")
    media_type: str
    digest: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str]
    platform: dict[str, Any] | None

    def __init__(
        self,
        media_type: str,
        digest: str,
        size: int,
        artifact_type: str | None = None,
        annotations: dict[str, str] | None = None,
        platform: dict[str, Any] | None = None,
    ) -> None:
        set_field(self, "media_type", media_type)
        set_field(self, "digest", digest)
        set_field(self, "size", size)
        set_field(self, "artifact_type", artifact_type)
        set_field(self, "annotations", {} if annotations is None else annotations)
        set_field(self, "platform", platform)

    @property
    def created(self) -> str | None:
        """The creation time annotation, in either spelling."""
        return self.annotations.get(CREATED_ANNOTATION) or self.annotations.get(
            CREATED_ANNOTATION_ALT
        )

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest,
                               "size": self.size}
        if self.artifact_type:
            obj["artifactType"] = self.artifact_type
        if self.annotations:
            obj["annotations"] = dict(self.annotations)
        if self.platform:
            obj["platform"] = self.platform
        return obj


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, digest: str, *, what: str, registry: str, repository: str) -> None:
    """Raise :class:`DigestMismatchError` unless ``data`` hashes to ``digest``."""
    algorithm = digest.partition(":")[0]
    if not is_valid_digest(digest):
        raise RegistryError(f"{what}: unsupported or malformed digest {clipped_repr(digest)}",
                            registry=registry, repository=repository)
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise DigestMismatchError(
            f"{what}: content hashes to {actual}, not {digest}",
            registry=registry, repository=repository,
        )


def descriptor_from_obj(obj: Any, *, where: str) -> Descriptor:
    """A descriptor from JSON, or :class:`RegistryError` naming ``where`` it was malformed."""
    if not isinstance(obj, dict):
        raise RegistryError(f"{where}: descriptor is not an object")
    media_type, digest, size = obj.get("mediaType"), obj.get("digest"), obj.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise RegistryError(f"{where}: descriptor has no mediaType")
    if not isinstance(digest, str) or not is_valid_digest(digest):
        raise RegistryError(f"{where}: descriptor has an invalid digest {clipped_repr(digest)}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RegistryError(f"{where}: descriptor has an invalid size {clipped_repr(size)}")
    artifact_type = obj.get("artifactType")
    annotations = obj.get("annotations") or {}
    if not isinstance(annotations, dict):
        annotations = {}
    platform = obj.get("platform")
    return Descriptor(
        media_type,
        digest,
        size,
        artifact_type if isinstance(artifact_type, str) and artifact_type else None,
        {str(k): str(v) for k, v in annotations.items() if isinstance(v, str)},
        platform if isinstance(platform, dict) else None,
    )


class Manifest(FrozenRecord):
    """A fetched, digest-verified manifest or index and its parsed JSON."""

    __slots__ = ("data", "descriptor", "obj")
    _unshown = ("data", "obj")
    descriptor: Descriptor
    data: bytes
    obj: dict[str, Any]

    def __init__(self, descriptor: Descriptor, data: bytes, obj: dict[str, Any]) -> None:
        set_field(self, "descriptor", descriptor)
        set_field(self, "data", data)
        set_field(self, "obj", obj)

    @property
    def is_index(self) -> bool:
        return self.descriptor.media_type in INDEX_TYPES

    @property
    def artifact_type(self) -> str | None:
        """``artifactType``, else the config media type (image-spec "Guidelines for Artifact
        Usage")."""
        value = self.obj.get("artifactType")
        if isinstance(value, str) and value:
            return value
        config = self.obj.get("config")
        if isinstance(config, dict) and isinstance(config.get("mediaType"), str):
            return str(config["mediaType"])
        return None

    def descriptors(self, key: str) -> list[Descriptor]:
        """The ``layers`` or ``manifests`` list, validated."""
        items = self.obj.get(key) or []
        if not isinstance(items, list):
            raise RegistryError(f"manifest {self.descriptor.digest}: {key} is not a list")
        return [descriptor_from_obj(item, where=f"manifest {self.descriptor.digest}: {key}[{i}]")
                for i, item in enumerate(items)]

    @property
    def subject(self) -> Descriptor | None:
        value = self.obj.get("subject")
        if value is None:
            return None
        return descriptor_from_obj(value, where=f"manifest {self.descriptor.digest}: subject")

    @property
    def annotations(self) -> dict[str, str]:
        value = self.obj.get("annotations")
        if not isinstance(value, dict):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, str)}


def parse_manifest(data: bytes, digest: str, header_type: str | None) -> Manifest:
    """Parse manifest JSON; the media type comes from the document, else the header."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(f"manifest {digest} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise RegistryError(f"manifest {digest} is not a JSON object")
    media_type = obj.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        header = (header_type or "").split(";")[0].strip()
        media_type = header or (OCI_INDEX if "manifests" in obj else "")
    if media_type not in INDEX_TYPES | MANIFEST_TYPES:
        raise RegistryError(f"manifest {digest} has unsupported media type "
                            f"{clipped_repr(media_type)}")
    return Manifest(Descriptor(media_type, digest, len(data)), data, obj)


def canonical_json(obj: Any) -> bytes:
    """Compact JSON, the bytes we push (digest is taken over exactly these)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
