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

from nfd.oci import Reference
from nfd.webhook import APPLIED_ANNOTATION
from nfd.webhook._plan import IMAGE_ANNOTATION, SPEC_DIGEST_ANNOTATION, owner_annotations
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


def _stored(api: ApiServer, image: str, labels: dict[str, str],
            annotations: dict[str, str] | None) -> dict[str, Any]:
    """Put a rule under ``image``'s rule name, as someone else (or we) made it; a copy."""
    rule = _rule_of(image)
    rule["metadata"].update(labels=labels, resourceVersion="7")
    if annotations is not None:
        rule["metadata"]["annotations"] = annotations
    rule["spec"]["rules"][0]["labels"] = {"old": "true"}
    api.state.rules[rule["metadata"]["name"]] = rule
    return json.loads(json.dumps(rule))  # type: ignore[no-any-return]


def test_our_stale_rule_is_updated(start_webhook: StartWebhook, registry: Registry,
                                   kubeconfig: Path, api: ApiServer,
                                   push_image_with: PushImage) -> None:
    image = push_image_with(DATA / "spec-kernel.yaml")
    _stored(api, image, {MANAGED_BY: MANAGER}, owner_annotations(image, "sha256:" + "0" * 64))
    server = _start(start_webhook, registry, kubeconfig)
    answer = server.review(review_for(pod([image])))
    assert "patch" in answer["response"] and "warnings" not in answer["response"]
    name = _rule_of(image)["metadata"]["name"]
    assert api.state.rule_writes == [("PUT", name)]
    stored = api.state.rules[name]
    assert stored["spec"] == _rule_of(image)["spec"]
    assert stored["metadata"]["annotations"][SPEC_DIGEST_ANNOTATION] == json.loads(
        answer_applied(answer, image))


def answer_applied(answer: dict[str, Any], image: str) -> str:
    """The spec artifact digest the answer says it applied to ``image`` (JSON string)."""
    obj = patched(pod([image]), answer)
    return json.dumps(json.loads(obj["metadata"]["annotations"][APPLIED_ANNOTATION])[image])


@pytest.mark.parametrize(("whose", "labels", "annotations"), [
    ("another image's", {MANAGED_BY: MANAGER}, "other"),
    ("made by hand", {"team": "gpu"}, None),
    ("made by hand, claiming to be ours", {"team": "gpu"}, "self"),
    ("an older version's (label, no owner annotation)", {MANAGED_BY: MANAGER}, None),
])
def test_a_rule_not_provably_the_images_is_left_alone_and_another_name_used(
        start_webhook: StartWebhook, registry: Registry, kubeconfig: Path, api: ApiServer,
        push_image_with: PushImage, whose: str, labels: dict[str, str],
        annotations: str | None) -> None:
    image = push_image_with(DATA / "spec-kernel.yaml")
    owner = {"other": owner_annotations(f"{registry.host}/someone/else:v1", None),
             "self": owner_annotations(image, None), None: None}[annotations]
    taken = _rule_of(image)["metadata"]["name"]
    before = _stored(api, image, labels, owner)
    server = _start(start_webhook, registry, kubeconfig)
    obj = pod([image])
    answer = server.review(review_for(obj))
    response = answer["response"]
    assert response["allowed"] is True and "patch" in response, whose
    assert api.state.rules[taken] == before  # never replaced
    assert [method for method, _ in api.state.rule_writes] == ["POST"]
    (_, alternative), = api.state.rule_writes
    assert alternative != taken
    written = api.state.rules[alternative]
    assert written["metadata"]["annotations"][IMAGE_ANNOTATION] == str(Reference.parse(image))
    assert any(f"{taken} belongs to another image" in w for w in response["warnings"])
    # The pod requires the alternative rule's labels, none of the taken rule's.
    required = patched(obj, answer)["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    wanted = {t["matchExpressions"][0]["key"] for t in required}
    assert wanted == {label for rule in written["spec"]["rules"]
                      for label in rule.get("labels", {})}
    assert not wanted & {label for rule in _rule_of(image)["spec"]["rules"]
                         for label in rule.get("labels", {})}
    assert server.metrics()["nfd_webhook_rule_conflicts_total"] == 1
    server.review(review_for(obj))  # the next pod: cached, nothing written again
    assert len(api.state.rule_writes) == 1


def test_rules_named_by_an_older_version_are_never_touched(
        start_webhook: StartWebhook, registry: Registry, kubeconfig: Path, api: ApiServer,
        push_image_with: PushImage) -> None:
    image = push_image_with(DATA / "spec-kernel.yaml")
    old = _rule_of(image)
    old_name = old["metadata"]["name"].rsplit("-", 1)[0] + "-abcdef"  # a 24-bit hash
    old["metadata"].update(name=old_name, labels={MANAGED_BY: MANAGER})
    api.state.rules[old_name] = json.loads(json.dumps(old))
    server = _start(start_webhook, registry, kubeconfig)
    assert "patch" in server.review(review_for(pod([image])))["response"]
    assert api.state.rule_writes == [("POST", _rule_of(image)["metadata"]["name"])]
    assert api.state.rules[old_name] == old


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


def test_two_images_forced_onto_one_name_keep_their_own_rules(
        registry: Registry, layout: Path, kubeconfig: Path, api: ApiServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash made to collide for every first name (a seam at ``short_hash``): the second
    image's review refuses to replace the first's rule, and takes its alternative name."""
    import asyncio
    import hashlib

    from tests.oci._images import push_image

    from nfd.cluster import _labels
    from nfd.oci import RegistryOptions
    from nfd.webhook import AllowList, Resolver, ResolverSettings, RuleWriter

    def colliding(text: str, length: int = 20) -> str:
        if "#" in text:  # alternative names keep the real hash
            return hashlib.sha256(text.encode()).hexdigest()[:length]
        return "0" * length

    # Two repositories, the same image name and tag: the same readable part of the name.
    images = [f"{registry.host}/team-{team}/shared:v1" for team in ("a", "b")]
    for image in images:
        push_image(layout, "amd64", registry, image.split("/", 1)[1])
        done = nfd("compat", "attach-spec", "--image", image, "--spec",
                   str(DATA / "spec-kernel.yaml"))
        assert done.returncode == 0, done.stderr
    monkeypatch.setattr(_labels, "short_hash", colliding)

    async def resolve() -> tuple[Any, Any, int]:
        settings = ResolverSettings(RegistryOptions(), AllowList.parse([registry.host]),
                                    "compat.feature.node.kubernetes.io")
        resolver = Resolver(settings, RuleWriter(kubeconfig=str(kubeconfig)))
        try:
            first = await resolver.resolve(images[0])
            second = await resolver.resolve(images[1])
            return first, second, resolver.counters.conflicts
        finally:
            resolver.close()

    a, b, conflicts = asyncio.run(resolve())
    assert a.status == b.status == "spec", (a.message, b.message)
    assert a.plan.rule_name == "image-compat-shared-v1-" + "0" * 20
    assert b.plan.rule_name != a.plan.rule_name
    assert [method for method, _ in api.state.rule_writes] == ["POST", "POST"]
    owners = {name: rule["metadata"]["annotations"][IMAGE_ANNOTATION]
              for name, rule in api.state.rules.items()}
    assert owners == {a.plan.rule_name: str(Reference.parse(images[0])),
                      b.plan.rule_name: str(Reference.parse(images[1]))}
    assert conflicts == 1
    assert any("belongs to another image" in w for w in b.plan.warnings)
    labels_a = {k for r in api.state.rules[a.plan.rule_name]["spec"]["rules"]
                for k in r.get("labels", {})}
    labels_b = {k for r in api.state.rules[b.plan.rule_name]["spec"]["rules"]
                for k in r.get("labels", {})}
    assert labels_a and labels_b and not labels_a & labels_b  # label keys apart as well


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


def test_a_spec_the_crd_cannot_take_is_warned_about_reason_first(
        start_webhook: StartWebhook, registry: Registry, kubeconfig: Path, api: ApiServer,
        push_image_with: PushImage, tmp_path: Path) -> None:
    """A version comparison under v0.17.3's CRD: no exact rewrite, so no rule and a warning
    that says which NFD it needs before the (long) location, within the 256 characters the
    API server keeps (KEP-1693)."""
    from tests.cluster._nfd_crds import nodefeaturerule_crd

    api.state.rule_crd = nodefeaturerule_crd("v0.17.3")
    spec = tmp_path / "spec-version.yaml"
    spec.write_text((DATA / "spec-ge.yaml").read_text().replace(
        '{op: Ge, value: ["6"]}', '{op: Ge, value: ["6.1"], type: version}'))
    image = push_image_with(spec)
    server = _start(start_webhook, registry, kubeconfig)
    response = server.review(review_for(pod([image])))["response"]
    assert response["allowed"] is True and "patch" not in response
    [warning, _] = response["warnings"]
    assert warning.startswith(f"image {image}: op Ge with type: version needs NFD v0.18.0 or "
                              "newer; the cluster's NodeFeatureRule CRD does not accept it (at "
                              ), warning
    assert api.state.rules == {}
