"""Removing compatibility artifacts from an image, deleting only what is checked to be ours.

A referrers listing is a claim, not a proof: the fallback index is a plain tag
that anyone with push access may rewrite, and an entry in it can name any
manifest of the repository (another image, say). So before anything is deleted,
every target is fetched and must be an nfd compatibility artifact (artifact
type and spec layer media type) whose ``subject`` is the image it was listed
for; the others are left alone and reported. Afterwards the fallback index
loses the deleted entries, and keeps everyone else's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nfd.compat._artifacts import (
    ArtifactInfo,
    find_artifacts,
    not_ours,
    pick_artifact,
    registry_session,
    resolve_image,
)
from nfd.errors import NoArtifactError, NotFoundError, UsageError
from nfd.oci import Reference, RegistryClient, RegistryOptions, update_fallback_index


@dataclass(frozen=True)
class Removal:
    """What a removal did: the artifacts deleted, and those refused with the reason."""

    removed: list[ArtifactInfo] = field(default_factory=list)
    refused: list[tuple[ArtifactInfo, str]] = field(default_factory=list)


def remove_compat_specs(
    image: str,
    options: RegistryOptions | None = None,
    digests: Iterable[str] | None = None,
    every: bool = False,
    *,
    client: RegistryClient | None = None,
    dry_run: bool = False,
) -> Removal:
    """Delete compatibility artifacts from ``image`` and mend the referrers tag.

    ``digests`` names the artifacts; ``every`` takes every one listed; with neither,
    only a lone artifact is removed (with several the caller must say which, so
    nothing is deleted by surprise). A named artifact that is not a compatibility
    artifact of the image is an error and nothing is deleted; under ``every`` such
    entries are refused (see :class:`Removal`) and the rest removed. A digest may be
    shortened (as ``list`` shows it) while only one artifact's starts so. With
    ``dry_run`` every check is made and nothing is deleted: ``removed`` is what would go.
    ``client``: a session to reuse (its options apply).
    """
    if isinstance(digests, str):  # one digest given as such, not its characters
        digests = [digests]
    wanted = list(dict.fromkeys(digests or ()))
    if wanted and every:
        raise UsageError("`digests` and `every` exclude each other",
                         arguments=("digests", "every"))
    ref = Reference.parse(image)
    with registry_session(client, options) as client:
        artifacts = find_artifacts(client, resolve_image(client, ref, client.options.platform))
        if not artifacts:
            raise NoArtifactError(f"{ref}: no compatibility artifact is attached to the image")
        if wanted:
            picked = (pick_artifact(ref, artifacts, d) for d in wanted)
            targets = list({a.digest: a for a in picked}.values())
        elif every or len(artifacts) == 1:
            targets = artifacts
        else:
            raise UsageError(f"{ref} has {len(artifacts)} compatibility artifacts; choose "
                             "them with `digests` or remove them all with `every`",
                             arguments=("digests", "every"))
        removal = delete_artifacts(client, ref, targets, strict_targets=bool(wanted),
                                   dry_run=dry_run)
    if not removal.removed:
        item, reason = removal.refused[0]
        raise NoArtifactError(f"{ref}: nothing removed: {item.digest} is not a compatibility "
                              f"artifact of the image ({reason})")
    return removal


def delete_artifacts(client: RegistryClient, ref: Reference, targets: list[ArtifactInfo],
                     *, strict_targets: bool, dry_run: bool = False) -> Removal:
    """Check every target, then delete those that are ours and mend the fallback indexes.

    With ``strict_targets`` (the caller named them) one refusal stops everything
    before any delete; otherwise refusals are returned with their reasons.
    """
    ours, refused, gone = [], [], []
    for item in targets:
        try:
            manifest = client.get_manifest(ref, expected=item.descriptor)
        except NotFoundError:
            gone.append(item)  # a stale entry: nothing to delete, only the index to mend
            continue
        reason = not_ours(manifest, item.subject, client.options.max_spec_bytes)
        if reason is None:
            ours.append(item)
        elif strict_targets:
            raise NoArtifactError(f"{ref}: {item.digest} is not a compatibility artifact of "
                                  f"the image ({reason}); nothing was removed")
        else:
            client.options.report(f"not deleting {item.digest}: {reason}")
            refused.append((item, reason))
    if dry_run:
        return Removal(ours + gone, refused)
    for item in ours:
        client.options.report(f"deleting artifact {item.digest}")
        client.delete_manifest(ref, item.digest)
    done = ours + gone
    for subject in dict.fromkeys(t.subject for t in done):
        deleted = frozenset(t.digest for t in done if t.subject == subject)
        update_fallback_index(client, ref, subject, remove=deleted)
    return Removal(done, refused)
