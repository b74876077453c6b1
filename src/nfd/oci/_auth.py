"""Registry authentication: answers 401 challenges.

Distribution's token flow (distribution/docs/spec/auth/token.md): the registry
answers ``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``;
we get a token from the realm (anonymously, with basic credentials, or by
OAuth2 refresh token) for the scopes this request needs, cache it by scope, and
retry. ``Basic`` challenges are answered with the user name and password.
Credentials go only to the registry host this auth was made for, and to a
realm on that same host, or on a token host the user trusts by name
(``RegistryOptions.token_hosts``); a realm elsewhere is asked anonymously. They
never travel over plain HTTP to a host that is not this machine.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Generator

from nfd._http1 import URL, BadURL, Request, Response
from nfd._redact import Redactor
from nfd.errors import AuthError, UsageError
from nfd.oci._credentials import Credential
from nfd.oci._options import MAX_TOKEN_BYTES
from nfd.oci._reference import is_loopback_host
from nfd.oci._token_cache import TokenCache, merge_scopes

# Host names (``host`` or ``host:port``) whose token realms may receive credentials.
TokenHosts = frozenset[str]
# Token hosts trusted without being named: Docker Hub's registry sends its users there.
KNOWN_TOKEN_HOSTS = {"registry-1.docker.io": frozenset({"auth.docker.io"})}
# A token lifetime beyond a day is not believed (and 400-digit numbers are not floats).
MAX_TOKEN_LIFETIME = 86400.0

CLIENT_ID = "nfd-client"

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


class Challenge:
    """One parsed ``WWW-Authenticate`` challenge."""

    __slots__ = ("params", "scheme")

    def __init__(self, scheme: str, params: dict[str, str]) -> None:
        self.scheme = scheme
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Challenge) and (self.scheme, self.params) == (
            other.scheme, other.params)

    def __repr__(self) -> str:
        return f"Challenge({self.scheme!r}, {self.params!r})"


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``Bearer realm="...",service="...",scope="..."`` (or ``Basic realm=...``)."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if not match or match.end() == pos:
            break
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = match.end()
    return Challenge(scheme.lower(), params)


def basic_header(credential: Credential) -> str:
    import base64  # only with a password: an anonymous or token pull never needs it

    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


# A flow: the requests to send, each answer sent back in; it ends when the last answer
# is final (a generator, like httpx's auth flows).
AuthFlow = Generator[Request, Response, None]


class RegistryAuth:
    """Answers registry challenges for one host, caching bearer tokens by scope."""

    def __init__(
        self,
        origin: str,
        credential: Callable[[str], Credential],
        tokens: TokenCache,
        *,
        redactor: Redactor | None = None,
        token_hosts: TokenHosts = frozenset(),
    ) -> None:
        self._origin = origin  # "scheme://host:port" the credentials belong to
        self._credential = credential
        self._tokens = tokens
        self._redactor = redactor or Redactor()
        self._token_hosts = token_hosts
        self._basic_hosts: set[str] = set()

    def __repr__(self) -> str:
        return f"RegistryAuth({self._origin!r})"

    def _fail(self, message: str, untrusted_token_host: str | None = None) -> AuthError:
        return AuthError(self._redactor.clean(message),
                         untrusted_token_host=untrusted_token_host)

    def auth_flow(self, request: Request, scopes: tuple[str, ...] = (),
                  repository: str = "") -> AuthFlow:
        """Send ``request`` (for ``scopes`` of ``repository``), answering challenges."""
        if request.url.origin != self._origin:
            # Never hand credentials to another host (e.g. after a redirect).
            request.headers.pop("Authorization", None)
            yield request
            return
        cred = self._credential(repository)
        host = request.url.netloc
        if cred.access_token:
            _check_channel(request.url, "the registry token")
            request.headers["Authorization"] = f"Bearer {cred.access_token}"
            yield request
            return
        token = self._tokens.get(host, scopes)
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        elif host in self._basic_hosts and cred.has_basic:
            request.headers["Authorization"] = basic_header(cred)
        response = yield request
        if response.status != 401:
            return
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        if challenge.scheme == "basic":
            if not cred.has_basic or host in self._basic_hosts:
                return  # nothing (new) to offer: the 401 stands
            _check_channel(request.url, "credentials")
            self._basic_hosts.add(host)
            request.headers["Authorization"] = basic_header(cred)
            yield request
            return
        if challenge.scheme != "bearer":
            return
        if token:
            self._tokens.discard(host, token)
        wanted = merge_scopes((*scopes, challenge.params.get("scope", "")))
        token_request, with_secret = self._token_request(request, challenge, wanted, cred)
        token_response = yield token_request
        token, expires_in = self._read_token(token_response, token_request.url, with_secret)
        self._tokens.put(host, wanted, token, expires_in)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def _realm(self, challenge: Challenge) -> URL:
        realm = challenge.params.get("realm")
        if not realm:
            raise self._fail("bearer challenge without a realm")
        if not realm.lower().startswith(("http://", "https://")):
            raise self._fail(f"bearer challenge with an unsupported realm {realm[:200]!r}")
        try:
            return URL.parse(realm)
        except BadURL:
            raise self._fail(f"bearer challenge with an invalid realm {realm[:200]!r}") from None

    def _trusts(self, realm: URL, registry: URL) -> bool:
        """Credentials may go to a realm on the registry's host or on a host named trusted."""
        if realm.host == registry.host:
            return True
        named = self._token_hosts | KNOWN_TOKEN_HOSTS.get(registry.host, frozenset())
        return realm.host in named or realm.netloc in named

    def _token_request(
        self,
        request: Request,
        challenge: Challenge,
        scopes: tuple[str, ...],
        cred: Credential,
    ) -> tuple[Request, bool]:
        """The token request, and whether it carries our credentials."""
        url = self._realm(challenge)
        secret = bool(cred.refresh_token or cred.has_basic) and self._trusts(url, request.url)
        if secret and url.scheme == "http" and request.url.scheme == "https":
            raise self._fail(f"refusing to send credentials to plain-HTTP token realm {url}")
        if secret:
            _check_channel(url, "credentials")
        service = challenge.params.get("service")
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        params += [("scope", s) for s in scopes if s]
        if secret and cred.refresh_token:
            from urllib.parse import urlencode

            form = [("grant_type", "refresh_token"), ("refresh_token", cred.refresh_token),
                    ("client_id", CLIENT_ID), *params]
            body = urlencode(dict(_join_scopes(form))).encode()
            return Request("POST", url, {"Content-Type": "application/x-www-form-urlencoded"},
                           body, limit=MAX_TOKEN_BYTES), True
        headers = {"Authorization": basic_header(cred)} if secret else {}
        return Request("GET", url.with_params(params), headers, limit=MAX_TOKEN_BYTES), secret

    def _read_token(self, response: Response, realm: URL,
                    with_secret: bool) -> tuple[str, float | None]:
        host = realm.netloc
        if response.status in (401, 403):
            if with_secret:
                raise self._fail(f"token server {host} refused the credentials "
                                 f"({response.status})")
            if not _same_host(realm, self._origin):
                raise self._fail(f"token server {host} wants credentials "
                                 f"({response.status}); none were sent to it: it is not "
                                 "on the registry's host, and not named trusted", host)
            raise self._fail(f"token server {host} wants credentials ({response.status}); "
                             "no credentials were given")
        if response.status != 200:
            raise self._fail(f"token server {host} answered {response.status}")
        if response.over_limit:  # the request's limit: MAX_TOKEN_BYTES
            raise self._fail(f"token server {host} sent an answer over {MAX_TOKEN_BYTES} bytes")
        token, expires = _token_fields(response.body)
        if token is None:
            raise self._fail(f"token server {host} sent an unreadable answer or no token")
        self._redactor.add(token)
        return token, _lifetime(expires)


def _token_fields(body: bytes) -> tuple[str | None, object]:
    try:
        reply = json.loads(body, parse_constant=_no_constant)
        token = reply.get("token") or reply.get("access_token")
        expires = reply.get("expires_in")
    except (ValueError, AttributeError, RecursionError):
        return None, None
    if not isinstance(token, str) or not token or not token.isprintable():
        return None, None
    return token, expires


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _lifetime(value: object) -> float | None:
    """``expires_in`` in seconds, capped at a day; None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and value > MAX_TOKEN_LIFETIME:
        return MAX_TOKEN_LIFETIME
    seconds = float(value)
    return min(seconds, MAX_TOKEN_LIFETIME) if math.isfinite(seconds) else None


def _check_channel(url: URL, what: str) -> None:
    """Secrets never cross the network in clear: plain HTTP only to this machine."""
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise UsageError(f"refusing to send {what} over plain HTTP to {url.host} "
                         "(only loopback registries may get them without TLS)")


def _same_host(url: URL, origin: str) -> bool:
    return url.host == URL.parse(origin).host


def _join_scopes(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """OAuth2 wants one space-separated ``scope`` field."""
    scopes = " ".join(v for k, v in form if k == "scope")
    rest = [(k, v) for k, v in form if k != "scope"]
    return [*rest, ("scope", scopes)] if scopes else rest
