"""Image references, parsed and normalised the way Docker does.

Grammar (distribution's ``reference`` package)::

    reference  := [domain "/"] path [":" tag] ["@" digest]
    domain     := host [":" port]      (a first component with "." or ":", or "localhost")
    path       := component ("/" component)*   lower-case letters, digits, separators
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex

``ubuntu`` becomes ``docker.io/library/ubuntu:latest``; ``index.docker.io`` is
spelled ``docker.io``, and its API lives at ``registry-1.docker.io``.
"""

from __future__ import annotations

import ipaddress
import re

from nfd._record import FrozenRecord, set_field
from nfd.errors import UsageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)
# Hex lengths per algorithm (OCI image-spec, descriptor.md "Registered algorithms").
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_DIGEST = re.compile(r"(sha256|sha512):([0-9a-f]+)")
MAX_NAME_LENGTH = 255


def is_valid_digest(value: str) -> bool:
    """Whether ``value`` is a digest we can verify (``sha256:<64 hex>`` or ``sha512:<128 hex>``)."""
    match = _DIGEST.fullmatch(value)
    return match is not None and len(match.group(2)) == DIGEST_HEX_LENGTHS[match.group(1)]


# A digest shortened as `nfd compat list` shows it (docker shortens image IDs to 12 hex
# digits too): the algorithm is optional, 12 hex digits at least.
_SHORT_DIGEST = re.compile(r"(?:(sha256|sha512):)?([0-9a-f]{12,128})")


def split_digest_prefix(value: str) -> tuple[str | None, str] | None:
    """``(algorithm or None, hex digits)`` of a full or shortened digest, else ``None``."""
    match = _SHORT_DIGEST.fullmatch(value)
    return None if match is None else (match.group(1), match.group(2))


class Reference(FrozenRecord):
    """A normalised image reference: ``registry/repository[:tag][@digest]``.

    At least one of ``tag`` and ``digest`` is set after :meth:`parse`.
    """

    __slots__ = ("digest", "registry", "repository", "tag")
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __init__(
        self,
        registry: str,
        repository: str,
        tag: str | None = None,
        digest: str | None = None,
    ) -> None:
        set_field(self, "registry", registry)
        set_field(self, "repository", repository)
        set_field(self, "tag", tag)
        set_field(self, "digest", digest)

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse and normalise ``text``; raise :class:`UsageError` naming what is wrong."""
        original = text
        if not text or text != text.strip():
            raise UsageError(f"invalid image reference {original!r}: empty or surrounded by spaces")
        digest: str | None = None
        if "@" in text:
            text, digest = text.split("@", 1)
            if not is_valid_digest(digest):
                raise UsageError(
                    f"invalid image reference {original!r}: bad digest {digest!r} "
                    "(expected sha256:<64 hex> or sha512:<128 hex>)"
                )
        registry, rest = _split_domain(text)
        tag: str | None = None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not _TAG.fullmatch(tag):
                raise UsageError(f"invalid image reference {original!r}: bad tag {tag!r}")
        if registry == DOCKER_HUB and "/" not in rest:
            rest = f"library/{rest}"
        for component in rest.split("/"):
            if not _COMPONENT.fullmatch(component):
                hint = " (repository names must be lower case)" if component.lower() != component \
                    else ""
                raise UsageError(
                    f"invalid image reference {original!r}: bad repository component "
                    f"{component!r}{hint}"
                )
        if len(registry) + 1 + len(rest) > MAX_NAME_LENGTH:
            raise UsageError(f"invalid image reference {original!r}: name over 255 characters")
        if tag is None and digest is None:
            tag = DEFAULT_TAG
        return cls(registry=registry, repository=rest, tag=tag, digest=digest)

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def api_host(self) -> str:
        """The host (and port) the registry API answers on."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def is_loopback(self) -> bool:
        """Whether the registry is on this machine (Docker then allows plain HTTP)."""
        return is_loopback_host(_host_only(self.registry))

    def with_digest(self, digest: str) -> Reference:
        """The same repository, pinned to ``digest`` (tag dropped)."""
        return Reference(self.registry, self.repository, None, digest)

    def with_tag(self, tag: str) -> Reference:
        """The same repository at ``tag``."""
        return Reference(self.registry, self.repository, tag, None)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_domain(text: str) -> tuple[str, str]:
    """Split off the registry host the way Docker's ``splitDockerDomain`` does."""
    first, sep, rest = text.partition("/")
    is_domain = sep and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if not is_domain:
        return DOCKER_HUB, text
    if not _DOMAIN.fullmatch(first):
        raise UsageError(f"invalid image reference {text!r}: bad registry host {first!r}")
    if first == "index.docker.io":
        first = DOCKER_HUB
    return first, rest


def _host_only(registry: str) -> str:
    """``host:port`` or ``[v6]:port`` without the port and brackets."""
    if registry.startswith("["):
        return registry[1 : registry.index("]")]
    return registry.rsplit(":", 1)[0] if ":" in registry else registry


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address (brackets of an IPv6 literal allowed)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
