"""Faults: storms, truncation, wrong digests, oversize, slowness, cross-host redirects."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.oci._fake_registry import FakeRegistry, Handler
from tests.oci._fake_registry import image_with_artifact as _with_artifact
from tests.oci._specs import spec_text

from nfd.compat import fetch_compat_spec_bytes
from nfd.errors import AuthError, DigestMismatchError, RegistryError, TooLargeError
from nfd.oci import Reference, RegistryClient, RegistryOptions

FAST = RegistryOptions(plain_http=True, use_auth_files=False, timeout=5)


def _storm(status: int, count: int, headers: dict[str, str] | None = None) -> Any:
    left = [count]

    def fault(handler: Handler) -> bool:
        if handler.command == "GET" and left[0] > 0:
            left[0] -= 1
            handler.error(status, "UNAVAILABLE")
            return True
        return False

    fault.left = left  # type: ignore[attr-defined]
    return fault


def test_500_storm_then_success(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    fake_registry.fault = _storm(500, 2)
    assert fetch_compat_spec_bytes(image, FAST).spec_bytes == spec_text("fault")


def test_429_honours_retry_after(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    fake_registry.fault = _storm(429, 1)
    original = Handler.error

    def error_with_retry_after(handler: Handler, status: int, code: str) -> None:
        handler.send_response(status)
        handler.send_header("Retry-After", "1")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    Handler.error = error_with_retry_after  # type: ignore[method-assign,assignment]
    try:
        started = time.monotonic()
        assert fetch_compat_spec_bytes(image, FAST).spec_bytes == spec_text("fault")
        assert time.monotonic() - started >= 1.0
    finally:
        Handler.error = original  # type: ignore[method-assign]


def test_endless_500_gives_a_clear_error(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    fake_registry.fault = _storm(503, 1000)
    with pytest.raises(RegistryError) as info:
        fetch_compat_spec_bytes(image, FAST)
    message = str(info.value)
    assert fake_registry.host in message and "/app" in message and "503" in message
    assert "attempts" in message


def test_truncated_body_is_retried(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    left = [1]

    def truncate(handler: Handler) -> bool:
        if handler.command == "GET" and "/manifests/v1" in handler.path and left[0]:
            left[0] -= 1
            handler.send_response(200)
            handler.send_header("Content-Length", "1000")
            handler.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            handler.end_headers()
            handler.wfile.write(b'{"schemaVersion":')
            handler.close_connection = True
            return True
        return False

    fake_registry.fault = truncate
    assert fetch_compat_spec_bytes(image, FAST).spec_bytes == spec_text("fault")
    assert left == [0]


def test_wrong_blob_digest_is_refused(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    for key in list(fake_registry.blobs):
        if fake_registry.blobs[key] == spec_text("fault"):
            fake_registry.blobs[key] = spec_text("evil!")  # same size, other content
    with pytest.raises(DigestMismatchError, match="hashes to"):
        fetch_compat_spec_bytes(image, FAST)


def test_wrong_manifest_digest_header_is_refused(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)

    def lie(handler: Handler) -> bool:
        if handler.command == "GET" and handler.path.endswith("/manifests/v1"):
            handler.reply(200, b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.'
                               b'manifest.v1+json","config":{},"layers":[]}',
                          {"Docker-Content-Digest": "sha256:" + "1" * 64})
            return True
        return False

    fake_registry.fault = lie
    with pytest.raises(DigestMismatchError):
        fetch_compat_spec_bytes(image, FAST)


def test_oversized_manifest_is_refused(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)

    def huge(handler: Handler) -> bool:
        if handler.command == "GET" and handler.path.endswith("/manifests/v1"):
            handler.reply(200, b" " * (5 * 1024 * 1024))
            return True
        return False

    fake_registry.fault = huge
    with pytest.raises(TooLargeError, match="4194304-byte limit"):
        fetch_compat_spec_bytes(image, FAST)


def test_slow_registry_stops_at_the_timeout(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)

    def trickle(handler: Handler) -> bool:
        if handler.command == "GET" and handler.path.endswith("/manifests/v1"):
            handler.send_response(200)
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            try:
                for _ in range(100):
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return True
        return False

    fake_registry.fault = trickle
    started = time.monotonic()
    with pytest.raises(RegistryError, match="timed out"):
        fetch_compat_spec_bytes(image, RegistryOptions(plain_http=True, use_auth_files=False,
                                                 timeout=1.5))
    assert time.monotonic() - started < 4


def test_redirect_to_another_host_gets_no_credentials() -> None:
    registry = FakeRegistry(username="bob", password="hunter2-secret")
    elsewhere = FakeRegistry()
    try:
        opts = RegistryOptions(plain_http=True, use_auth_files=False, username="bob",
                               password="hunter2-secret", timeout=5)
        image = _with_artifact(registry, opts)
        blob = next(d for (_, d), v in registry.blobs.items() if v == spec_text("fault"))
        elsewhere.blobs[("app", blob)] = spec_text("fault")

        def redirect(handler: Handler) -> bool:
            if handler.command == "GET" and "/blobs/" in handler.path:
                handler.reply(307, b"", {"Location": f"http://{elsewhere.host}{handler.path}"})
                return True
            return False

        registry.fault = redirect
        assert fetch_compat_spec_bytes(image, opts).spec_bytes == spec_text("fault")
        assert elsewhere.log and all(auth is None for _, _, auth in elsewhere.log)
        # and the registry itself did get them
        assert any(auth and auth.startswith("Basic ") for _, _, auth in registry.log)
        with RegistryClient(opts) as client:
            ref = Reference.parse(image)
            registry.fault = None
            registry.password = "changed"
            with pytest.raises(AuthError) as info:
                client.get_manifest(ref)
            assert "hunter2-secret" not in str(info.value)
    finally:
        registry.stop()
        elsewhere.stop()


def test_unreachable_registry(tmp_path: Any) -> None:
    from tests.oci._registry import free_port

    image = f"127.0.0.1:{free_port()}/app:v1"
    started = time.monotonic()
    with pytest.raises(RegistryError, match="cannot connect"):
        fetch_compat_spec_bytes(image, RegistryOptions(plain_http=True, timeout=2, retries=1))
    assert time.monotonic() - started < 4


class _FakeTime:
    """A clock that moves only when slept on: retry tests that do not really wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retries_wait_on_the_injected_clock(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)
    left = [2]

    def busy(handler: Handler) -> bool:
        if handler.command == "GET" and left[0] > 0:
            left[0] -= 1
            handler.reply(503, b"", {"Retry-After": "7"})
            return True
        return False

    fake_registry.fault = busy
    fake = _FakeTime()
    started = time.monotonic()
    with RegistryClient(RegistryOptions(plain_http=True, use_auth_files=False, timeout=30,
                                        retries=3), clock=fake.clock, sleep=fake.sleep) as c:
        manifest = c.get_manifest(Reference.parse(image))
    assert manifest.descriptor.digest.startswith("sha256:")
    assert fake.slept == [7.0, 7.0]
    assert time.monotonic() - started < 5  # 14 s of Retry-After, none of it really waited


def test_retry_after_beyond_the_deadline_is_not_waited(fake_registry: FakeRegistry) -> None:
    image = _with_artifact(fake_registry)

    def busy(handler: Handler) -> bool:
        handler.reply(503, b"", {"Retry-After": "9" * 400})
        return True

    fake_registry.fault = busy
    fake = _FakeTime()
    with RegistryClient(FAST, clock=fake.clock, sleep=fake.sleep) as client, \
            pytest.raises(RegistryError, match="no time left to retry"):
        client.get_manifest(Reference.parse(image))
    assert fake.slept == []


def test_basic_credentials_never_go_over_plain_http_to_another_machine() -> None:
    from nfd._http1 import URL, Headers, Request, Response
    from nfd.errors import UsageError
    from nfd.oci import Credential, TokenCache
    from nfd.oci._auth import RegistryAuth

    auth = RegistryAuth("http://registry.example.invalid:80",
                        lambda repository: Credential("bob", "hunter2"), TokenCache())
    request = Request("GET", URL.parse("http://registry.example.invalid/v2/"))
    flow = auth.auth_flow(request)
    first = next(flow)
    assert "Authorization" not in first.headers
    challenge = Response(401, Headers([("WWW-Authenticate", 'Basic realm="r"')]), b"",
                         first.url)
    with pytest.raises(UsageError, match="plain HTTP"):
        flow.send(challenge)
    assert "Authorization" not in request.headers
