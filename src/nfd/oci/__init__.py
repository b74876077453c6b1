"""The OCI registry side: references, auth, manifests, platforms, referrers, push/delete.

Written on ``httpx``; see :class:`RegistryClient`. Every manifest and blob read
is size-bounded and digest-verified; see :mod:`nfd.errors` for what is raised.
"""

from __future__ import annotations

from nfd.oci._client import RegistryClient
from nfd.oci._content import Descriptor, Manifest, canonical_json, digest_of, verify_digest
from nfd.oci._credentials import Credential, auth_file_candidates, find_credential
from nfd.oci._options import (
    CREATED_ANNOTATION,
    CREATED_ANNOTATION_ALT,
    DEFAULT_TIMEOUT,
    EMPTY_DATA,
    EMPTY_DIGEST,
    EMPTY_MEDIA_TYPE,
    MAX_MANIFEST_BYTES,
    MAX_SPEC_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryOptions,
)
from nfd.oci._platform import Platform, host_platform, select_platform
from nfd.oci._reference import Reference
from nfd.oci._referrers import (
    fallback_tag,
    list_referrers,
    read_fallback_index,
    update_fallback_index,
)
from nfd.oci._token_cache import TokenCache

__all__ = [
    "CREATED_ANNOTATION",
    "CREATED_ANNOTATION_ALT",
    "DEFAULT_TIMEOUT",
    "EMPTY_DATA",
    "EMPTY_DIGEST",
    "EMPTY_MEDIA_TYPE",
    "MAX_MANIFEST_BYTES",
    "MAX_SPEC_BYTES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Credential",
    "Descriptor",
    "Manifest",
    "Platform",
    "Reference",
    "RegistryClient",
    "RegistryOptions",
    "TokenCache",
    "auth_file_candidates",
    "canonical_json",
    "digest_of",
    "fallback_tag",
    "find_credential",
    "host_platform",
    "list_referrers",
    "read_fallback_index",
    "select_platform",
    "update_fallback_index",
    "verify_digest",
]
