"""The OCI registry side: references, auth, manifests, platforms, referrers, push/delete.

Written on our own HTTP/1.1 client (:mod:`nfd._http1`); see :class:`RegistryClient`.
Every manifest and blob read is size-bounded and digest-verified; see :mod:`nfd.errors`
for what is raised.
"""

from __future__ import annotations

from nfd import _lazy
from nfd._lazy import lazy_getattr as _lazy_getattr

if _lazy.TYPE_CHECKING:
    from nfd._redact import Redactor
    from nfd.oci._client import RegistryClient
    from nfd.oci._content import (
        Descriptor,
        Manifest,
        canonical_json,
        descriptor_from_obj,
        digest_of,
        verify_digest,
    )
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
    from nfd.oci._platform import Platform, describe_platforms, host_platform, select_platform
    from nfd.oci._reference import Reference, is_valid_digest, split_digest_prefix
    from nfd.oci._referrers import (
        fallback_tag,
        list_referrers,
        read_fallback_index,
        update_fallback_index,
    )
    from nfd.oci._token_cache import TokenCache

# Names load on first use (PEP 562), so commands that only parse registry flags do
# not pay for importing the registry client.
_LAZY = {
    "CREATED_ANNOTATION": "nfd.oci._options",
    "CREATED_ANNOTATION_ALT": "nfd.oci._options",
    "Credential": "nfd.oci._credentials",
    "DEFAULT_TIMEOUT": "nfd.oci._options",
    "Descriptor": "nfd.oci._content",
    "EMPTY_DATA": "nfd.oci._options",
    "EMPTY_DIGEST": "nfd.oci._options",
    "EMPTY_MEDIA_TYPE": "nfd.oci._options",
    "MAX_MANIFEST_BYTES": "nfd.oci._options",
    "MAX_SPEC_BYTES": "nfd.oci._options",
    "Manifest": "nfd.oci._content",
    "OCI_INDEX": "nfd.oci._options",
    "OCI_MANIFEST": "nfd.oci._options",
    "Platform": "nfd.oci._platform",
    "describe_platforms": "nfd.oci._platform",
    "Redactor": "nfd._redact",
    "Reference": "nfd.oci._reference",
    "RegistryClient": "nfd.oci._client",
    "RegistryOptions": "nfd.oci._options",
    "TokenCache": "nfd.oci._token_cache",
    "auth_file_candidates": "nfd.oci._credentials",
    "canonical_json": "nfd.oci._content",
    "descriptor_from_obj": "nfd.oci._content",
    "digest_of": "nfd.oci._content",
    "fallback_tag": "nfd.oci._referrers",
    "find_credential": "nfd.oci._credentials",
    "host_platform": "nfd.oci._platform",
    "is_valid_digest": "nfd.oci._reference",
    "split_digest_prefix": "nfd.oci._reference",
    "list_referrers": "nfd.oci._referrers",
    "read_fallback_index": "nfd.oci._referrers",
    "select_platform": "nfd.oci._platform",
    "update_fallback_index": "nfd.oci._referrers",
    "verify_digest": "nfd.oci._content",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


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
    "Redactor",
    "Reference",
    "RegistryClient",
    "RegistryOptions",
    "TokenCache",
    "auth_file_candidates",
    "canonical_json",
    "describe_platforms",
    "descriptor_from_obj",
    "digest_of",
    "fallback_tag",
    "find_credential",
    "host_platform",
    "is_valid_digest",
    "list_referrers",
    "read_fallback_index",
    "select_platform",
    "split_digest_prefix",
    "update_fallback_index",
    "verify_digest",
]
