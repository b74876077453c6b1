"""Attaching compatibility specs to an image.

Attach (NFD docs, "Attach the artifact to the image"; image-spec v1.1 artifact
guidance): push the empty config and the spec layer, then the artifact manifest
with ``subject``, ``artifactType`` and a creation annotation. A registry that
indexes the subject says so with ``OCI-Subject``; for any other the referrers
tag index is updated too (distribution spec, "Pushing Manifests with Subject").

A spec already in effect on the subject (the newest, same spec layer digest) is
not attached again; ``replace`` then removes the subject's other compatibility
artifacts, through the checked deletion of :mod:`nfd.compat._artifact_remove`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePath

from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE
from nfd.compat._artifact_remove import delete_artifacts
from nfd.compat._artifacts import (
    MAX_DESCRIBED,
    ArtifactInfo,
    find_artifacts,
    not_ours,
    registry_session,
    resolve_image,
    spec_layer,
)
from nfd.errors import NotFoundError, SpecError
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
    """Where a spec was attached; ``unchanged`` when it already was, as ``artifact_digest``."""

    image: str
    subject: str
    artifact_digest: str
    created: str | None
    referrers_tag: str | None  # the fallback tag updated, when the registry needed one
    unchanged: bool = False
    replaced: tuple[ArtifactInfo, ...] = ()  # older artifacts removed by ``replace``
    # listed by the referrers index but left alone by ``replace``: not ours (the reason)
    refused: tuple[tuple[ArtifactInfo, str], ...] = ()
    dry_run: bool = False  # nothing was written: what would have been



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
    spec_bytes: bytes,
    options: RegistryOptions | None = None,
    *,
    client: RegistryClient | None = None,
    source: str = "<spec>",
    created: datetime | None = None,
    replace: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> AttachResult:
    """Lint the spec ``spec_bytes`` (its YAML or JSON text) and attach it to ``image``; with
    an explicit platform on a multi-platform image, to that platform's manifest, else to
    what the tag names.

    A lint error refuses the spec (as a located :class:`SpecError`); with ``force`` only
    what NFD's engine itself rejects does (:func:`check_spec`), so a spec lint finds
    unsatisfiable can still be published on purpose. With ``dry_run`` the registry is
    read, never written: the result tells what would be attached and replaced.

    Nothing is pushed when the same spec is the one in effect there, the newest
    (``unchanged``); an identical older one is attached again, to become the newest.
    With ``replace``, the subject's other compatibility artifacts are removed once
    this one is attached (those that are checked to be ours; see ``replaced``).
    ``client``: a session to reuse (its options apply).
    """
    from nfd.api import loads_spec
    from nfd.compat._lint import check_spec, lint_spec_bytes

    options = client.options if client else options or RegistryOptions()
    if len(spec_bytes) > options.max_spec_bytes:
        raise SpecError(f"spec is {len(spec_bytes)} bytes, over the {options.max_spec_bytes}"
                        "-byte limit", source=source)
    if force:
        check_spec(loads_spec(spec_bytes, source))
    else:
        lint_spec_bytes(spec_bytes, source)
    ref = Reference.parse(image)
    stamp = rfc3339(created or datetime.now(timezone.utc))
    with registry_session(client, options if client is None else None) as client:
        resolved = resolve_image(client, ref, options.platform)
        target = resolved.target if options.platform else resolved.manifest
        subject = target.descriptor
        existing = [a for a in find_artifacts(client, resolved) if a.subject == subject.digest]
        same = _already_attached(client, ref, existing, digest_of(spec_bytes),
                                 newest_only=not replace)
        if same is not None:
            result = AttachResult(str(ref), subject.digest, same.digest, same.created, None,
                                  unchanged=True, dry_run=dry_run)
        elif dry_run:
            layer = Descriptor(SPEC_MEDIA_TYPE, digest_of(spec_bytes), len(spec_bytes),
                               annotations={TITLE_ANNOTATION: spec_title(source)})
            body = build_artifact_manifest(layer, subject, stamp)
            result = AttachResult(str(ref), subject.digest, digest_of(body), stamp, None,
                                  dry_run=True)
        else:
            result = _push_artifact(client, ref, spec_bytes, subject, stamp, spec_title(source))
        if not replace:
            return result
        older = [a for a in existing if a.digest != result.artifact_digest]
        removal = delete_artifacts(client, ref, older, strict_targets=False, dry_run=dry_run)
        return dataclasses.replace(result, replaced=tuple(removal.removed),
                                   refused=tuple(removal.refused))


def _already_attached(client: RegistryClient, ref: Reference, existing: list[ArtifactInfo],
                      spec_digest: str, *, newest_only: bool) -> ArtifactInfo | None:
    """The artifact of ``existing`` (newest first) whose spec layer is ``spec_digest``.

    With ``newest_only``, only the one in effect (the newest that is ours) counts: an identical
    but older spec is attached again, so that it becomes the newest, as the caller asked.
    (With ``replace`` the others go, so any identical one is the one in effect after.)
    Only the newest ``MAX_DESCRIBED`` are looked at: each costs a request."""
    for item in existing[:MAX_DESCRIBED]:
        try:
            manifest = client.get_manifest(ref, expected=item.descriptor)
        except NotFoundError:
            continue  # a stale referrers entry: nothing attached there
        if not_ours(manifest, item.subject, client.options.max_spec_bytes) is not None:
            continue
        if spec_layer(manifest).digest == spec_digest:
            return item
        if newest_only:
            return None
    return None


def _push_artifact(client: RegistryClient, ref: Reference, spec_bytes: bytes, subject: Descriptor,
                   stamp: str, title: str) -> AttachResult:
    options = client.options
    options.report(f"uploading the spec to {ref.registry}/{ref.repository}")
    client.push_blob(ref, EMPTY_DATA, EMPTY_MEDIA_TYPE)
    layer = client.push_blob(ref, spec_bytes, SPEC_MEDIA_TYPE).replace(
        annotations={TITLE_ANNOTATION: title})
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
