"""Which registries the webhook may contact (it must not be a way into the cluster's network).

A pod names any host it likes as its image's registry; fetching from it would
let whoever creates pods make the webhook send requests anywhere (SSRF). So
only registries matching an ``--allow-registry`` pattern are ever contacted.

The pattern grammar is exact (no shell globbing: ``[fd00::1]`` is an address,
not a character class)::

    pattern  = host [":" port] ["/" path]
    host     = name | "*." name | ipv4 | "[" ipv6 "]"
    name     = label ("." label)*       DNS labels: letters, digits, inner "-"; <= 253 chars
    port     = 1..65535 | "*"           decimal; "*": any port, or none
    path     = "*" | component ("/" component)* ["/*"]
    component= an OCI repository component (lower case: [a-z0-9]+ with . _ __ - inside)

* The host is compared case-insensitively (DNS names are, RFC 4343), IPv4 and
  IPv6 addresses as addresses (``[FD00:0::1]`` is ``[fd00::1]``). ``*.`` stands
  for one or more whole labels: ``*.example.com`` allows ``a.example.com`` and
  ``a.b.example.com``, not ``example.com`` nor ``evilexample.com``. A trailing
  dot (``example.com.``) is refused in a pattern, and a reference spelling one
  is never allowed (Docker's reference grammar refuses it too).
* Without a port, only references without one match (the registry's default
  port); with one, only that port; with ``:*``, any port or none.
* Without a path, every repository of the host matches (as with ``/*``); with
  ``/a/b``, the repository ``a/b`` only; with ``/a/*``, every repository below
  ``a`` (``a/b``, ``a/b/c``), not ``a`` itself.
* Docker Hub is ``docker.io`` (``index.docker.io`` is read as it), its
  official images live under ``library/``: ``docker.io/library/*``.

An invalid pattern is a usage error when the server starts.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from nfd.errors import UsageError
from nfd.oci import Reference

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_PORT = re.compile(r"[0-9]{1,5}")
MAX_HOST = 253
ANY_PORT = -1
GRAMMAR = ("HOST[:PORT][/PATH]: HOST a DNS name, '*.' then a DNS name (one or more labels), "
           "an IPv4 address or a bracketed IPv6 one; PORT 1..65535 or '*'; PATH a repository, "
           "or a repository prefix ending in '/*'")

Host = str | ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class RegistryPattern:
    """One parsed pattern: host (a name, an address, or ``*.`` + a name), port and path."""

    text: str
    host: Host
    wildcard_host: bool
    port: int | None  # ANY_PORT: whatever port, or none
    path: tuple[str, ...]  # repository components; empty: every repository
    below: bool  # True: repositories strictly below ``path`` (a trailing "/*")

    def matches(self, host: Host, port: int | None, repository: str) -> bool:
        if self.port not in (port, ANY_PORT) or not self._host_matches(host):
            return False
        if not self.path:
            return True
        parts = tuple(repository.split("/"))
        if self.below:
            return len(parts) > len(self.path) and parts[:len(self.path)] == self.path
        return parts == self.path

    def _host_matches(self, host: Host) -> bool:
        if not self.wildcard_host:
            return host == self.host
        assert isinstance(self.host, str)
        return isinstance(host, str) and host.endswith("." + self.host)


def _bad(text: str, why: str) -> UsageError:
    return UsageError(f"`allow_registry` {text!r}: {why} (expected {GRAMMAR})",
                      arguments=("allow_registry",))


def _split_host_port(text: str, hostport: str) -> tuple[str, str | None]:
    """``host`` and the port text (or ``None``); IPv6 keeps its brackets."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise _bad(text, "unclosed '[' of an IPv6 address")
        host, rest = hostport[:close + 1], hostport[close + 1:]
        if rest and not rest.startswith(":"):
            raise _bad(text, f"unexpected {rest!r} after the IPv6 address")
        return host, rest[1:] if rest else None
    host, sep, port = hostport.partition(":")
    return host, port if sep else None


def parse_host(text: str, host: str) -> tuple[Host, bool]:
    """A pattern's host: an address, a lower-cased DNS name, or (``*.``) a name suffix."""
    if host.startswith("[") and host.endswith("]"):
        try:
            return ipaddress.IPv6Address(host[1:-1]), False
        except ValueError:
            raise _bad(text, f"{host!r} is not an IPv6 address") from None
    if host.endswith("."):
        raise _bad(text, f"host {host!r} ends with a dot; write it without")
    name = host.lower()
    wildcard = name.startswith("*.")
    if wildcard:
        name = name[2:]
    if "*" in name:
        raise _bad(text, "'*' is allowed only as a whole leading label ('*.example.com')")
    if _IPV4.fullmatch(name):
        if wildcard:
            raise _bad(text, "'*.' cannot precede an IPv4 address")
        try:
            return ipaddress.IPv4Address(name), False
        except ValueError:
            raise _bad(text, f"{host!r} is not an IPv4 address") from None
    if len(name) > MAX_HOST or not _NAME.fullmatch(name):
        raise _bad(text, f"{host!r} is not a DNS name")
    if name.rsplit(".", 1)[-1].isdigit():  # no top-level domain is all digits (RFC 3696 2)
        raise _bad(text, f"{host!r} is neither a DNS name nor an IPv4 address")
    if name == "index.docker.io":
        name = "docker.io"
    return name, wildcard


def _parse_port(text: str, port: str | None, wildcard: bool = False) -> int | None:
    if port is None:
        return None
    if wildcard and port == "*":
        return ANY_PORT
    if not _PORT.fullmatch(port) or not 1 <= int(port) <= 65535:
        raise _bad(text, f"port {port!r} is not a number in 1..65535")
    return int(port)


def _parse_path(text: str, path: str | None) -> tuple[tuple[str, ...], bool]:
    if path is None or path == "*":
        return (), False
    parts = path.split("/")
    below = parts[-1] == "*"
    if below:
        parts = parts[:-1]
    for part in parts:
        if not _COMPONENT.fullmatch(part):
            raise _bad(text, f"repository component {part!r} is not valid (lower-case "
                       "letters and digits, with '.', '_', '__' or '-' between them; '*' "
                       "only as the whole last component)")
    return tuple(parts), below


def parse_pattern(text: str) -> RegistryPattern:
    """Parse one ``--allow-registry`` pattern; :class:`UsageError` says what is wrong."""
    if not text or text != text.strip() or any(ch.isspace() for ch in text):
        raise _bad(text, "empty or contains spaces")
    hostport, sep, path = text.partition("/")
    if sep and not path:
        raise _bad(text, "nothing after '/'")
    host_text, port_text = _split_host_port(text, hostport)
    host, wildcard = parse_host(text, host_text)
    port = _parse_port(text, port_text, wildcard=True)
    components, below = _parse_path(text, path if sep else None)
    return RegistryPattern(text, host, wildcard, port, components, below)


def _reference_host(registry: str) -> tuple[Host, int | None] | None:
    """A reference's registry as (host, port), compared as patterns are; ``None``: unusable."""
    try:
        host_text, port_text = _split_host_port(registry, registry)
        return parse_host(registry, host_text)[0], _parse_port(registry, port_text)
    except UsageError:
        return None


@dataclass(frozen=True)
class AllowList:
    """The registry patterns the webhook may contact."""

    patterns: tuple[RegistryPattern, ...]

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> AllowList:
        """Parse every pattern (a :class:`UsageError` for the first invalid one)."""
        return cls(tuple(parse_pattern(p) for p in patterns))

    def allows(self, ref: Reference) -> bool:
        """Whether ``ref``'s registry and repository match a pattern."""
        if "*" in ref.registry:  # a wildcard is a pattern's, never a host's
            return False
        where = _reference_host(ref.registry)
        if where is None:
            return False
        host, port = where
        return any(p.matches(host, port, ref.repository) for p in self.patterns)
