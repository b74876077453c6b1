"""--create-rules: NodeFeatureRules written through the Kubernetes API wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._cli import nfd
from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig
from tests.oci._registry import Registry
from tests.webhook._webhook import patched, pod, review_for
from tests.webhook.conftest import PushImage, StartWebhook

from nfd.webhook._rules import MANAGED_BY, MANAGER

DATA = Path(__file__).parent / "data"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer(ApiState(items=[]))
    yield server
    server.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, api: ApiServer) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", api.url,
                            {"webhook": {"token": "good-token"}}, current="webhook")


def _rule_of(image: str) -> dict[str, Any]:
    """What ``nfd compat affinity --emit rule`` prints for the image."""
    done = nfd("compat", "affinity", "--image", image, "--emit", "rule", "-o", "json")
    assert done.returncode == 0, done.stderr
    rule: dict[str, Any] = json.loads(done.stdout)
    return rule


def _start(start_webhook: StartWebhook, registry: Registry, kubeconfig: Path) -> Any:
    return start_webhook("--allow-registry", registry.host, "--create-rules",
                         "--kubeconfig", str(kubeconfig))


def test_rule_is_created_once_and_matches_the_command(
        start_webhook: StartWebhook, registry: Registry, kubeconfig: Path, api: ApiServer,
        push_image_with: PushImage) -> None:
    image = push_image_with(DATA / "spec-weighted.yaml")
    server = _start(start_webhook, registry, kubeconfig)
    obj = pod([image])
    answer = server.review(review_for(obj))
    assert answer["response"]["allowed"] is True and "warnings" not in answer["response"]
    expected = _rule_of(image)
    name = expected["metadata"]["name"]
    assert api.state.rule_writes == [("POST", name)]
    stored = api.state.rules[name]
    assert stored["spec"] == expected["spec"]
    assert stored["metadata"]["labels"] == {MANAGED_BY: MANAGER}
    # The labels the patched affinity requires are the ones the rule sets.
    required = patched(obj, answer)["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    wanted = {t["matchExpressions"][0]["key"] for t in required}
    made = {label for rule in stored["spec"]["rules"] for label in rule.get("labels", {})}
    assert wanted == made
    server.review(review_for(obj))
    assert len(api.state.rule_writes) == 1  # the second pod finds it written


def test_dry_run_writes_nothing(start_webhook: StartWebhook, registry: Registry,
                                kubeconfig: Path, api: ApiServer,
                                push_image_with: PushImage) -> None:
    image = push_image_with(DATA / "spec-kernel.yaml")
    server = _start(start_webhook, registry, kubeconfig)
    answer = server.review(review_for(pod([image]), dry_run=True))
    assert "patch" in answer["response"]
    assert api.state.rule_writes == []


def test_our_stale_rule_is_updated_a_foreign_one_left_alone(
        start_webhook: StartWebhook, registry: Registry, kubeconfig: Path, api: ApiServer,
        push_image_with: PushImage) -> None:
    ours, theirs = (push_image_with(DATA / "spec-kernel.yaml") for _ in range(2))
    for image, labels in ((ours, {MANAGED_BY: MANAGER}), (theirs, {"team": "gpu"})):
        rule = _rule_of(image)
        rule["metadata"].update(labels=labels, resourceVersion="7")
        rule["spec"]["rules"][0]["labels"] = {"old": "true"}
        api.state.rules[rule["metadata"]["name"]] = rule
    foreign = json.loads(json.dumps(api.state.rules[_rule_of(theirs)["metadata"]["name"]]))
    server = _start(start_webhook, registry, kubeconfig)
    answer = server.review(review_for(pod([ours])))
    assert "patch" in answer["response"]
    name = _rule_of(ours)["metadata"]["name"]
    assert api.state.rule_writes == [("PUT", name)]
    assert api.state.rules[name]["spec"] == _rule_of(ours)["spec"]
    answer = server.review(review_for(pod([theirs])))
    response = answer["response"]
    assert response["allowed"] is True and "patch" not in response  # ignore: admitted as is
    assert any("is not ours" in w for w in response["warnings"])
    assert api.state.rules[_rule_of(theirs)["metadata"]["name"]] == foreign


def test_rotated_token_is_read_again(start_webhook: StartWebhook, registry: Registry,
                                     api: ApiServer, push_image_with: PushImage,
                                     tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first-token")
    api.state.tokens = {"first-token"}
    config = write_kubeconfig(tmp_path / "kc", api.url,
                              {"sa": {"tokenFile": str(token)}}, current="sa")
    server = start_webhook("--allow-registry", registry.host, "--create-rules",
                           "--kubeconfig", str(config), "--failure-policy", "fail")
    api.state.tokens = {"second-token"}  # the old token expired; the file has the new one
    token.write_text("second-token")
    image = push_image_with(DATA / "spec-kernel.yaml")
    answer = server.review(review_for(pod([image])))
    assert answer["response"]["allowed"] is True and "patch" in answer["response"]
    assert [r["token"] for r in api.state.requests if r["method"] == "POST"] == [
        "first-token", "second-token"]
    assert api.state.rule_writes == [("POST", _rule_of(image)["metadata"]["name"])]


def test_rules_fit_the_cluster_crd(start_webhook: StartWebhook, registry: Registry,
                                   kubeconfig: Path, api: ApiServer,
                                   push_image_with: PushImage) -> None:
    """The API server holds NFD v0.17.3's CRD (no Ge): the webhook reads it and writes Gt."""
    from tests.cluster._nfd_crds import nodefeaturerule_crd

    api.state.rule_crd = nodefeaturerule_crd("v0.17.3")
    image = push_image_with(DATA / "spec-ge.yaml")
    name = _rule_of(image)["metadata"]["name"]
    # Told the wrong release, the webhook writes Ge and the API server refuses it (422).
    wrong = start_webhook("--allow-registry", registry.host, "--create-rules",
                          "--kubeconfig", str(kubeconfig), "--nfd-version", "v0.19.0")
    response = wrong.review(review_for(pod([image])))["response"]
    assert any("HTTP 422" in w and "is invalid" in w for w in response["warnings"])
    assert name not in api.state.rules
    wrong.stop()
    server = _start(start_webhook, registry, kubeconfig)
    response = server.review(review_for(pod([image])))["response"]
    assert response["allowed"] is True and "warnings" not in response
    assert api.state.rules[name]["spec"]["rules"][0]["matchFeatures"][0][
        "matchExpressions"] == {"major": {"op": "Gt", "value": ["5"]}}
