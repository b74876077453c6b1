"""Referrers of a manifest: the Referrers API, else the tag schema fallback.

Distribution spec v1.1, "Listing Referrers": ``GET /v2/<name>/referrers/<digest>``
answers an image index (possibly filtered by ``artifactType``, paginated by
``Link: <...>; rel="next"``). A ``404`` means the registry lacks the API; then
the referrers live in an index tagged ``<alg>-<hex>`` ("Referrers Tag Schema"),
which clients maintain themselves. Without compare-and-swap on tags, concurrent
writers can overwrite each other; :func:`update_fallback_index` re-reads after
writing and repairs until its change is seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nfd._http1 import URL, BadURL
from nfd.errors import NotFoundError, RegistryError, TooLargeError
from nfd.oci._client import RegistryClient
from nfd.oci._content import Descriptor, Manifest, canonical_json, parse_manifest
from nfd.oci._http import Reply
from nfd.oci._options import EMPTY_MEDIA_TYPE, MAX_REFERRER_PAGES, OCI_INDEX
from nfd.oci._reference import Reference

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# Rounds of write / settle / re-read before giving up on a contended fallback tag.
MAX_UPDATE_ROUNDS = 8
SETTLE_SECONDS = (0.05, 0.25)
# Referrers whose type the server did not report that are read to learn it, per listing.
MAX_ARTIFACT_TYPE_LOOKUPS = 64


def fallback_tag(digest: str) -> str:
    """The tag schema name: ``sha256:abc...`` -> ``sha256-abc...`` (hex cut to 64)."""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}-{hex_part[:64]}"


def list_referrers(
    client: RegistryClient, ref: Reference, subject: str, artifact_type: str | None = None
) -> list[Descriptor]:
    """Descriptors of the manifests whose ``subject`` is ``subject``, of ``artifact_type``."""
    found: list[Descriptor] | None = None
    if client.serves_referrers_api(ref) is not False:
        found = _from_api(client, ref, subject, artifact_type)
        client.remember_referrers_api(ref, found is not None)
        if found is not None and artifact_type is not None:
            found = _own_artifact_types(client, ref, found)
    if found is None:
        found = read_fallback_index(client, ref, subject)
    if artifact_type is None:
        return found
    # Filter here too: a registry may ignore the artifactType query.
    return [d for d in found if d.artifact_type == artifact_type]


def _own_artifact_types(
    client: RegistryClient, ref: Reference, found: list[Descriptor]
) -> list[Descriptor]:
    """The descriptors, with the artifact type each manifest declares where the server
    left it unsaid.

    The spec has the server copy ``artifactType`` from the manifest, else its config
    media type. Some (go-containerregistry's registry) always copy the config media
    type, which for an artifact with the empty config hides its real type; only then
    is the (bounded, digest-verified) manifest read, for at most
    ``MAX_ARTIFACT_TYPE_LOOKUPS`` of them.
    """
    budget = MAX_ARTIFACT_TYPE_LOOKUPS
    out = []
    for desc in found:
        if budget and desc.artifact_type in (None, "", EMPTY_MEDIA_TYPE):
            budget -= 1
            declared = client.get_manifest(ref, desc.digest, expected=desc).artifact_type
            desc = desc.replace(artifact_type=declared) if declared else desc
        out.append(desc)
    return out


def _from_api(
    client: RegistryClient, ref: Reference, subject: str, artifact_type: str | None
) -> list[Descriptor] | None:
    first = f"/v2/{ref.repository}/referrers/{subject}"
    if artifact_type:
        from urllib.parse import urlencode

        first += "?" + urlencode({"artifactType": artifact_type})
    url: str | None = first
    result: list[Descriptor] = []
    seen_urls: set[str] = set()
    pages = received = 0
    total = client.options.max_referrers_bytes
    while url:
        pages += 1
        if pages > MAX_REFERRER_PAGES or url in seen_urls:
            raise RegistryError(f"listing referrers of {subject}: more than "
                                f"{MAX_REFERRER_PAGES} pages or a pagination loop",
                                registry=ref.registry, repository=ref.repository)
        seen_urls.add(url)
        reply = _page(client, ref, url, subject, total - received)
        received += len(reply.body)
        content_type = reply.headers.get("Content-Type", "").split(";")[0].strip()
        if reply.status == 404 or content_type != OCI_INDEX:
            if pages == 1:
                return None  # no Referrers API here: use the tag schema
            raise RegistryError(f"listing referrers of {subject}: page {pages} answered "
                                f"{reply.status} {content_type[:100] or 'without a content type'}",
                                registry=ref.registry, repository=ref.repository)
        result += _index_entries(reply.body, f"referrers of {subject}", ref)
        url = _next_page(reply, subject, ref)
    return result


def _page(client: RegistryClient, ref: Reference, url: str, subject: str, left: int) -> Reply:
    """One page, within what is left of the whole listing's byte budget."""
    what = f"listing referrers of {subject}"
    limit = min(client.options.max_manifest_bytes, left)
    try:
        return client.get(ref, url, what=what, ok=frozenset({200, 404}), accept=OCI_INDEX,
                          limit=limit)
    except TooLargeError:
        if limit == client.options.max_manifest_bytes:
            raise
        raise TooLargeError(f"{what}: the pages total over the "
                            f"{client.options.max_referrers_bytes}-byte limit",
                            registry=ref.registry, repository=ref.repository) from None


def _next_page(reply: Reply, subject: str, ref: Reference) -> str | None:
    """The ``Link: <...>; rel="next"`` URL, resolved against the page's own URL."""
    link = _LINK_NEXT.search(reply.headers.get("Link", ""))
    if not link:
        return None
    target = link.group(1)
    scheme = target.partition(":")[0].lower() if ":" in target.split("/")[0] else ""
    try:
        url = URL.parse(reply.url).join(target) if scheme in ("", "http", "https") else None
    except BadURL:
        url = None
    if url is None:
        raise RegistryError(f"listing referrers of {subject}: the next-page Link is not a "
                            f"valid URL: {link.group(1)[:200]!r}", registry=ref.registry,
                            repository=ref.repository)
    return str(url)

def _index_entries(data: bytes, where: str, ref: Reference) -> list[Descriptor]:
    try:
        index = parse_manifest(data, where, OCI_INDEX)
        return index.descriptors("manifests")
    except RegistryError as exc:
        raise RegistryError(f"{where}: {exc.message}", registry=ref.registry,
                            repository=ref.repository) from None


def read_fallback_index(client: RegistryClient, ref: Reference, subject: str) -> list[Descriptor]:
    """The entries of the ``<alg>-<hex>`` index; empty when the tag does not exist."""
    index = _get_fallback(client, ref, subject)
    return index.descriptors("manifests") if index else []


def _get_fallback(client: RegistryClient, ref: Reference, subject: str) -> Manifest | None:
    try:
        index = client.get_manifest(ref, fallback_tag(subject), accept=OCI_INDEX)
    except NotFoundError:
        return None
    if not index.is_index:
        raise RegistryError(f"tag {fallback_tag(subject)} is not an image index, so it cannot "
                            "hold referrers", registry=ref.registry, repository=ref.repository)
    return index


def update_fallback_index(
    client: RegistryClient,
    ref: Reference,
    subject: str,
    *,
    add: Descriptor | None = None,
    remove: frozenset[str] = frozenset(),
    sleep: Callable[[float], None] | None = None,
) -> list[Descriptor]:
    """Add ``add`` to and drop the ``remove`` digests from the fallback index; keep the rest.

    Writes, waits a moment for racing writers, re-reads, and repeats until the
    change is visible (each racer does the same, so both changes survive).
    Returns the final entries. An index left empty is deleted: no tag means no referrers.
    """
    import random  # only a writer of the fallback index waits at random

    rng = random.Random()
    tag = fallback_tag(subject)
    for _ in range(MAX_UPDATE_ROUNDS):
        current = _get_fallback(client, ref, subject)
        entries = current.descriptors("manifests") if current else []
        if _applied(entries, add, remove):
            return entries
        wanted = [d for d in entries if d.digest not in remove]
        if add is not None and add.digest not in {d.digest for d in wanted}:
            wanted.append(add)
        if wanted:
            body = canonical_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                   "manifests": [d.to_obj() for d in wanted]})
            client.push_manifest(ref, body, OCI_INDEX, reference=tag)
        elif current is not None:
            client.delete_manifest(ref, current.descriptor.digest)
            return []
        (sleep or client.sleep)(rng.uniform(*SETTLE_SECONDS))
    raise RegistryError(f"updating referrers tag {tag}: still contended after "
                        f"{MAX_UPDATE_ROUNDS} rounds", registry=ref.registry,
                        repository=ref.repository)


def _applied(entries: list[Descriptor], add: Descriptor | None, remove: frozenset[str]) -> bool:
    digests = {d.digest for d in entries}
    return (add is None or add.digest in digests) and not (digests & remove)
