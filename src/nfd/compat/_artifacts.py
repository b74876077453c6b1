"""Finding and reading the compatibility artifact attached to an image.

The artifact (NFD docs, "Image Compatibility": an OCI artifact of type
``application/vnd.nfd.image-compatibility.v1alpha1``) refers to the image by
``subject``. For a multi-platform image it may be attached to the index or to
the platform's manifest, so both are searched. The newest one (by its
``org.opencontainers.image.created`` annotation) wins unless a digest is pinned.

A referrers listing is only a claim: before a spec is read (or, in
:mod:`nfd.compat._artifact_remove`, before an artifact is deleted) its manifest
must itself be a compatibility artifact whose subject is exactly the manifest
we resolved, with exactly one spec layer (:func:`not_ours`); listed entries
that are not are passed over with a warning, never used.
"""

from __future__ import annotations

import re

from nfd._lazy import TYPE_CHECKING
from nfd._record import FrozenRecord, set_field
from nfd._text import clipped_repr
from nfd.api import ARTIFACT_TYPE, SPEC_MEDIA_TYPE, CompatSpec, loads_spec
from nfd.errors import (
    DigestMismatchError,
    NoArtifactError,
    NotFoundError,
    SpecError,
    TooLargeError,
    UsageError,
    VerificationError,
)
from nfd.oci import (
    CREATED_ANNOTATION,
    CREATED_ANNOTATION_ALT,
    MAX_SPEC_BYTES,
    Descriptor,
    Manifest,
    Platform,
    Reference,
    RegistryClient,
    RegistryOptions,
    describe_platforms,
    host_platform,
    list_referrers,
    select_platform,
    split_digest_prefix,
)

if TYPE_CHECKING:
    from datetime import datetime

    from nfd.trust import Verifier

_FRACTION = re.compile(r"(\.\d{6})\d+")
# Listing reads each artifact (two requests, up to a spec's size): a referrers index
# naming thousands must not turn one `list` into thousands of downloads.
MAX_DESCRIBED = 100
# Artifacts whose signatures are checked before giving up (each costs a referrers listing
# and up to MAX_SIGNATURES envelope reads): newer unsigned ones cannot make a fetch unbounded.
MAX_UNVERIFIED = 8


class FetchedSpec(FrozenRecord):
    """The spec layer of an image's compatibility artifact, as bytes, and where it came
    from: the manifest (or index) it is attached to, and the artifact's manifest."""

    __slots__ = ("artifact_digest", "created", "image", "image_digest", "signer", "spec_bytes")
    spec_bytes: bytes
    image: str
    image_digest: str
    artifact_digest: str
    created: str | None
    signer: str | None

    def __init__(
        self,
        spec_bytes: bytes,
        image: str,
        image_digest: str,
        artifact_digest: str,
        created: str | None,
        signer: str | None = None,
    ) -> None:
        set_field(self, "spec_bytes", spec_bytes)
        set_field(self, "image", image)
        set_field(self, "image_digest", image_digest)
        set_field(self, "artifact_digest", artifact_digest)
        set_field(self, "created", created)
        set_field(self, "signer", signer)

    @property
    def data(self) -> bytes:
        """:attr:`spec_bytes`, by the name it had before."""
        return self.spec_bytes


class AttachedSpec(FrozenRecord):
    """The compatibility spec attached to an image, parsed, and where it came from."""

    __slots__ = (
        "artifact_digest", "created", "image", "image_digest", "signer", "spec", "spec_bytes",
    )
    spec: CompatSpec
    image: str
    image_digest: str
    artifact_digest: str
    created: str | None
    spec_bytes: bytes
    signer: str | None

    def __init__(
        self,
        spec: CompatSpec,
        image: str,
        image_digest: str,
        artifact_digest: str,
        created: str | None,
        spec_bytes: bytes,
        signer: str | None = None,
    ) -> None:
        set_field(self, "spec", spec)
        set_field(self, "image", image)
        set_field(self, "image_digest", image_digest)
        set_field(self, "artifact_digest", artifact_digest)
        set_field(self, "created", created)
        set_field(self, "spec_bytes", spec_bytes)
        set_field(self, "signer", signer)

    @property
    def data(self) -> bytes:
        """:attr:`spec_bytes`, by the name :func:`fetch_compat_spec`'s result had before."""
        return self.spec_bytes


def registry_session(client: RegistryClient | None, options: RegistryOptions | None
                     ) -> _Session:
    """``with registry_session(client, options) as session:`` ``client`` (the caller's
    session: its tokens and connections are reused, and it is left open), else a client of
    its own for ``options``, closed after."""
    if client is not None and options is not None and options is not client.options:
        raise UsageError("give `options` or `client`, not both: a client has its options",
                         arguments=("options", "client"))
    return _Session(client, options)


class _Session:
    # A class, not contextlib.contextmanager: contextlib would be the only reason a
    # registry command's cold start imports it.
    def __init__(self, client: RegistryClient | None, options: RegistryOptions | None) -> None:
        self._owned = client is None
        self._client = RegistryClient(options or RegistryOptions()) if client is None else client

    def __enter__(self) -> RegistryClient:
        return self._client

    def __exit__(self, *exc_info: object) -> None:
        if self._owned:
            self._client.close()


def _signer(client: RegistryClient, ref: Reference, descriptor: Descriptor,
            verifier: Verifier) -> str:
    """Who signed the artifact ``descriptor`` names (the trust code loads only with a policy)."""
    from nfd.trust import verify_artifact

    return verify_artifact(client, ref, descriptor, verifier).signer


class ArtifactInfo(FrozenRecord):
    """One compatibility artifact attached to an image, as its referrers listing names it.

    ``spec_size``, ``descriptions`` and ``tags`` are filled in by :func:`list_compat_artifacts`,
    which reads each artifact; ``problem`` then says why one is not usable (not an nfd
    compatibility artifact of this image, or a spec that does not parse).
    """

    __slots__ = (
        "artifact_type", "created", "descriptions", "digest", "manifest_size", "media_type",
        "problem", "signer", "spec_size", "subject", "tags",
    )
    digest: str
    created: str | None
    manifest_size: int
    artifact_type: str
    subject: str
    media_type: str
    spec_size: int | None
    descriptions: tuple[str, ...]
    tags: tuple[str, ...]
    problem: str | None
    signer: str | None

    def __init__(
        self,
        digest: str,
        created: str | None,
        manifest_size: int,
        artifact_type: str,
        subject: str,
        media_type: str,
        spec_size: int | None = None,
        descriptions: tuple[str, ...] = (),
        tags: tuple[str, ...] = (),
        problem: str | None = None,
        signer: str | None = None,
    ) -> None:
        set_field(self, "digest", digest)
        set_field(self, "created", created)
        set_field(self, "manifest_size", manifest_size)
        set_field(self, "artifact_type", artifact_type)
        set_field(self, "subject", subject)
        set_field(self, "media_type", media_type)
        set_field(self, "spec_size", spec_size)
        set_field(self, "descriptions", descriptions)
        set_field(self, "tags", tags)
        set_field(self, "problem", problem)
        set_field(self, "signer", signer)

    @property
    def descriptor(self) -> Descriptor:
        """The descriptor to fetch the artifact manifest with."""
        return Descriptor(self.media_type, self.digest, self.manifest_size)


class ResolvedImage(FrozenRecord):
    """What an image reference points to: a manifest, or an index and its platform's manifest."""

    __slots__ = ("manifest", "platform_manifest", "ref")
    ref: Reference
    manifest: Manifest
    platform_manifest: Manifest | None

    def __init__(
        self,
        ref: Reference,
        manifest: Manifest,
        platform_manifest: Manifest | None,
    ) -> None:
        set_field(self, "ref", ref)
        set_field(self, "manifest", manifest)
        set_field(self, "platform_manifest", platform_manifest)

    @property
    def subjects(self) -> list[str]:
        """Digests an artifact may be attached to: the index first, then the platform manifest."""
        digests = [self.manifest.descriptor.digest]
        if self.platform_manifest is not None:
            digests.append(self.platform_manifest.descriptor.digest)
        return digests

    @property
    def target(self) -> Manifest:
        """The manifest the image runs as: the platform's, else the one the tag names."""
        return self.platform_manifest or self.manifest


def created_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed), or ``None`` when absent or unreadable."""
    if not value:
        return None
    from datetime import datetime, timezone

    text = _FRACTION.sub(r"\1", value.strip()).replace("z", "Z")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def resolve_image(
    client: RegistryClient, ref: Reference, platform: Platform | None
) -> ResolvedImage:
    """Fetch what ``ref`` names; on an index, also the manifest for ``platform``.

    Without an explicit platform this host's is used, and an index lacking it is
    not an error (the artifact may hang on the index itself).
    """
    client.options.report(f"resolving {ref}")
    manifest = client.get_manifest(ref)
    if not manifest.is_index:
        return ResolvedImage(ref, manifest, None)
    wanted = platform or host_platform()
    entries = [e for e in (manifest.obj.get("manifests") or []) if isinstance(e, dict)]
    entry = select_platform(entries, wanted)
    if entry is None:
        if platform is not None:
            raise NotFoundError(
                f"image {ref} has no manifest for platform {platform} "
                f"(it has: {describe_platforms(entries)})",
                registry=ref.registry, repository=ref.repository,
            )
        return ResolvedImage(ref, manifest, None)
    descriptor = manifest.descriptors("manifests")[entries.index(entry)]
    return ResolvedImage(ref, manifest, client.get_manifest(ref, expected=descriptor))


def find_artifacts(client: RegistryClient, image: ResolvedImage) -> list[ArtifactInfo]:
    """The compatibility artifacts on ``image``, newest first."""
    found: dict[str, ArtifactInfo] = {}
    order: list[str] = []
    for subject in image.subjects:
        client.options.report(f"looking for compatibility artifacts on {subject}")
        for desc in list_referrers(client, image.ref, subject, ARTIFACT_TYPE):
            if desc.digest not in found:
                order.append(desc.digest)
            found[desc.digest] = _info(desc, subject)
    return _newest_first([found[d] for d in order])


def _info(desc: Descriptor, subject: str) -> ArtifactInfo:
    return ArtifactInfo(desc.digest, desc.created, desc.size, desc.artifact_type or "",
                        subject, desc.media_type)


def not_ours(manifest: Manifest, subject: str, max_spec_bytes: int = MAX_SPEC_BYTES
             ) -> str | None:
    """Why ``manifest`` is not an nfd compatibility artifact of ``subject``; ``None`` if it is.

    A referrers listing (above all the fallback index, which anyone who can push a tag
    can write, but also an API answer: the registry is not the author) only claims
    this; the manifest itself must agree before its spec is read or it is deleted. It
    must be an artifact manifest (not an index) of our artifact type whose ``subject``
    is exactly the manifest we resolved (image-spec manifest.md "subject"), carrying
    exactly one layer, the spec, in the spec media type and within the spec bound
    (:func:`spec_layer`); the layer's digest is checked when it is read.
    """
    if manifest.is_index:
        return "it is an image index, not an artifact manifest"
    if manifest.artifact_type != ARTIFACT_TYPE:
        return f"its artifact type is {clipped_repr(manifest.artifact_type)}, not {ARTIFACT_TYPE}"
    declared = manifest.subject
    if declared is None or declared.digest != subject:
        named = declared.digest if declared else "missing"
        return f"its subject is {named}, not {subject}"
    layers = manifest.descriptors("layers")
    if len(layers) != 1:
        return f"it has {len(layers)} layers, not exactly one spec layer"
    layer = layers[0]
    if layer.media_type != SPEC_MEDIA_TYPE:
        return f"its layer is of type {clipped_repr(layer.media_type)}, not {SPEC_MEDIA_TYPE}"
    if layer.size > max_spec_bytes:
        return f"its spec layer is {layer.size} bytes, over the {max_spec_bytes}-byte limit"
    return None


def spec_layer(manifest: Manifest) -> Descriptor:
    """The spec layer of a manifest that :func:`not_ours` accepted (its only layer)."""
    return manifest.descriptors("layers")[0]


def _newest_first(items: list[ArtifactInfo]) -> list[ArtifactInfo]:
    """Sort by creation time, newest first; undated ones last (NFD treats them as oldest).

    Among equal times the later-listed wins, as in NFD (stable sort, take the last).
    """
    if len(items) < 2:
        return items  # nothing to order: the clock module is not even imported
    from datetime import datetime, timezone

    floor = datetime.min.replace(tzinfo=timezone.utc)
    ranked = sorted(enumerate(items),
                    key=lambda pair: (created_time(pair[1].created) or floor, pair[0]),
                    reverse=True)
    return [item for _, item in ranked]


def fetch_compat_spec(
    image: str, options: RegistryOptions | None = None, digest: str | None = None,
    verifier: Verifier | None = None, *, client: RegistryClient | None = None,
) -> AttachedSpec:
    """The parsed spec of ``image``'s newest compatibility artifact (or of artifact
    ``digest``), with the digests it was found under (and its ``signer``, with a
    ``verifier``); see :func:`fetch_compat_spec_bytes`.

    Raises :class:`SpecError` (naming ``image@artifact``) when the spec does not load.
    """
    fetched = fetch_compat_spec_bytes(image, options, digest, verifier, client=client)
    spec = loads_spec(fetched.spec_bytes, f"{fetched.image}@{fetched.artifact_digest}")
    return AttachedSpec(spec, fetched.image, fetched.image_digest, fetched.artifact_digest,
                        fetched.created, fetched.spec_bytes, fetched.signer)


def fetch_compat_spec_bytes(
    image: str, options: RegistryOptions | None = None, digest: str | None = None,
    verifier: Verifier | None = None, *, client: RegistryClient | None = None,
) -> FetchedSpec:
    """The spec layer of ``image``'s newest compatibility artifact (or of artifact
    ``digest``), as the registry holds it (verified against its digest, not parsed).

    Looks on the image (and, for a multi-platform image, on the manifest of
    ``options.platform``, else this host's). Listed artifacts that are not really
    compatibility artifacts of the image are passed over. ``options.timeout``
    bounds each registry operation and ``options.deadline`` the whole fetch.

    With a ``verifier`` (:mod:`nfd.trust`), only an artifact signed as its policy requires
    is used: the newest such one, newer unsigned ones passed over with a warning.
    ``client``: a session to reuse (its options apply).

    Raises :class:`RegistryError` and its kinds for registry failures,
    :class:`NoArtifactError` when the image carries no (such) compatibility artifact,
    :class:`VerificationError` when none carries a trusted signature.
    """
    ref = Reference.parse(image)
    with registry_session(client, options) as session:
        resolved = resolve_image(session, ref, session.options.platform)
        artifacts = find_artifacts(session, resolved)
        if digest is not None:
            artifacts = [pick_artifact(ref, artifacts, digest)]
            digest = artifacts[0].digest
        unverified: list[VerificationError] = []
        for chosen in artifacts:
            found = _usable(session, ref, chosen)
            if not isinstance(found, Manifest):
                if digest is not None:
                    raise NoArtifactError(f"{ref}: {digest} is not a compatibility artifact of "
                                          f"the image: {found}")
                session.options.warn(f"passing over compatibility artifact {chosen.digest} "
                                     f"listed for {chosen.subject}: {found}")
                continue
            if verifier is None:
                return _read_spec(session, ref, chosen, found)
            try:
                signer = _signer(session, ref, found.descriptor, verifier)
            except VerificationError as exc:
                unverified.append(exc)
                if digest is not None or len(unverified) >= MAX_UNVERIFIED:
                    break
                continue
            _warn_untrusted(session.options, unverified)
            return _read_spec(session, ref, chosen, found).replace(signer=signer)
        if unverified:  # the newest one's reason is the error; the others are warnings
            _warn_untrusted(session.options, unverified[1:])
            raise unverified[0]
        raise NoArtifactError(f"{ref}: no compatibility artifact is attached to the image")


def pick_artifact(ref: Reference, artifacts: list[ArtifactInfo], digest: str) -> ArtifactInfo:
    """The artifact ``digest`` names: the full digest, or a prefix that only one has."""
    exact = [a for a in artifacts if a.digest == digest]
    if exact:
        return exact[0]
    short = split_digest_prefix(digest)
    found = []
    if short is not None:
        algorithm, hexdigits = short
        found = [a for a in artifacts if a.digest.partition(":")[2].startswith(hexdigits)
                 and (algorithm is None or a.digest.startswith(algorithm + ":"))]
    if len(found) > 1:
        raise UsageError(f"{ref}: {digest} is the start of {len(found)} artifacts' digests "
                         f"({', '.join(a.digest for a in found[:3])}): give more of it")
    if not found:
        raise NoArtifactError(f"{ref}: no compatibility artifact {digest} is attached "
                              f"(found {len(artifacts)})")
    return found[0]


def _warn_untrusted(options: RegistryOptions, passed_over: list[VerificationError]) -> None:
    for exc in passed_over:
        options.warn(f"passing over compatibility artifact {exc.artifact}: not trusted: "
                     f"{exc.reason}: {exc.detail}")


def _usable(client: RegistryClient, ref: Reference, item: ArtifactInfo) -> Manifest | str:
    """The manifest of ``item`` if it is a compatibility artifact of its subject, else why not."""
    client.options.report(f"fetching compatibility artifact {item.digest}")
    try:
        manifest = client.get_manifest(ref, expected=item.descriptor)
    except NotFoundError:
        return "it is listed, but the registry does not have it"
    return not_ours(manifest, item.subject, client.options.max_spec_bytes) or manifest


def _read_spec(client: RegistryClient, ref: Reference, chosen: ArtifactInfo,
               manifest: Manifest) -> FetchedSpec:
    """The spec of an artifact :func:`not_ours` accepted: its one layer, size- and
    digest-verified as it is read."""
    data = client.get_blob(ref, spec_layer(manifest), limit=client.options.max_spec_bytes)
    annotations = manifest.annotations
    created = annotations.get(CREATED_ANNOTATION) or annotations.get(
        CREATED_ANNOTATION_ALT) or chosen.created
    return FetchedSpec(data, str(ref), chosen.subject, chosen.digest, created)


def list_compat_artifacts(image: str, options: RegistryOptions | None = None,
                          verifier: Verifier | None = None, *,
                          client: RegistryClient | None = None) -> list[ArtifactInfo]:
    """The compatibility artifacts attached to ``image`` (and to its platform's manifest),
    newest first, each read for its spec's size, descriptions and tags; empty when none.
    With a ``verifier``, each also says who signed it (``signer``) or why it is not
    trusted (``problem``). ``client``: a session to reuse (its options apply)."""
    ref = Reference.parse(image)
    with registry_session(client, options) as session:
        found = find_artifacts(session, resolve_image(session, ref, session.options.platform))
        unread = f"not read: only the newest {MAX_DESCRIBED} artifacts are"
        return [describe_artifact(session, ref, item, verifier) if i < MAX_DESCRIBED
                else item.replace(problem=unread) for i, item in enumerate(found)]


def describe_artifact(client: RegistryClient, ref: Reference, item: ArtifactInfo,
                      verifier: Verifier | None = None) -> ArtifactInfo:
    """``item`` with what its manifest and spec say (or the ``problem`` found reading them)."""
    client.options.report(f"reading compatibility artifact {item.digest}")
    try:
        manifest = client.get_manifest(ref, expected=item.descriptor)
        problem = not_ours(manifest, item.subject, client.options.max_spec_bytes)
        if problem is not None:
            return item.replace(problem=f"not a compatibility artifact of this image: {problem}")
        fetched = _read_spec(client, ref, item, manifest)
    except (NotFoundError, DigestMismatchError, TooLargeError, NoArtifactError) as exc:
        return item.replace(problem=str(exc))
    described = item.replace(created=fetched.created, spec_size=len(fetched.spec_bytes))
    if verifier is not None:
        try:
            described = described.replace(
                signer=_signer(client, ref, manifest.descriptor, verifier))
        except VerificationError as exc:
            return described.replace(problem=f"not trusted: {exc}")
    try:
        spec = loads_spec(fetched.spec_bytes, f"{ref}@{item.digest}")
    except SpecError as exc:
        return described.replace(problem=f"the spec does not load: {exc.message}")
    return described.replace(descriptions=tuple(c.description for c in spec.compatibilities),
                             tags=tuple(c.tag for c in spec.compatibilities))
