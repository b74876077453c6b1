"""The registry client: manifests and blobs, read (verified) and written.

Endpoints follow the OCI distribution spec v1.1 ("Pulling manifests", "Pulling
blobs", "Pushing blobs" POST-then-PUT, "Pushing manifests", "Deleting
manifests"). One connection pool (:mod:`nfd._http1`) and one :class:`TokenCache`
serve every host, so keep-alive and tokens are shared across calls.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from nfd._budget import Clock
from nfd._http1 import URL, BadURL
from nfd._redact import Redactor
from nfd.errors import DigestMismatchError, RegistryError, TooLargeError, UsageError
from nfd.oci._content import Descriptor, Manifest, digest_of, parse_manifest, verify_digest
from nfd.oci._credentials import ANONYMOUS, Credential, find_credential
from nfd.oci._http import HostSession, Reply, Request, SessionContext, Sleep, make_http_client
from nfd.oci._options import ACCEPT_MANIFESTS, RegistryOptions
from nfd.oci._reference import Reference
from nfd.oci._token_cache import TokenCache

# Manifests remembered by digest per client, all together (each is at most 4 MiB).
MAX_REMEMBERED_BYTES = 16 * 1024 * 1024


def pull_scope(ref: Reference) -> tuple[str, ...]:
    return (f"repository:{ref.repository}:pull",)


def push_scope(ref: Reference) -> tuple[str, ...]:
    return (f"repository:{ref.repository}:pull,push",)


def delete_scope(ref: Reference) -> tuple[str, ...]:
    return (f"repository:{ref.repository}:delete,pull,push",)


class RegistryClient:
    """Talks to OCI registries; use as a context manager (it owns a connection pool).

    >>> with RegistryClient(RegistryOptions(plain_http=True)) as client:  # doctest: +SKIP
    ...     manifest = client.get_manifest(Reference.parse("localhost:5000/app:v1"))
    """

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        tokens: TokenCache | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.options = options or RegistryOptions()
        self._http = make_http_client(self.options)
        self._redactor = self.options.redactor or Redactor()
        self._redactor.add(self.options.password, username=self.options.username)
        self._redactor.add(self.options.token)
        self._shared = SessionContext(self._http, tokens or TokenCache(clock),
                                      self._redactor, frozenset(self.options.token_hosts),
                                      clock, sleep)
        self._env = env
        self._sessions: dict[str, HostSession] = {}
        self._credentials: dict[tuple[str, str], Credential] = {}
        # Per registry host: does it serve the Referrers API? (learned once)
        self._referrers_api: dict[str, bool] = {}
        # Manifests fetched by digest (immutable content), so a session reads each once.
        self._by_digest: dict[tuple[str, str, str], Manifest] = {}
        self._by_digest_bytes = 0

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (token and auth round trips included), for benchmarks."""
        return self._http.sent

    @property
    def redactor(self) -> Redactor:
        """The secrets this client holds, to clean any other server text before printing."""
        return self._redactor

    def sleep(self, seconds: float) -> None:
        """Wait, on the sleep this client was given (tests give one that does not)."""
        self._shared.sleep(seconds)

    def serves_referrers_api(self, ref: Reference) -> bool | None:
        """Whether ``ref``'s registry answered the Referrers API (None: not asked yet).

        Known per registry, not per repository: the distribution spec ("Listing
        Referrers") has a registry that supports the API never answer it 404, so a 404
        for a repository whose manifest we have just read means the registry has none.
        """
        return self._referrers_api.get(ref.api_host)

    def remember_referrers_api(self, ref: Reference, served: bool) -> None:
        self._referrers_api[ref.api_host] = served

    def session(self, ref: Reference) -> HostSession:
        """The session for ``ref``'s registry host (made on first use)."""
        host = ref.api_host
        if host not in self._sessions:
            plain = self.options.plain_http
            self._sessions[host] = HostSession(
                host,
                "http" if plain else "https",
                self.options,
                self._shared,
                lambda repository: self._credential(ref.registry, repository),
                fallback_to_http=not plain and ref.is_loopback,
            )
        return self._sessions[host]

    def _credential(self, registry: str, repository: str) -> Credential:
        opts = self.options
        if opts.token:
            return Credential(access_token=opts.token)
        if opts.username and opts.password is not None:
            return Credential(opts.username, opts.password)
        if not opts.use_auth_files:
            return ANONYMOUS
        key = (registry, repository)
        if key not in self._credentials:
            env = os.environ if self._env is None else self._env
            files = [opts.auth_file] if opts.auth_file else None
            # Named on purpose: never go anonymous instead.
            if files and not os.path.isfile(files[0]):
                raise UsageError(f"`auth_file` {opts.auth_file}: not a readable file",
                                 arguments=("auth_file",))
            found = find_credential(registry, repository, env, files=files)
            self._redactor.add(found.password, username=found.username)
            self._redactor.add(found.refresh_token)
            self._redactor.add(found.access_token)
            self._credentials[key] = found
        return self._credentials[key]

    def _request(
        self, ref: Reference, method: str, path: str, *, what: str, scopes: tuple[str, ...],
        ok: frozenset[int] = frozenset({200}), headers: Mapping[str, str] | None = None,
        content: bytes | None = None, limit: int = 0, idempotent: bool | None = None,
    ) -> Reply:
        return self.session(ref).send(Request(method, path, ref.repository, what, scopes, ok,
                                              headers, content, limit, idempotent))

    # -- reading ---------------------------------------------------------------

    def get_manifest(
        self, ref: Reference, reference: str | None = None, *, expected: Descriptor | None = None,
        accept: str = ACCEPT_MANIFESTS,
    ) -> Manifest:
        """Fetch a manifest or index by tag or digest; size-bounded and digest-verified.

        A tag's manifest is checked against ``Docker-Content-Digest`` when sent.
        Raises :class:`NotFoundError` for a missing tag or digest.
        """
        reference = reference or (expected.digest if expected else ref.reference)
        key = (ref.api_host, ref.repository, reference)
        known = self._by_digest.get(key)
        if known is not None and (expected is None or expected.size == len(known.data)):
            return known  # content named by its digest does not change: no second request
        limit = self.options.max_manifest_bytes
        what = f"fetching manifest {reference}"
        if expected is not None and expected.size > limit:
            raise TooLargeError(f"{what}: {expected.size} bytes, over the {limit}-byte limit",
                                registry=ref.registry, repository=ref.repository)
        reply = self._request(ref, "GET", f"/v2/{ref.repository}/manifests/{reference}",
                           what=what, scopes=pull_scope(ref), headers={"Accept": accept},
                           limit=limit)
        header_digest = reply.headers.get("Docker-Content-Digest")
        pinned = expected.digest if expected else (reference if ":" in reference else None)
        digest = pinned or header_digest or digest_of(reply.body)
        verify_digest(reply.body, digest, what=what, registry=ref.registry,
                      repository=ref.repository)
        if pinned and header_digest and header_digest != pinned:
            raise DigestMismatchError(f"{what}: registry names it {header_digest}",
                                      registry=ref.registry, repository=ref.repository)
        if expected is not None and expected.size != len(reply.body):
            raise DigestMismatchError(
                f"{what}: {len(reply.body)} bytes, descriptor says {expected.size}",
                registry=ref.registry, repository=ref.repository)
        try:
            manifest = parse_manifest(reply.body, digest, reply.headers.get("Content-Type"))
        except RegistryError as exc:
            raise RegistryError(self._redactor.clean(f"{what}: {exc.message}"),
                                registry=ref.registry, repository=ref.repository) from None
        if pinned and self._by_digest_bytes + len(reply.body) <= MAX_REMEMBERED_BYTES:
            self._by_digest[key] = manifest
            self._by_digest_bytes += len(reply.body)
        return manifest

    def get_blob(self, ref: Reference, descriptor: Descriptor, *, limit: int) -> bytes:
        """Fetch a blob, refusing it beyond ``limit`` bytes, and verify its digest and size."""
        what = f"fetching blob {descriptor.digest}"
        if descriptor.size > limit:
            raise TooLargeError(f"{what}: {descriptor.size} bytes, over the {limit}-byte limit",
                                registry=ref.registry, repository=ref.repository)
        reply = self._request(ref, "GET", f"/v2/{ref.repository}/blobs/{descriptor.digest}",
                           what=what, scopes=pull_scope(ref), limit=limit)
        if len(reply.body) != descriptor.size:
            raise DigestMismatchError(
                f"{what}: got {len(reply.body)} bytes, descriptor says {descriptor.size}",
                registry=ref.registry, repository=ref.repository)
        verify_digest(reply.body, descriptor.digest, what=what, registry=ref.registry,
                      repository=ref.repository)
        return reply.body

    def blob_exists(self, ref: Reference, digest: str) -> bool:
        reply = self._request(ref, "HEAD", f"/v2/{ref.repository}/blobs/{digest}",
                           what=f"checking blob {digest}", scopes=push_scope(ref),
                           ok=frozenset({200, 404}))
        return reply.status == 200

    # -- writing ---------------------------------------------------------------

    def push_blob(self, ref: Reference, data: bytes, media_type: str) -> Descriptor:
        """Upload ``data`` unless the registry has it already (POST then PUT)."""
        digest = digest_of(data)
        descriptor = Descriptor(media_type, digest, len(data))
        if self.blob_exists(ref, digest):
            return descriptor
        what = f"uploading blob {digest}"
        started = self._request(ref, "POST", f"/v2/{ref.repository}/blobs/uploads/", what=what,
                             scopes=push_scope(ref), ok=frozenset({202}), idempotent=False)
        location = started.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: registry gave no upload location",
                                registry=ref.registry, repository=ref.repository)
        try:
            url = URL.parse(started.url).join(location).with_params([("digest", digest)])
        except BadURL:
            raise RegistryError(f"{what}: registry gave an invalid upload location "
                                f"{location[:200]!r}", registry=ref.registry,
                                repository=ref.repository) from None
        self._request(ref, "PUT", str(url), what=what, scopes=push_scope(ref),
                   ok=frozenset({201}), content=data, idempotent=False,
                   headers={"Content-Type": "application/octet-stream"})
        return descriptor

    def push_manifest(self, ref: Reference, data: bytes, media_type: str,
                      reference: str | None = None) -> Reply:
        """PUT a manifest at ``reference`` (default: its digest); returns the reply for its
        headers (``OCI-Subject`` tells the registry indexed the subject)."""
        digest = digest_of(data)
        reference = reference or digest
        reply = self._request(ref, "PUT", f"/v2/{ref.repository}/manifests/{reference}",
                           what=f"pushing manifest {reference}", scopes=push_scope(ref),
                           ok=frozenset({201}), content=data, idempotent=True,
                           headers={"Content-Type": media_type})
        sent = reply.headers.get("Docker-Content-Digest")
        if sent and sent != digest:
            raise DigestMismatchError(f"pushing manifest {reference}: registry stored {sent}, "
                                      f"we sent {digest}", registry=ref.registry,
                                      repository=ref.repository)
        return reply

    def delete_manifest(self, ref: Reference, digest: str) -> bool:
        """Delete a manifest by digest; ``False`` when it was already gone."""
        what = f"deleting manifest {digest}"
        self._by_digest.pop((ref.api_host, ref.repository, digest), None)
        reply = self._request(ref, "DELETE", f"/v2/{ref.repository}/manifests/{digest}", what=what,
                           scopes=delete_scope(ref), ok=frozenset({200, 202, 404, 405}))
        if reply.status == 405:
            raise RegistryError(f"{what}: the registry does not allow deletes (405)",
                                registry=ref.registry, repository=ref.repository, status=405)
        return reply.status != 404

    def get(self, ref: Reference, path: str, *, what: str, ok: frozenset[int],
            accept: str | None = None, limit: int | None = None) -> Reply:
        """A bounded GET of another endpoint (used for the Referrers API); ``limit``
        defaults to the manifest bound."""
        return self._request(ref, "GET", path, what=what, scopes=pull_scope(ref), ok=ok,
                             headers={"Accept": accept} if accept else None,
                             limit=self.options.max_manifest_bytes if limit is None else limit)
