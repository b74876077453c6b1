"""The webhook end to end: real TLS, a real registry, the real command."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests._cli import nfd
from tests.oci._registry import Registry
from tests.webhook._webhook import SilentServer, patched, pod, review_for
from tests.webhook.conftest import StartWebhook

from nfd.webhook import APPLIED_ANNOTATION, SKIP_ANNOTATION


def _affinity_patch(image: str, obj: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """What ``nfd compat affinity --image IMAGE --patch`` makes of ``obj``."""
    path = tmp_path / f"in-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(obj))
    done = nfd("compat", "affinity", "--image", image, "--patch", str(path), "-o", "json")
    assert done.returncode == 0, done.stderr
    listed: dict[str, Any] = json.loads(done.stdout)
    return listed["items"][-1]  # type: ignore[no-any-return]


def _without_applied(obj: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(obj))
    annotations = out["metadata"].get("annotations", {})
    annotations.pop(APPLIED_ANNOTATION, None)
    if not annotations:
        out["metadata"].pop("annotations", None)
    return out


def _allow(registry: Registry) -> tuple[str, ...]:
    return ("--allow-registry", registry.host)


def test_patch_equals_affinity_patch(start_webhook: StartWebhook, registry: Registry,
                                     weighted_image: str, tmp_path: Path) -> None:
    server = start_webhook(*_allow(registry))
    obj = pod([weighted_image])
    answer = server.review(review_for(obj))
    response = answer["response"]
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert response["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert response["allowed"] is True
    result = patched(obj, answer)
    assert _without_applied(result) == _affinity_patch(weighted_image, obj, tmp_path)
    node_affinity = result["spec"]["affinity"]["nodeAffinity"]
    assert [p["weight"] for p in node_affinity[
        "preferredDuringSchedulingIgnoredDuringExecution"]] == [80, 20]
    applied = json.loads(result["metadata"]["annotations"][APPLIED_ANNOTATION])
    listed = json.loads(nfd("compat", "list", "--image", weighted_image, "-o", "json").stdout)
    assert applied == {weighted_image: listed[0]["digest"]}  # the newest artifact


def test_several_images_and_an_existing_affinity_all_apply(
        start_webhook: StartWebhook, registry: Registry, weighted_image: str,
        kernel_image: str, bare_image: str, tmp_path: Path) -> None:
    server = start_webhook(*_allow(registry))
    zone = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                               "values": ["a"]}]},
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                               "values": ["b"]}]}]}}
    obj = pod([weighted_image, bare_image], [kernel_image], affinity={"nodeAffinity": zone})
    answer = server.review(review_for(obj))
    assert answer["response"]["allowed"] is True
    result = patched(obj, answer)
    # What the command gives when each image's affinity is patched in, one after the other.
    expected = _affinity_patch(kernel_image, obj, tmp_path)
    expected = _affinity_patch(weighted_image, expected, tmp_path)
    assert _without_applied(result) == expected
    terms = result["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert len(terms) == 2 * 1 * 2  # zones x kernel's one set x weighted's two sets
    assert all(len(t["matchExpressions"]) == 3 for t in terms)  # zone AND kernel AND cpu
    applied = json.loads(result["metadata"]["annotations"][APPLIED_ANNOTATION])
    assert list(applied) == [kernel_image, weighted_image]  # the bare image has none


def test_image_without_a_spec_is_admitted_unchanged(
        start_webhook: StartWebhook, registry: Registry, bare_image: str) -> None:
    server = start_webhook(*_allow(registry))
    answer = server.review(review_for(pod([bare_image])))
    assert answer["response"] == {"uid": answer["response"]["uid"], "allowed": True}
    server.review(review_for(pod([bare_image])))
    metrics = server.metrics()
    assert metrics['nfd_webhook_calls_total{step="spec"}'] == 1  # negative answer cached
    assert metrics['nfd_webhook_cache_hits_total{cache="spec"}'] == 1


def test_opt_out_annotation(start_webhook: StartWebhook, registry: Registry,
                            weighted_image: str) -> None:
    server = start_webhook(*_allow(registry))
    obj = pod([weighted_image], annotations={SKIP_ANNOTATION: "skip"})
    answer = server.review(review_for(obj))
    assert answer["response"] == {"uid": answer["response"]["uid"], "allowed": True}
    assert server.metrics()['nfd_webhook_calls_total{step="tag"}'] == 0  # nothing fetched
    assert server.metrics()['nfd_webhook_reviews_total{outcome="opted-out"}'] == 1


def test_registry_not_allowed_is_never_contacted(start_webhook: StartWebhook,
                                                 registry: Registry,
                                                 weighted_image: str) -> None:
    listener = SilentServer()  # records every connection made to it
    try:
        server = start_webhook("--allow-registry", "registry.example.com",
                               "--allow-registry", f"{registry.host}/other/*")
        image = f"{listener.host}/evil/app:v1"
        obj = pod([image, weighted_image])
        answer = server.review(review_for(obj))
        response = answer["response"]
        assert response["allowed"] is True and "patch" not in response
        refused = [w for w in response["warnings"] if "not on the webhook's allow-list" in w]
        assert any(listener.host in w for w in refused)
        assert any(registry.host in w for w in refused)
        time.sleep(0.2)
        assert listener.accepted == []
        assert server.metrics()['nfd_webhook_calls_total{step="tag"}'] == 0
    finally:
        listener.close()


@pytest.mark.parametrize("policy", ["ignore", "fail"])
def test_slow_registry_answers_within_the_timeout(start_webhook: StartWebhook,
                                                  policy: str) -> None:
    listener = SilentServer()
    try:
        server = start_webhook("--allow-registry", listener.host, "--timeout", "1.5",
                               "--failure-policy", policy)
        started = time.monotonic()
        answer = server.review(review_for(pod([f"{listener.host}/slow/app:v1"])))
        elapsed = time.monotonic() - started
        assert elapsed < 1.5 + 0.5, elapsed
        assert listener.accepted  # it did try: the registry was allowed
        response = answer["response"]
        assert "patch" not in response
        assert any("within 1.5 s" in w for w in response["warnings"])
        if policy == "fail":
            assert response["allowed"] is False
            assert response["status"]["code"] == 503
            assert "failure policy: fail" in response["status"]["message"]
        else:
            assert response["allowed"] is True
            assert any("failure policy: ignore" in w for w in response["warnings"])
    finally:
        listener.close()


def test_api_server_timeout_shortens_the_deadline(start_webhook: StartWebhook) -> None:
    listener = SilentServer()
    try:
        server = start_webhook("--allow-registry", listener.host, "--timeout", "5")
        started = time.monotonic()
        answer = server.review(review_for(pod([f"{listener.host}/slow/app:v1"])),
                               query="?timeout=1s")
        assert time.monotonic() - started < 1.5
        assert answer["response"]["allowed"] is True
    finally:
        listener.close()


def test_registry_down(start_webhook: StartWebhook) -> None:
    from tests.oci._registry import free_port

    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    server = start_webhook("--allow-registry", host, "--failure-policy", "fail")
    started = time.monotonic()
    answer = server.review(review_for(pod([f"{host}/down/app:v1"])))
    assert time.monotonic() - started < 5
    response = answer["response"]
    assert response["allowed"] is False
    assert host in response["status"]["message"]
    assert server.metrics()['nfd_webhook_call_failures_total{step="tag"}'] == 1


def test_cached_decision_makes_no_registry_call(start_webhook: StartWebhook,
                                                registry: Registry, weighted_image: str) -> None:
    server = start_webhook(*_allow(registry))
    first = server.review(review_for(pod([weighted_image])))
    second = server.review(review_for(pod([weighted_image])))
    assert first == second
    metrics = server.metrics()
    assert metrics['nfd_webhook_calls_total{step="tag"}'] == 1
    assert metrics['nfd_webhook_calls_total{step="spec"}'] == 1
    assert metrics['nfd_webhook_cache_hits_total{cache="tag"}'] == 1
    assert metrics['nfd_webhook_reviews_total{outcome="patched"}'] == 2


def test_workloads_only_when_asked(start_webhook: StartWebhook, registry: Registry,
                                   weighted_image: str, tmp_path: Path) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "my-namespace"},
                  "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                      "metadata": {"labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "web", "image": weighted_image}]}}}}
    review = review_for(deployment, group="apps", resource="deployments")
    plain = start_webhook(*_allow(registry))
    assert "patch" not in plain.review(review)["response"]
    server = start_webhook(*_allow(registry), "--workloads")
    result = patched(deployment, server.review(review))
    template = result["spec"]["template"]
    assert APPLIED_ANNOTATION in template["metadata"]["annotations"]
    template["metadata"].pop("annotations")
    assert result == _affinity_patch(weighted_image, deployment, tmp_path)


def test_tls_is_real_and_bad_reviews_are_refused(start_webhook: StartWebhook,
                                                 registry: Registry) -> None:
    import httpx

    server = start_webhook(*_allow(registry))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{server.url}/healthz")  # the system CAs do not know our throwaway CA
    assert server.client.get("/healthz").text == "ok\n"
    reply = server.client.post("/mutate", content=b"{not json")
    assert reply.status_code == 400 and "not an AdmissionReview" in reply.text
    reply = server.client.post("/mutate", json={"apiVersion": "v1", "kind": "Pod"})
    assert reply.status_code == 400 and "AdmissionReview" in reply.text
    reply = server.client.post("/mutate", content=b" " * (9 * 1024 * 1024))
    assert reply.status_code == 413
    metrics = server.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'nfd_webhook_reviews_total{outcome="bad-request"} 3' in metrics.text


def test_too_many_images_are_not_all_fetched(start_webhook: StartWebhook,
                                             registry: Registry) -> None:
    from nfd.webhook._resolver import MAX_IMAGES_PER_REVIEW

    server = start_webhook(*_allow(registry), "--failure-policy", "fail")
    images = [f"{registry.host}/many/app{i}:v1" for i in range(MAX_IMAGES_PER_REVIEW + 3)]
    answer = server.review(review_for(pod(images)))
    assert answer["response"]["allowed"] is False
    assert f"and {MAX_IMAGES_PER_REVIEW + 2} more image(s)" in answer["response"]["status"][
        "message"]
    assert server.metrics()['nfd_webhook_calls_total{step="tag"}'] == MAX_IMAGES_PER_REVIEW


def test_serve_usage_errors_are_one_line(tls_files: tuple[Path, Path, Path]) -> None:
    from tests._cli import assert_one_line_error

    cert, key, _ = tls_files
    done = nfd("compat", "webhook", "serve", "--listen", "127.0.0.1:0", "--tls-cert-file",
               str(cert), "--tls-key-file", str(cert.parent / "missing.key"),
               "--allow-registry", "x")
    assert_one_line_error(done, 2, "missing.key")
    done = nfd("compat", "webhook", "serve", "--listen", "nowhere", "--tls-cert-file",
               str(cert), "--tls-key-file", str(key), "--allow-registry", "x")
    assert done.returncode == 2 and "HOST:PORT" in done.stderr
    done = nfd("compat", "webhook", "serve", "--tls-cert-file", str(cert),
               "--tls-key-file", str(key))
    assert done.returncode == 2 and "--allow-registry" in done.stderr


def test_credentials_from_the_mounted_auth_file(start_webhook: StartWebhook,
                                                auth_registry: Registry, layout: Path,
                                                tmp_path: Path) -> None:
    import base64

    from tests.oci._images import push_image
    from tests.webhook.conftest import AUTH_PASSWORD, AUTH_USER

    assert auth_registry.ca_file is not None
    image = f"{auth_registry.host}/private/app:v1"
    push_image(layout, "amd64", auth_registry, "private/app:v1", (AUTH_USER, AUTH_PASSWORD))
    done = nfd("compat", "attach-spec", "--image", image, "--spec",
               str(Path(__file__).parent / "data" / "spec-kernel.yaml"),
               "--ca-file", str(auth_registry.ca_file), "--registry-username", AUTH_USER,
               "--registry-password-stdin", stdin=AUTH_PASSWORD)
    assert done.returncode == 0, done.stderr
    auth = tmp_path / "auth.json"  # what a kubernetes.io/dockerconfigjson Secret holds
    token = base64.b64encode(f"{AUTH_USER}:{AUTH_PASSWORD}".encode()).decode()
    auth.write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    flags = ("--allow-registry", auth_registry.host, "--ca-file", str(auth_registry.ca_file),
             "--failure-policy", "fail")
    empty = tmp_path / "empty"
    empty.mkdir()
    isolated = {"HOME": str(empty), "DOCKER_CONFIG": str(empty), "XDG_RUNTIME_DIR": str(empty)}
    server = start_webhook(*flags, "--registry-auth-file", str(auth), env=isolated)
    answer = server.review(review_for(pod([image])))
    assert answer["response"]["allowed"] is True and "patch" in answer["response"]
    anonymous = start_webhook(*flags, env=isolated)
    denied = anonymous.review(review_for(pod([image])))["response"]
    assert denied["allowed"] is False
    assert "unauthorized (401)" in denied["status"]["message"]
    assert AUTH_PASSWORD not in json.dumps(answer) + json.dumps(denied)
    assert all(AUTH_PASSWORD not in line for line in server.log + anonymous.log)


def test_referrers_api_registry(start_webhook: StartWebhook, tmp_path: Path) -> None:
    from tests.oci._fake_registry import FakeRegistry

    fake = FakeRegistry()  # serves the OCI Referrers API, which docker-registry 2.8 lacks
    try:
        config = fake.put_blob("app", b'{"architecture":"amd64","os":"linux"}')
        fake.put_manifest("app", {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config, "size": 38}, "layers": []}, tag="v1")
        image = f"{fake.host}/app:v1"
        done = nfd("compat", "attach-spec", "--image", image, "--spec",
                   str(Path(__file__).parent / "data" / "spec-kernel.yaml"))
        assert done.returncode == 0, done.stderr
        server = start_webhook("--allow-registry", fake.host)
        obj = pod([image])
        result = patched(obj, server.review(review_for(obj)))
        assert _without_applied(result) == _affinity_patch(image, obj, tmp_path)
        assert any("/referrers/" in path for _, path, _ in fake.log)
    finally:
        fake.stop()


def test_renewed_certificate_is_served_and_sigterm_stops_cleanly(
        tmp_path: Path, registry: Registry) -> None:
    import shutil
    import ssl

    from cryptography import x509
    from tests.oci._registry import issue_cert, make_ca
    from tests.webhook._webhook import WebhookProcess, wait_for

    ca = make_ca("renewing-ca")
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    first = issue_cert(ca)
    cert, key = first.write(tmp_path, "tls")
    server = WebhookProcess((cert, key), tmp_path / "ca.crt", "--allow-registry",
                            registry.host, "--tls-reload-seconds", "0.2")
    try:
        host, port = server.url.removeprefix("https://").rsplit(":", 1)

        def served_serial() -> int:
            pem = ssl.get_server_certificate((host, int(port)))
            return x509.load_pem_x509_certificate(pem.encode()).serial_number

        assert served_serial() == first.cert.serial_number
        second = issue_cert(ca)
        staged = tmp_path / "next"
        staged.mkdir()
        new_cert, new_key = second.write(staged, "tls")
        shutil.copy(new_key, key)  # as a Secret volume update: both files replaced
        shutil.copy(new_cert, cert)
        assert wait_for(lambda: served_serial() == second.cert.serial_number, 10)
        assert server.client.get("/healthz").status_code == 200
        assert any("reloaded" in line for line in server.log)
    finally:
        server.stop()
    assert server.process.returncode == 0  # SIGTERM: a clean stop


def test_a_hung_registry_does_not_starve_the_others(start_webhook: StartWebhook,
                                                    registry: Registry,
                                                    weighted_image: str) -> None:
    listener = SilentServer()
    try:
        server = start_webhook("--allow-registry", listener.host, "--allow-registry",
                               registry.host, "--timeout", "2")
        hung = [f"{listener.host}/hung/app{i}:v1" for i in range(24)]  # more than the pool
        answer = server.review(review_for(pod(hung)))
        assert answer["response"]["allowed"] is True
        assert len(listener.accepted) <= 4  # the per-registry bound, not the whole pool
        started = time.monotonic()
        answer = server.review(review_for(pod([weighted_image])))
        assert "patch" in answer["response"], answer
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_unparsable_image_is_skipped_with_a_warning(start_webhook: StartWebhook,
                                                    registry: Registry) -> None:
    server = start_webhook(*_allow(registry), "--failure-policy", "fail")
    response = server.review(review_for(pod(["UPPER/Case:!bad"])))["response"]
    assert response["allowed"] is True
    assert any("invalid image reference" in w for w in response["warnings"])


def test_digest_pinned_image_and_a_moved_tag(start_webhook: StartWebhook, registry: Registry,
                                             layout: Path, tmp_path: Path,
                                             push_image_with: Any) -> None:
    from tests.oci._images import push_image

    data = Path(__file__).parent / "data"
    image = push_image_with(data / "spec-kernel.yaml")
    listed = json.loads(nfd("compat", "list", "--image", image, "-o", "json").stdout)
    pinned = f"{image.rsplit(':', 1)[0]}@{listed[0]['subject']}"
    server = start_webhook(*_allow(registry), "--tag-cache-ttl", "0.5")
    obj = pod([pinned])
    result = patched(obj, server.review(review_for(obj)))
    assert _without_applied(result) == _affinity_patch(pinned, obj, tmp_path)
    assert server.metrics()['nfd_webhook_calls_total{step="tag"}'] == 0  # nothing to resolve

    def applied() -> dict[str, str]:
        answer = server.review(review_for(pod([image])))
        annotations = patched(pod([image]), answer)["metadata"]["annotations"]
        return json.loads(annotations[APPLIED_ANNOTATION])  # type: ignore[no-any-return]

    first = applied()[image]
    # The tag moves to another image, which carries another spec.
    push_image(layout, "arm64", registry, image.split("/", 1)[1])
    done = nfd("compat", "attach-spec", "--image", image, "--spec",
               str(data / "spec-weighted.yaml"))
    assert done.returncode == 0, done.stderr
    time.sleep(0.6)  # past the tag cache's lifetime
    second = applied()[image]
    assert second != first
    assert second == json.loads(nfd("compat", "list", "--image", image, "-o",
                                    "json").stdout)[0]["digest"]


def test_a_review_of_empty_objects_is_refused_unbuilt(start_webhook: StartWebhook,
                                                      registry: Registry) -> None:
    """Under the 8 MiB body bound, 2.7 million empty objects would cost gigabytes: the
    container bound refuses the review before it is decoded."""
    server = start_webhook(*_allow(registry))
    body = b'{"request": {"object": [' + b",".join([b"{}"] * (8 * 1024 * 1024 // 3 - 20)) + b"]}}"
    reply = server.client.post("/mutate", content=body)
    assert reply.status_code == 400 and "a memory bound" in reply.text
def test_a_big_review_is_decided_in_the_review_processes_alike(
        start_webhook: StartWebhook, registry: Registry, weighted_image: str) -> None:
    from nfd.webhook._server import INLINE_BYTES

    server = start_webhook(*_allow(registry))
    small = pod([weighted_image])
    big = pod([weighted_image], annotations={"pad": "x" * (4 * INLINE_BYTES)})
    small_result = patched(small, server.review(review_for(small)))
    big_result = patched(big, server.review(review_for(big)))
    assert big_result["spec"] == small_result["spec"] and "affinity" in big_result["spec"]
    bad = json.dumps({"kind": "AdmissionReview", "pad": "x" * (4 * INLINE_BYTES)})
    reply = server.client.post("/mutate", content=bad,
                               headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "expected apiVersion" in reply.text


def test_a_big_answer_is_gzipped_by_its_worker_only_when_asked(
        start_webhook: StartWebhook, registry: Registry, weighted_image: str) -> None:
    from nfd.webhook._work import COMPRESS_BYTES

    server = start_webhook(*_allow(registry))
    # The pod's own required terms each gain the image's requirements: a big patch.
    terms = [{"matchExpressions": [{"key": f"example.com/zone-{i}", "operator": "In",
                                    "values": [f"z{i}"]}]} for i in range(2000)]
    obj = pod([weighted_image], affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}})
    body = json.dumps(review_for(obj))
    answers = {}
    for accept in ("gzip", "identity"):
        with server.client.stream("POST", "/mutate", content=body, headers={
                "Content-Type": "application/json", "Accept-Encoding": accept}) as reply:
            assert reply.status_code == 200
            raw = b"".join(reply.iter_raw())
            answers[accept] = (reply.headers.get("Content-Encoding"), raw)
    encoding, raw = answers["identity"]
    assert encoding is None and len(raw) > COMPRESS_BYTES
    plain = json.loads(raw)
    encoding, raw = answers["gzip"]
    assert encoding == "gzip" and len(raw) < COMPRESS_BYTES
    assert json.loads(gzip.decompress(raw)) == plain
    result = patched(obj, plain)
    assert len(result["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]) >= len(terms)
