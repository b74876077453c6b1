"""Trust policies and keys are read before any registry is contacted; a bad one is a located
one-line usage error (exit 2), never a traceback and never a silent "trust everything"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nfd.errors import UsageError
from nfd.oci import Reference
from nfd.trust import CosignVerifier, NotationVerifier
from tests._cli import assert_one_line_error, nfd
from tests.trust._signers import NotationSigner, Pki

IMAGE = "127.0.0.1:9/never/contacted:v1"


def _policy(tmp_path: Path, statement: dict[str, object]) -> Path:
    path = tmp_path / "trustpolicy.json"
    path.write_text(json.dumps({"version": "1.0", "trustPolicies": [statement]}))
    return path


GOOD = {"name": "p", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:nfd"], "trustedIdentities": ["*"]}


@pytest.mark.parametrize("change, message", [
    ({"signatureVerification": {"level": "lenient"}}, "signatureVerification.level"),
    ({"trustStores": ["nfd"]}, "trustStores[0]"),
    ({"trustStores": ["ca:../../etc"]}, "trustStores[0]"),
    ({"trustedIdentities": ["CN=x"]}, "trustedIdentities"),
    ({"trustedIdentities": ["x509.subject: CN=only-a-name"]}, "must name C, ST and O"),
    ({"trustedIdentities": []}, "required unless level is skip"),
    ({"registryScopes": []}, "registryScopes"),
])
def test_bad_statements_are_located(tmp_path: Path, change: dict[str, object],
                                    message: str) -> None:
    policy = _policy(tmp_path, {**GOOD, **change})
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        NotationVerifier(policy)
    done = nfd("compat", "get-spec", "--image", IMAGE, "--verify", "notation",
               "--trust-policy", str(policy))
    assert_one_line_error(done, 2, str(policy), message)


def test_missing_store_and_symlinked_policy(tmp_path: Path) -> None:
    policy = _policy(tmp_path, GOOD)
    with pytest.raises(UsageError, match="trust store ca:nfd"):
        NotationVerifier(policy)
    link = tmp_path / "link.json"
    link.symlink_to(policy)
    with pytest.raises(UsageError, match="not a regular file"):
        NotationVerifier(link)


def test_no_policy_at_the_default_location(tmp_path: Path) -> None:
    done = nfd("compat", "get-spec", "--image", IMAGE, "--verify", "notation",
               env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert_one_line_error(done, 2, "trustpolicy.oci.json", "trustpolicy.json", "--trust-policy")


def test_scopes_choose_the_statement(tmp_path: Path) -> None:
    home = NotationSigner(tmp_path)
    path = home.trust("nfd", Pki().cert)
    doc = json.loads(path.read_text())
    exact = {**doc["trustPolicies"][0], "name": "exact",
             "registryScopes": ["registry.example.com/app"],
             "signatureVerification": {"level": "skip"}}
    doc["trustPolicies"][0]["registryScopes"] = ["registry.example.com/other"]
    doc["trustPolicies"].append(exact)
    path.write_text(json.dumps(doc))
    verifier = NotationVerifier(path)
    skipped = verifier.applies(Reference.parse("registry.example.com/app:v1"))
    assert skipped is not None and "skips verification" in skipped.signer
    assert verifier.applies(Reference.parse("registry.example.com/other:v1")) is None
    from nfd.errors import VerificationError

    with pytest.raises(VerificationError, match="no trust policy applies"):
        verifier.applies(Reference.parse("registry.example.com/third:v1"))


def test_cosign_keys(tmp_path: Path) -> None:
    not_a_key = tmp_path / "k.pub"
    not_a_key.write_text("hello")
    done = nfd("compat", "get-spec", "--image", IMAGE, "--verify", "cosign", "--cosign-key",
               str(not_a_key))
    assert_one_line_error(done, 2, str(not_a_key), "PEM public key")
    with pytest.raises(UsageError, match="cosign_key"):
        CosignVerifier([])
    done = nfd("compat", "validate-node", "--spec", "x.yaml", "--verify", "cosign",
               "--cosign-key", str(not_a_key))
    assert_one_line_error(done, 2, "--verify goes with --image")
