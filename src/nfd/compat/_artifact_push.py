"""Attaching compatibility specs to an image, and removing them.

Attach (NFD docs, "Attach the artifact to the image"; image-spec v1.1 artifact
guidance): push the empty config and the spec layer, then the artifact manifest
with ``subject``, ``artifactType`` and a creation annotation. A registry that
indexes the subject says so with ``OCI-Subject``; for any other the referrers
tag index is updated too (distribution spec, "Pushing Manifests with Subject").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePath

from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
from nfd.compat._artifacts import ArtifactInfo, find_artifacts, resolve_image
from nfd.errors import NoArtifactError, SpecError, UsageError
from nfd.oci import (
    CREATED_ANNOTATION,
    EMPTY_DATA,
    EMPTY_DIGEST,
    EMPTY_MEDIA_TYPE,
    OCI_MANIFEST,
    Descriptor,
    Reference,
    RegistryClient,
    RegistryOptions,
    canonical_json,
    digest_of,
    fallback_tag,
    update_fallback_index,
)

# The file name ``oras pull`` writes a layer to (image-spec annotations.md), set as
# ``oras attach FILE:TYPE`` sets it; without it oras skips the layer.
TITLE_ANNOTATION = "org.opencontainers.image.title"
DEFAULT_SPEC_TITLE = "image-compatibility.yaml"


def spec_title(source: str) -> str:
    """The spec layer's file name: the spec file's own name, else a neutral one (stdin)."""
    name = PurePath(source).name
    if source in ("-", "<spec>") or not name or name.startswith("<"):
        return DEFAULT_SPEC_TITLE
    return name


@dataclass(frozen=True)
class AttachResult:
    """Where a spec was attached."""

    image: str
    subject: str
    artifact_digest: str
    created: str
    referrers_tag: str | None  # the fallback tag updated, when the registry needed one


def rfc3339(when: datetime) -> str:
    """UTC RFC 3339 with milliseconds, so that two attaches in one second still order."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{when.microsecond // 1000:03d}Z"


def build_artifact_manifest(spec: Descriptor, subject: Descriptor, created: str) -> bytes:
    """The artifact manifest bytes (their digest names the artifact)."""
    return canonical_json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": EMPTY_DIGEST, "size": len(EMPTY_DATA)},
        "layers": [spec.to_obj()],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                    "size": subject.size},
        "annotations": {CREATED_ANNOTATION: created},
    })


def attach_compat_spec(
    image: str,
    spec: bytes,
    options: RegistryOptions,
    *,
    source: str = "<spec>",
    created: datetime | None = None,
) -> AttachResult:
    """Lint ``spec`` and attach it to ``image``; with an explicit platform on a
    multi-platform image, to that platform's manifest, else to what the tag names."""
    from nfd.compat._lint import lint_spec_bytes

    if len(spec) > options.max_spec_bytes:
        raise SpecError(f"spec is {len(spec)} bytes, over the {options.max_spec_bytes}-byte "
                        "limit", source=source)
    lint_spec_bytes(spec, source)
    ref = Reference.parse(image)
    stamp = rfc3339(created or datetime.now(timezone.utc))
    with RegistryClient(options) as client:
        resolved = resolve_image(client, ref, options.platform)
        target = resolved.target if options.platform else resolved.manifest
        subject = target.descriptor
        options.report(f"uploading the spec to {ref.registry}/{ref.repository}")
        client.push_blob(ref, EMPTY_DATA, EMPTY_MEDIA_TYPE)
        layer = dataclasses.replace(client.push_blob(ref, spec, SPEC_MEDIA_TYPE),
                                    annotations={TITLE_ANNOTATION: spec_title(source)})
        body = build_artifact_manifest(layer, subject, stamp)
        options.report(f"pushing the artifact manifest for {subject.digest}")
        reply = client.push_manifest(ref, body, OCI_MANIFEST)
        artifact = Descriptor(OCI_MANIFEST, digest_of(body), len(body), ARTIFACT_TYPE,
                              {CREATED_ANNOTATION: stamp})
        tag: str | None = None
        if reply.headers.get("OCI-Subject") != subject.digest:
            tag = fallback_tag(subject.digest)
            options.report(f"updating referrers tag {tag}")
            update_fallback_index(client, ref, subject.digest, add=artifact)
        return AttachResult(str(ref), subject.digest, artifact.digest, stamp, tag)


def remove_compat_specs(
    image: str, options: RegistryOptions, *, digest: str | None = None, remove_all: bool = False
) -> list[ArtifactInfo]:
    """Delete compatibility artifacts from ``image`` and mend the referrers tag; returns them.

    Without ``digest`` or ``remove_all`` only a lone artifact is removed: with
    several, the caller must say which, so nothing is deleted by surprise.
    """
    if digest and remove_all:
        raise UsageError("--digest and --all exclude each other")
    ref = Reference.parse(image)
    with RegistryClient(options) as client:
        resolved = resolve_image(client, ref, options.platform)
        artifacts = find_artifacts(client, resolved)
        if not artifacts:
            raise NoArtifactError(f"{ref}: no compatibility artifact is attached to the image")
        if digest:
            targets = [a for a in artifacts if a.digest == digest]
            if not targets:
                raise NoArtifactError(f"{ref}: no compatibility artifact {digest} is attached "
                                      f"(found {len(artifacts)})")
        elif remove_all or len(artifacts) == 1:
            targets = artifacts
        else:
            raise UsageError(f"{ref} has {len(artifacts)} compatibility artifacts; "
                             "choose one with --digest or remove them all with --all")
        for item in targets:
            options.report(f"deleting artifact {item.digest}")
            client.delete_manifest(ref, item.digest)
        for subject in {t.subject for t in targets}:
            gone = frozenset(t.digest for t in targets if t.subject == subject)
            update_fallback_index(client, ref, subject, remove=gone)
        return targets
