"""Node label keys and object names for the scheduling side of a compatibility spec.

Kubernetes label keys (``k8s.io/apimachinery`` ``IsQualifiedName``): an
optional prefix that is a DNS-1123 subdomain (at most 253 characters), a ``/``,
and a name of at most 63 characters from ``[A-Za-z0-9._-]`` that starts and ends
alphanumeric. Names derived from an image and a set's tag are sanitised to that
alphabet; when one is too long it is cut and a hash of the full text appended,
so the result is deterministic and two long names stay apart.

Every name derived from an image carries :data:`HASH_BITS` (80) bits of the
SHA-256 of the full normalised reference (20 hex digits): a collision between
two references is out of reach (a birthday search needs about 2^40 names, a
second preimage for a given one 2^80), so two repositories of the same image
name and tag never share a rule name or a label key by chance. A name cut to
fit a length limit gets 80 bits of the hash of its full text instead, so a
label key (at most 63 characters after the prefix) never carries fewer.

NFD's master drops labels in the ``kubernetes.io`` family except
``feature.node.kubernetes.io`` and ``profile.node.kubernetes.io`` (and their
sub-namespaces), so a prefix NFD would reject is refused up front.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nfd.api import Compatibility
from nfd.errors import UsageError

DEFAULT_LABEL_PREFIX = "compat.feature.node.kubernetes.io"
LABEL_VALUE = "true"
MAX_NAME = 63
MAX_SUBDOMAIN = 253
HASH_BITS = 80
_HASH_LEN = HASH_BITS // 4  # hex digits

_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9._-]+")
_NOT_DNS_CHAR = re.compile(r"[^a-z0-9]+")
_NFD_LABEL_NAMESPACES = ("feature.node.kubernetes.io", "profile.node.kubernetes.io")


def short_hash(text: str, length: int = _HASH_LEN) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def is_label_name(name: str) -> bool:
    """Whether ``name`` is a valid label name (the part after ``/``) or label value."""
    return len(name) <= MAX_NAME and _NAME.fullmatch(name) is not None


def is_dns_label(text: str) -> bool:
    """Whether ``text`` is a DNS-1123 label (namespace names)."""
    return len(text) <= MAX_NAME and re.fullmatch(_DNS_LABEL, text) is not None


def is_subdomain(text: str) -> bool:
    """Whether ``text`` is a DNS-1123 subdomain (label prefixes, object names)."""
    return len(text) <= MAX_SUBDOMAIN and _SUBDOMAIN.fullmatch(text) is not None


def sanitize_name(text: str) -> str:
    """``text`` in the label-name alphabet: other runs become ``-``, ends made alphanumeric."""
    return _NOT_NAME_CHAR.sub("-", text).strip("._-")


def fit(text: str, limit: int, original: str | None = None) -> str:
    """``text`` if it fits in ``limit``, else a cut of it plus ``-`` and a hash of ``original``."""
    if len(text) <= limit:
        return text
    digest = short_hash(original if original is not None else text)
    head = text[: limit - _HASH_LEN - 1].strip("._-")
    return f"{head}-{digest}" if head else digest


def check_label_prefix(prefix: str) -> str:
    """Validate a label prefix; raise :class:`UsageError` if Kubernetes or NFD would refuse it."""
    if not is_subdomain(prefix):
        raise UsageError(f"`label_prefix` {prefix!r}: not a DNS subdomain (lower-case "
                         f"alphanumerics, '-' and '.', at most {MAX_SUBDOMAIN} characters)",
                         arguments=("label_prefix",))
    in_k8s_family = prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io")
    allowed = any(prefix == ns or prefix.endswith("." + ns) for ns in _NFD_LABEL_NAMESPACES)
    if in_k8s_family and not allowed:
        raise UsageError(f"`label_prefix` {prefix!r}: NFD's master refuses labels in the "
                         "kubernetes.io namespaces other than feature.node.kubernetes.io and "
                         "profile.node.kubernetes.io (and their sub-namespaces)",
                         arguments=("label_prefix",))
    return prefix


def image_label_base(image: str, attempt: int = 0) -> str:
    """A readable, unique base for label names from an image reference.

    ``registry/path/nginx:1.25`` gives ``nginx-1.25-<20 hex>``: the hash of the full
    normalised reference keeps images of the same name in different repositories
    apart. ``attempt`` > 0 gives the image's alternative names (the hash of
    ``<reference>#<attempt>``), used when its first name is taken by another rule.
    """
    from nfd.oci import Reference

    ref = Reference.parse(image)
    last = ref.repository.rsplit("/", 1)[-1]
    version = ref.tag or (ref.digest or "").split(":")[-1][:12]
    hashed = str(ref) if attempt == 0 else f"{ref}#{attempt}"
    return sanitize_name(f"{last}-{version}-{short_hash(hashed)}")


def set_keys(compatibilities: Sequence[tuple[int, Compatibility]]) -> dict[int, str]:
    """The per-set part of each label name: the set's tag, or ``set-<n>`` (1-based).

    A tag shared by several sets (or one that sanitises to nothing) gets the set
    number appended, so every selected set has its own label.
    """
    counts: dict[str, int] = {}
    for _, compat in compatibilities:
        key = sanitize_name(compat.tag)
        counts[key] = counts.get(key, 0) + 1
    keys: dict[int, str] = {}
    for index, compat in compatibilities:
        key = sanitize_name(compat.tag)
        if not key:
            keys[index] = f"set-{index + 1}"
        elif counts[key] > 1:
            keys[index] = f"{key}-{index + 1}"
        else:
            keys[index] = key
    if len(set(keys.values())) != len(keys):  # e.g. a tag literally named "set-2"
        keys = {index: f"{key}-{index + 1}" for index, key in keys.items()}
    return keys


@dataclass(frozen=True)
class LabelScheme:
    """How the labels of one image's compatibility sets are spelled."""

    prefix: str
    base: str

    def key(self, set_key: str) -> str:
        """The full label key ``prefix/base.set_key``, the name part at most 63 characters."""
        raw = sanitize_name(f"{self.base}.{set_key}") or set_key
        return f"{self.prefix}/{fit(raw, MAX_NAME, f'{self.base}.{set_key}')}"

    def rule_object_name(self) -> str:
        """The NodeFeatureRule's ``metadata.name`` (a DNS subdomain)."""
        # Dashes only: a dot next to a dash would break the DNS-label rule.
        raw = _NOT_DNS_CHAR.sub("-", f"image-compat-{self.base}".lower()).strip("-")
        return fit(raw, MAX_SUBDOMAIN, self.base)

    def var_name(self, set_key: str, rule: int) -> str:
        """A ``rule.matched`` var marking that rule ``rule`` of a set matched (chained sets)."""
        return f"{self.prefix}/{fit(f'{self.base}.{set_key}.r{rule}', MAX_NAME * 2)}"
