"""``nfd compat job --verify``: the pod's own command line, run against the files its mounts
put in place, verifies a spec signed by the real Notation and cosign, and refuses an
unsigned one (exit 5) — so the trust material the Job carries is the trust material meant.

The pod's view is laid out as the kubelet lays out the Job's volumes: each ConfigMap or
Secret item at its path, each subPath mount at its mountPath, under a temporary root."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from tests._cli import nfd
from tests.oci._registry import Registry
from tests.trust._signers import CosignSigner, NotationSigner
from tests.trust.test_notation import attach, sign

FEATURES = '{"flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}}}'


def _emit(*args: str) -> list[dict[str, Any]]:
    done = nfd("compat", "job", *args)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = yaml.safe_load(done.stdout)
    return list(document["items"]) if document["kind"] == "List" else [document]


def _pod_command(objects: list[dict[str, Any]], secrets: dict[str, dict[str, bytes]],
                 root: Path, features: Path) -> list[str]:
    """validate-node's arguments as the pod runs them, its mounts laid out under ``root``
    (the host mounts aside: the node's features come from ``features``)."""
    configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    [job] = [o for o in objects if o["kind"] == "Job"]
    pod = job["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    [container] = pod["containers"]
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "subPath" not in mount:
            continue
        assert mount["readOnly"] is True
        if "configMap" in volume:
            data = {k: v.encode() for k, v in
                    configmaps[volume["configMap"]["name"]]["data"].items()}
            items = volume["configMap"]["items"]
        else:
            data = secrets[volume["secret"]["secretName"]]
            items = volume["secret"]["items"]
        for item in items:
            path, sub = item["path"], mount["subPath"]
            if path != sub and not path.startswith(sub + "/"):
                continue
            target = root / mount["mountPath"].lstrip("/") / path[len(sub) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data[item["key"]])
    args = list(container["args"])
    at = args.index("--host-prefix")
    args[at:at + 2] = ["--features", str(features)]
    return [str(root) + a if a.startswith("/etc/nfd-client/") else a for a in args]


def test_a_notation_job_verifies_in_its_pod(plain_registry: Registry, push: Any,
                                            notation: NotationSigner, tmp_path: Path) -> None:
    signed = attach(plain_registry, push)
    sign(notation, signed)
    unsigned = attach(plain_registry, push, "unsigned")
    features = tmp_path / "features.json"
    features.write_text(FEATURES)
    for target, code in ((signed, 0), (unsigned, 5)):
        objects = _emit("--image", target.image, "--node", "worker-1", "--verify", "notation",
                        "--trust-configmap", "nfd-trust", "--trust-policy",
                        str(notation.policy))
        root = tmp_path / f"pod-{code}"
        command = _pod_command(objects, {}, root, features)
        assert command[:2] == ["compat", "validate-node"]
        done = nfd(*command)
        assert done.returncode == code, done.stderr
        if code:
            assert "no signature" in done.stderr


def test_a_cosign_job_verifies_in_its_pod(plain_registry: Registry, push: Any,
                                          cosign: CosignSigner, tmp_path: Path) -> None:
    signed = attach(plain_registry, push)
    cosign.sign(signed.pinned)
    features = tmp_path / "features.json"
    features.write_text(FEATURES)
    # The Secret `cosign generate-key-pair k8s://NS/cosign` makes: only cosign.pub is mounted.
    secret = {"cosign.pub": cosign.public_key.read_bytes(), "cosign.key": b"PRIVATE",
              "cosign.password": base64.b64encode(b"secret")}
    objects = _emit("--image", signed.image, "--node", "worker-1", "--verify", "cosign",
                    "--cosign-key-secret", "cosign")
    command = _pod_command(objects, {"cosign": secret}, tmp_path / "pod", features)
    assert not list((tmp_path / "pod").rglob("cosign.key"))
    done = nfd(*command)
    assert done.returncode == 0, done.stderr
    other = attach(plain_registry, push, "unsigned")
    objects = _emit("--image", other.image, "--verify", "cosign", "--cosign-key-secret",
                    "cosign")
    refused = nfd(*_pod_command(objects, {"cosign": secret}, tmp_path / "pod2", features))
    assert refused.returncode == 5, refused.stderr
