"""Bearer tokens are cached per scope set: a pull token never serves a push."""

from __future__ import annotations

from nfd.oci import TokenCache
from nfd.oci._auth import parse_challenge
from nfd.oci._token_cache import covers, merge_scopes

PULL = "repository:app:pull"
PUSH = "repository:app:pull,push"


def test_pull_token_is_not_a_push_token() -> None:
    cache = TokenCache()
    cache.put("reg:5000", [PULL], "pull-token", 300)
    assert cache.get("reg:5000", [PULL]) == "pull-token"
    assert cache.get("reg:5000", [PUSH]) is None
    cache.put("reg:5000", ["repository:app:push,pull"], "push-token", 300)
    assert cache.get("reg:5000", [PUSH]) == "push-token"
    assert cache.get("other:5000", [PULL]) is None
    assert cache.get("reg:5000", ["repository:other:pull"]) is None


def test_expired_and_discarded_tokens_are_gone() -> None:
    cache = TokenCache()
    cache.put("reg", [PULL], "short", 5)  # under the expiry margin: never served
    assert cache.get("reg", [PULL]) is None
    cache.put("reg", [PULL], "t", 300)
    cache.discard("reg", "t")
    assert cache.get("reg", [PULL]) is None


def test_secrets_stay_out_of_repr() -> None:
    cache = TokenCache()
    cache.put("reg", [PULL], "very-secret-token", 300)
    assert "very-secret-token" not in repr(cache)


def test_scope_algebra() -> None:
    assert merge_scopes([PULL, "repository:app:push", "registry:catalog:*"]) == (
        "registry:catalog:*", "repository:app:pull,push")
    assert covers([PUSH], [PULL])
    assert not covers([PULL], [PUSH])


def test_parse_challenge() -> None:
    c = parse_challenge('Bearer realm="https://auth.example/token",service="reg",'
                        'scope="repository:a/b:pull,push"')
    assert c is not None and c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.example/token", "service": "reg",
                        "scope": "repository:a/b:pull,push"}
    basic = parse_challenge('Basic realm="x y"')
    assert basic is not None and basic.scheme == "basic" and basic.params == {"realm": "x y"}
