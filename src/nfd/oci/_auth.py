"""Registry authentication as an :class:`httpx.Auth`: answers 401 challenges.

Distribution's token flow (distribution/docs/spec/auth/token.md): the registry
answers ``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``;
we get a token from the realm (anonymously, with basic credentials, or by
OAuth2 refresh token) for the scopes this request needs, cache it by scope, and
retry. ``Basic`` challenges are answered with the user name and password.
Credentials go only to the registry host this auth was made for, and to the
realm it names.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

from nfd.errors import AuthError
from nfd.oci._credentials import Credential
from nfd.oci._options import MAX_TOKEN_BYTES
from nfd.oci._token_cache import TokenCache, merge_scopes

# Request extension carrying the scopes a request needs (e.g. ``repository:app:pull``).
SCOPE_EXTENSION = "nfd.scopes"
CLIENT_ID = "nfd-client"

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` challenge."""

    scheme: str
    params: dict[str, str]


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
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class RegistryAuth(httpx.Auth):
    """Answers registry challenges for one host, caching bearer tokens by scope."""

    def __init__(
        self,
        origin: str,
        credential: Callable[[httpx.Request], Credential],
        tokens: TokenCache,
    ) -> None:
        self._origin = origin  # "scheme://host:port" the credentials belong to
        self._credential = credential
        self._tokens = tokens
        self._basic_hosts: set[str] = set()

    def __repr__(self) -> str:
        return f"RegistryAuth({self._origin!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) != self._origin:
            # Never hand credentials to another host (e.g. after a redirect).
            request.headers.pop("Authorization", None)
            yield request
            return
        scopes: tuple[str, ...] = tuple(request.extensions.get(SCOPE_EXTENSION, ()))
        cred = self._credential(request)
        host = request.url.netloc.decode()
        if cred.access_token:
            request.headers["Authorization"] = f"Bearer {cred.access_token}"
            yield request
            return
        token = self._tokens.get(host, scopes)
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        elif host in self._basic_hosts and cred.has_basic:
            request.headers["Authorization"] = basic_header(cred)
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        if challenge.scheme == "basic":
            if not cred.has_basic or host in self._basic_hosts:
                return  # nothing (new) to offer: the 401 stands
            self._basic_hosts.add(host)
            request.headers["Authorization"] = basic_header(cred)
            yield request
            return
        if challenge.scheme != "bearer":
            return
        if token:
            self._tokens.discard(host, token)
        wanted = merge_scopes((*scopes, challenge.params.get("scope", "")))
        token_request = self._token_request(request, challenge, wanted, cred)
        token_response = yield token_request
        token, expires_in = _read_token(token_response, challenge.params.get("realm", ""))
        self._tokens.put(host, wanted, token, expires_in)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def _token_request(
        self,
        request: httpx.Request,
        challenge: Challenge,
        scopes: tuple[str, ...],
        cred: Credential,
    ) -> httpx.Request:
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthError("bearer challenge without a realm")
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            raise AuthError(f"bearer challenge with an invalid realm {realm!r}") from None
        if url.scheme not in ("http", "https"):
            raise AuthError(f"bearer challenge with an unsupported realm {realm!r}")
        secret = cred.refresh_token or cred.has_basic
        if secret and url.scheme == "http" and request.url.scheme == "https":
            raise AuthError(f"refusing to send credentials to plain-HTTP token realm {realm}")
        service = challenge.params.get("service")
        params: list[tuple[str, str | int | float | bool | None]] = []
        if service:
            params.append(("service", service))
        params += [("scope", s) for s in scopes if s]
        if cred.refresh_token:
            form = [("grant_type", "refresh_token"), ("refresh_token", cred.refresh_token),
                    ("client_id", CLIENT_ID), *[(k, str(v)) for k, v in params]]
            return httpx.Request(
                "POST", url, data=dict(_join_scopes(form)), extensions=_timeout(request)
            )
        headers = {"Authorization": basic_header(cred)} if cred.has_basic else {}
        return httpx.Request(
            "GET", url.copy_merge_params(params), headers=headers, extensions=_timeout(request)
        )


def _join_scopes(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """OAuth2 wants one space-separated ``scope`` field."""
    scopes = " ".join(v for k, v in form if k == "scope")
    rest = [(k, v) for k, v in form if k != "scope"]
    return [*rest, ("scope", scopes)] if scopes else rest


def _timeout(request: httpx.Request) -> dict[str, object]:
    timeout = request.extensions.get("timeout")
    return {"timeout": timeout} if timeout is not None else {}


def _origin(url: httpx.URL) -> str:
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.scheme}://{url.host}:{port}"


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the default port spelled out."""
    return _origin(httpx.URL(url))


def _read_token(response: httpx.Response, realm: str) -> tuple[str, float | None]:
    host = httpx.URL(realm).netloc.decode() if realm else "token server"
    if response.status_code in (401, 403):
        raise AuthError(f"token server {host} refused the credentials ({response.status_code})")
    if response.status_code != 200:
        raise AuthError(f"token server {host} answered {response.status_code}")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_TOKEN_BYTES:
        raise AuthError(f"token server {host} sent an answer over {MAX_TOKEN_BYTES} bytes")
    # read() (not iter_bytes) because httpx re-reads every auth-flow response afterwards.
    body = response.read()
    if len(body) > MAX_TOKEN_BYTES:
        raise AuthError(f"token server {host} sent an answer over {MAX_TOKEN_BYTES} bytes")
    try:
        reply = json.loads(body)
        token = reply.get("token") or reply.get("access_token")
        expires = reply.get("expires_in")
    except (ValueError, AttributeError):
        raise AuthError(f"token server {host} sent an unreadable answer") from None
    if not isinstance(token, str) or not token:
        raise AuthError(f"token server {host} sent no token")
    return token, float(expires) if isinstance(expires, (int, float)) else None
