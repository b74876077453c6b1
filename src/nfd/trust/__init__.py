"""Who signed a compatibility artifact: Notation and cosign signatures, verified offline
against the trust a user configured, before the artifact may influence anything.

>>> from nfd.trust import NotationVerifier
>>> from nfd.compat import fetch_compat_spec
>>> fetch_compat_spec("registry.example.com/app:v1", verifier=NotationVerifier())  # doctest: +SKIP

Below :mod:`nfd.compat` (which calls :func:`verify_artifact` on the artifact it chose) and
above :mod:`nfd.oci` (which fetches the signatures). ``cryptography`` (and ``cbor2`` for COSE
envelopes) load only when a signature is checked: ``pip install nfd-client[verify]``.
"""

from __future__ import annotations

from nfd import _lazy
from nfd._lazy import lazy_getattr as _lazy_getattr

if _lazy.TYPE_CHECKING:
    from nfd.trust._cosign import CosignVerifier
    from nfd.trust._notation import NotationVerifier
    from nfd.trust._verify import (
        MAX_SIGNATURES,
        Verified,
        Verifier,
        clear_verification_cache,
        verify_artifact,
    )

_LAZY = {
    "CosignVerifier": "nfd.trust._cosign",
    "MAX_SIGNATURES": "nfd.trust._verify",
    "NotationVerifier": "nfd.trust._notation",
    "Verified": "nfd.trust._verify",
    "Verifier": "nfd.trust._verify",
    "clear_verification_cache": "nfd.trust._verify",
    "verify_artifact": "nfd.trust._verify",
}

__getattr__ = _lazy_getattr(__name__, _LAZY)

__all__ = [
    "MAX_SIGNATURES",
    "CosignVerifier",
    "NotationVerifier",
    "Verified",
    "Verifier",
    "clear_verification_cache",
    "verify_artifact",
]
