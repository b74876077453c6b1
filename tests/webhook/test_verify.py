"""``webhook serve --verify-registry``: with a policy in force for a registry, only a spec
signed by a trusted key shapes a pod; an unsigned one falls to the failure policy, with the
reason in a warning. Signed by the real cosign."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests._cli import assert_one_line_error, nfd
from tests.oci._registry import Registry
from tests.trust._signers import CosignSigner
from tests.webhook._webhook import pod, review_for
from tests.webhook.conftest import PushImage, StartWebhook

from nfd.compat import list_compat_artifacts
from nfd.oci import Reference, RegistryOptions


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> CosignSigner:
    return CosignSigner(tmp_path_factory.mktemp("webhook-cosign"))


def _sign(image: str, signer: CosignSigner) -> None:
    [artifact] = list_compat_artifacts(image, RegistryOptions(use_auth_files=False))
    ref = Reference.parse(image)
    signer.sign(f"{ref.registry}/{ref.repository}@{artifact.digest}")


def test_only_signed_specs_shape_pods(start_webhook: StartWebhook, registry: Registry,
                                      push_image_with: PushImage, signer: CosignSigner,
                                      tmp_path: Path) -> None:
    spec = Path(__file__).parent / "data" / "spec-kernel.yaml"
    signed, unsigned = push_image_with(spec), push_image_with(spec)
    _sign(signed, signer)
    flags = ("--allow-registry", registry.host,
             "--verify-registry", f"{registry.host}=cosign:{signer.public_key}")
    server = start_webhook(*flags)
    patched: dict[str, Any] = server.review(review_for(pod([signed])))["response"]
    assert patched["allowed"] is True and "patch" in patched, patched
    ignored = server.review(review_for(pod([unsigned])))["response"]
    assert ignored["allowed"] is True and "patch" not in ignored
    assert any("not trusted" in w and "no signature" in w for w in ignored["warnings"]), ignored
    strict = start_webhook(*flags, "--failure-policy", "fail")
    denied = strict.review(review_for(pod([unsigned])))["response"]
    assert denied["allowed"] is False and "no signature" in denied["status"]["message"]
    # A cached decision does not verify again: no registry call, same answer.
    started = time.monotonic()
    assert server.review(review_for(pod([signed])))["response"] == patched
    assert time.monotonic() - started < 1
    assert server.metrics()['nfd_webhook_calls_total{step="spec"}'] == 2


def test_a_bad_verify_flag_is_a_usage_error(start_webhook: StartWebhook,
                                            registry: Registry) -> None:
    with pytest.raises(RuntimeError, match="PATTERN=notation"):
        start_webhook("--allow-registry", registry.host, "--verify-registry", "x=gpg:key")


def test_a_newer_unsigned_spec_is_passed_over_with_a_warning(
        start_webhook: StartWebhook, registry: Registry, push_image_with: PushImage,
        signer: CosignSigner) -> None:
    data = Path(__file__).parent / "data"
    image = push_image_with(data / "spec-kernel.yaml")
    _sign(image, signer)
    time.sleep(1.1)  # creation times have second resolution: the next one is newer
    newer = nfd("compat", "attach-spec", "--image", image, "--spec",
                str(data / "spec-weighted.yaml"))
    assert newer.returncode == 0, newer.stderr
    plain = start_webhook("--allow-registry", registry.host)
    verified = start_webhook("--allow-registry", registry.host, "--verify-registry",
                             f"{registry.host}=cosign:{signer.public_key}")
    unchecked = plain.review(review_for(pod([image])))["response"]
    answer = verified.review(review_for(pod([image])))["response"]
    assert answer["allowed"] is True and answer["patch"] != unchecked["patch"]
    assert any("passing over" in w and "no signature" in w for w in answer["warnings"]), answer


def test_a_missing_policy_names_the_serve_flag(tmp_path: Path) -> None:
    """No Notation policy in the config directory: the error words the fix with serve's
    own flag, never the library's or another command's ``--trust-policy``."""
    for key in ("c.pem", "k.pem"):
        (tmp_path / key).write_text("")
    serve = ("compat", "webhook", "serve", "--tls-cert-file", str(tmp_path / "c.pem"),
             "--tls-key-file", str(tmp_path / "k.pem"), "--allow-registry", "r.example")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    proc = nfd(*serve, "--verify-registry", "r.example=notation", env=env)
    assert_one_line_error(proc, 2, "--verify-registry 'r.example=notation': no Notation trust "
                          "policy", "(give --verify-registry PATTERN=notation:POLICY)")
    assert "--trust-policy" not in proc.stderr
    proc = nfd(*serve, "--verify-registry", f"r.example=notation:{tmp_path / 'nope.json'}",
               env=env)
    assert_one_line_error(proc, 2, "--verify-registry 'r.example=notation:", "nope.json: No such")
