"""Test images built by ``umoci`` and pushed by ``skopeo`` (independent clients).

``build_layout`` makes an OCI layout with two single-platform images
(``amd64``, ``arm64``) and a two-platform index (``multi``); ``push_image``
copies one of them into a registry.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from tests.oci._registry import Registry

PLATFORMS = (("amd64", "linux", "amd64"), ("arm64", "linux", "arm64"))


def _run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {done.stderr.strip()}")
    return done.stdout


def build_layout(directory: Path) -> Path:
    """An OCI layout with tags ``amd64``, ``arm64`` and ``multi`` (their index)."""
    layout = directory / "layout"
    _run("umoci", "init", "--layout", str(layout))
    payload = directory / "hello.txt"
    entries = []
    for tag, os_name, arch in PLATFORMS:
        payload.write_text(f"hello from {arch}\n")
        _run("umoci", "new", "--image", f"{layout}:{tag}")
        _run("umoci", "config", "--image", f"{layout}:{tag}", "--os", os_name,
             "--architecture", arch, "--config.label", f"nfd.test={arch}")
        _run("umoci", "insert", "--image", f"{layout}:{tag}", str(payload), "/hello.txt")
    index = json.loads((layout / "index.json").read_text())
    by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m
              for m in index["manifests"]}
    for tag, os_name, arch in PLATFORMS:
        entry = dict(by_tag[tag])
        entry.pop("annotations", None)
        entry["platform"] = {"os": os_name, "architecture": arch}
        entries.append(entry)
    multi = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": entries}).encode()
    digest = hashlib.sha256(multi).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(multi)
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{digest}",
        "size": len(multi), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def push_image(layout: Path, tag: str, registry: Registry, target: str,
               credentials: tuple[str, str] | None = None) -> None:
    """``skopeo copy --all oci:<layout>:<tag> docker://<registry>/<target>``."""
    cmd = ["skopeo", "copy", "--all", "--quiet", "--preserve-digests"]
    if registry.scheme == "http":
        cmd.append("--dest-tls-verify=false")
    elif registry.ca_file is not None:
        cmd += ["--dest-cert-dir", str(registry.ca_file.parent)]
    if credentials:
        cmd += ["--dest-creds", f"{credentials[0]}:{credentials[1]}"]
    else:
        cmd.append("--dest-no-creds")
    _run(*cmd, f"oci:{layout}:{tag}", f"docker://{registry.host}/{target}")
