"""The one driver of signature verification: find an artifact's signatures, bounded, ask the
verifier of the chosen scheme, and remember what it said.

A signature is itself an OCI artifact whose ``subject`` is the signed manifest (Notation:
"OCI Signature Specification"; cosign v3: a Sigstore bundle as an OCI 1.1 referrer). Its
listing is untrusted like any other: every envelope is read size-bounded and
digest-verified, its own ``subject`` must be the artifact, and only the newest
``MAX_SIGNATURES`` are examined, so a thousand pushed signatures cost a bounded number of
requests and fail closed rather than hide a real one for free.
"""

from __future__ import annotations

import time

# threading.Lock is _thread.allocate_lock (a documented stdlib module); importing
# threading itself costs a registry command's cold start about half a millisecond.
from _thread import allocate_lock
from collections import OrderedDict

from nfd._record import FrozenRecord, set_field
from nfd.errors import NotFoundError, RegistryError, UsageError, VerificationError
from nfd.oci import Descriptor, Manifest, Reference, RegistryClient, list_referrers

# Signatures examined per artifact (newest first). Notation's own verifier examines every
# listed signature; a bound makes a hostile listing cost at most this many envelope reads.
MAX_SIGNATURES = 32
# An envelope (a JWS or COSE signature with its certificate chain, a Sigstore bundle).
MAX_ENVELOPE_BYTES = 256 * 1024
# Verification results kept (artifact digest x policy), and for how long at most.
CACHE_ENTRIES = 1024
CACHE_SECONDS = 600.0
# The order in which a failure explains itself when no signature verified: the one that
# got furthest wins (an untrusted but intact signature says more than a truncated one).
_REASON_RANK = (
    VerificationError.EXPIRED_CERTIFICATE,
    VerificationError.EXPIRED_SIGNATURE,
    VerificationError.UNTRUSTED_SIGNER,
    VerificationError.DIGEST_MISMATCH,
    VerificationError.INVALID_SIGNATURE,
    VerificationError.NO_SIGNATURE,
)


class Verified(FrozenRecord):
    """Who signed an artifact, by which signature, and until when that holds.

    ``signer`` is the identity the policy trusted (a certificate subject, a key's
    fingerprint); ``valid_until`` (epoch seconds) is when a certificate in the chain expires.
    """

    __slots__ = ("signature", "signer", "valid_until")
    signer: str
    signature: str
    valid_until: float | None

    def __init__(self, signer: str, signature: str, valid_until: float | None = None) -> None:
        set_field(self, "signer", signer)
        set_field(self, "signature", signature)
        set_field(self, "valid_until", valid_until)


class Verifier:
    """A trust policy for one signature scheme.

    Subclasses set ``scheme`` (``notation``, ``cosign``), ``artifact_types`` (what their
    signatures' manifests declare), ``policy_id`` (a digest of everything the policy
    trusts: the cache key) and implement :meth:`check_signature`.
    """

    scheme = ""
    artifact_types: tuple[str, ...] = ()
    policy_id = ""

    def applies(self, ref: Reference) -> Verified | None:
        """A result that needs no signature (a policy that skips ``ref``), else ``None``;
        raises :class:`VerificationError` when no policy covers ``ref``."""
        return None

    def check_signature(self, client: RegistryClient, ref: Reference, artifact: Descriptor,
                        signature: Manifest, envelope: bytes, media_type: str) -> Verified:
        """Verify one signature envelope of ``artifact``; raise :class:`VerificationError`."""
        raise NotImplementedError

    def verify_elsewhere(self, client: RegistryClient, ref: Reference, artifact: Descriptor,
                         failures: list[VerificationError]) -> Verified | None:
        """Check signatures stored elsewhere than as referrers (cosign's ``.sig`` tags),
        adding each failure to ``failures``; none by default."""
        return None


def require_libraries(*names: str) -> None:
    """A clear usage error, not an ImportError, when the ``[verify]`` extra is missing."""
    import importlib.util

    for name in names:  # found, not imported: a policy that is never used costs nothing
        if importlib.util.find_spec(name) is None:
            raise UsageError(f"signature verification needs the {name!r} package "
                             "(pip install 'nfd-client[verify]')")


class _Cache:
    """Verified results by (artifact digest, policy), bounded in entries and age."""

    def __init__(self) -> None:
        self._lock = allocate_lock()
        self._items: OrderedDict[tuple[str, str, str], tuple[float, Verified]] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> Verified | None:
        now = time.time()
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] <= now:
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, str, str], result: Verified) -> None:
        until = time.time() + CACHE_SECONDS
        if result.valid_until is not None:
            until = min(until, result.valid_until)
        with self._lock:
            self._items[key] = (until, result)
            self._items.move_to_end(key)
            while len(self._items) > CACHE_ENTRIES:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _Cache()


def clear_verification_cache() -> None:
    """Forget every remembered result (tests; a policy reload)."""
    _CACHE.clear()


def verify_artifact(client: RegistryClient, ref: Reference, artifact: Descriptor,
                    verifier: Verifier) -> Verified:
    """Who signed ``artifact`` (a manifest in ``ref``'s repository) as ``verifier`` trusts,
    else :class:`VerificationError` saying why. Only successes are cached (by artifact
    digest, repository and policy), so a signature added later is seen at once."""
    skipped = verifier.applies(ref)
    if skipped is not None:
        return skipped
    key = (artifact.digest, f"{ref.registry}/{ref.repository}", verifier.policy_id)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    result = _verify_uncached(client, ref, artifact, verifier)
    _CACHE.put(key, result)
    return result


def _verify_uncached(client: RegistryClient, ref: Reference, artifact: Descriptor,
                     verifier: Verifier) -> Verified:
    failures: list[VerificationError] = []
    listed: list[Descriptor] = []
    for artifact_type in verifier.artifact_types:
        client.options.report(f"looking for {verifier.scheme} signatures of {artifact.digest}")
        listed += list_referrers(client, ref, artifact.digest, artifact_type)
    examined = _newest(listed)[:MAX_SIGNATURES]
    for descriptor in examined:
        try:
            return _check_listed(client, ref, artifact, verifier, descriptor)
        except VerificationError as exc:
            failures.append(exc)
    found = verifier.verify_elsewhere(client, ref, artifact, failures)
    if found is not None:
        return found
    raise _explain(artifact, verifier, failures, len(listed), len(examined))


def _newest(items: list[Descriptor]) -> list[Descriptor]:
    unique = list({d.digest: d for d in items}.values())
    return sorted(unique, key=lambda d: d.created or "", reverse=True)


def _check_listed(client: RegistryClient, ref: Reference, artifact: Descriptor,
                  verifier: Verifier, descriptor: Descriptor) -> Verified:
    """Read one listed signature (bounded, digest-verified) and have it checked."""
    where = f"signature {descriptor.digest}"
    try:
        manifest = client.get_manifest(ref, expected=descriptor)
        subject = manifest.subject
        if manifest.is_index or subject is None or subject.digest != artifact.digest:
            named = subject.digest if subject else "nothing"
            raise VerificationError(VerificationError.DIGEST_MISMATCH,
                                    f"{where} is attached to {named}, not to the artifact")
        layers = manifest.descriptors("layers")
        if len(layers) != 1:
            raise VerificationError(VerificationError.INVALID_SIGNATURE,
                                    f"{where} has {len(layers)} layers, not one envelope")
        envelope = client.get_blob(ref, layers[0], limit=MAX_ENVELOPE_BYTES)
    except NotFoundError:
        raise VerificationError(VerificationError.NO_SIGNATURE,
                                f"{where} is listed, but the registry does not have it") from None
    except RegistryError as exc:  # too large, digest mismatch, malformed: not a signature
        raise VerificationError(VerificationError.INVALID_SIGNATURE,
                                f"{where}: {exc.message}") from None
    return verifier.check_signature(client, ref, artifact, manifest, envelope,
                                    layers[0].media_type)


def _explain(artifact: Descriptor, verifier: Verifier, failures: list[VerificationError],
             listed: int, examined: int) -> VerificationError:
    """The one failure that says most, with how many signatures were looked at."""
    if not failures:
        return VerificationError(VerificationError.NO_SIGNATURE,
                                 f"no {verifier.scheme} signature is attached",
                                 artifact=artifact.digest)
    best = min(failures, key=lambda f: _REASON_RANK.index(f.reason)
               if f.reason in _REASON_RANK else len(_REASON_RANK))
    more = ""
    if len(failures) > 1:
        more = f" ({len(failures)} signatures examined, none trusted"
        more += f"; only the newest {examined} of {listed} listed)" if listed > examined else ")"
    return VerificationError(best.reason, best.detail + more, artifact=artifact.digest)
