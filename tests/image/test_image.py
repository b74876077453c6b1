"""The client image: reproducible, small, labelled, unprivileged, and NFD-exact inside.

Runs the image with buildah as 65534:65534 and a real host tree mounted read-only where the
Job mounts the node (``HOST_MOUNTS``), and compares its ``--output-json`` with the host CLI
reading the same tree with ``--host-root``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from tests._cli import assert_one_line_error, nfd
from tests.image.conftest import PASSWORD, USER, Buildah, BuiltImage
from tests.oci._registry import Registry

import nfd as nfd_package
from nfd.cluster import DEFAULT_CLIENT_IMAGE, HOST_MOUNTS

SPEC = Path(__file__).parent / "data" / "host-prefixed.yaml"
MAX_COMPRESSED = 60 * 1000 * 1000


def skopeo_inspect(image: str, *flags: str) -> dict[str, object]:
    proc = subprocess.run(["skopeo", "inspect", *flags, image], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded: dict[str, object] = json.loads(proc.stdout)
    return loaded


def test_reproducible_and_pushed(built_image: BuiltImage) -> None:
    assert f"same digest {built_image.digest}" in built_image.build_log
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci-archive:{built_image.archive}"],
                         capture_output=True, timeout=60, check=True).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == built_image.digest
    remote = skopeo_inspect(f"docker://{built_image.pushed}", "--tls-verify=false")
    assert remote["Digest"] == built_image.digest


def test_labels_user_size_and_tag(built_image: BuiltImage) -> None:
    config = skopeo_inspect(f"oci-archive:{built_image.archive}", "--config")
    settings = config["config"]
    assert isinstance(settings, dict)
    assert settings["User"] == "65534:65534"
    labels = settings["Labels"]
    assert labels["org.opencontainers.image.version"] == nfd_package.__version__
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert len(labels["org.opencontainers.image.revision"].split("-")[0]) == 40
    manifest = json.loads(subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci-archive:{built_image.archive}"],
        capture_output=True, timeout=60, check=True).stdout)
    compressed = sum(layer["size"] for layer in manifest["layers"])
    assert compressed <= MAX_COMPRESSED, f"{compressed / 1e6:.1f} MB compressed"
    # `nfd compat job` runs, by default, exactly what build-image tags.
    assert built_image.tag == DEFAULT_CLIENT_IMAGE


# buildah's own: it refreshes /run for every ``buildah run`` (a kubelet mounts a tmpfs there).
ENGINE_PATHS = {"run"}


def tree_snapshot(root: Path) -> str:
    """Every path of the container's root file system with its size, mode and mtime."""
    digest = hashlib.sha256()
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if Path(directory, d).relative_to(root).as_posix()
                         not in ENGINE_PATHS)
        for name in sorted(files) + dirs:
            path = Path(directory, name)
            st = path.lstat()
            digest.update(f"{path.relative_to(root)} {st.st_size} {st.st_mode} "
                          f"{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def host_volumes(tree: Path) -> tuple[str, ...]:
    """The tree mounted read-only exactly where the Job mounts the node."""
    return tuple(f"{tree}{host}:{mount}:ro" for _, host, mount in HOST_MOUNTS
                 if (tree / host.lstrip("/")).exists())


@pytest.mark.parametrize("host", ["amd-epyc-debian12", "gpu-h100-ubuntu2404"])
def test_validate_node_inside_matches_host_cli(host: str, buildah: Buildah,
                                               host_roots: dict[str, Path]) -> None:
    tree = host_roots[host]
    volumes = (*host_volumes(tree), f"{SPEC.parent}:/spec:ro")
    args = ("nfd", "compat", "validate-node", "--spec", f"/spec/{SPEC.name}",
            "--host-prefix", "/host-", "--output-json")
    first = buildah.run(*args, volumes=volumes)
    before = tree_snapshot(buildah.mountpoint)
    inside = buildah.run(*args, volumes=volumes)
    outside = nfd("compat", "validate-node", "--spec", str(SPEC), "--host-root", str(tree),
                  "--output-json")
    assert (inside.returncode, inside.stdout) == (outside.returncode, outside.stdout), \
        inside.stderr
    assert inside.stdout == first.stdout and json.loads(inside.stdout)
    # The run wrote nothing into the image: a read-only root file system is enough.
    assert tree_snapshot(buildah.mountpoint) == before


def test_image_reference_inside(buildah: Buildah, built_image: BuiltImage,
                                host_roots: dict[str, Path]) -> None:
    """A spec attached to an image in a registry, validated from inside the image."""
    image = built_image.pushed  # the client image itself, as any image
    attached = nfd("compat", "attach-spec", "--image", image, "--spec", str(SPEC),
                   "--plain-http")
    assert attached.returncode == 0, attached.stderr
    tree = host_roots["gpu-h100-ubuntu2404"]
    inside = buildah.run("nfd", "compat", "validate-node", "--image", image, "--plain-http",
                         "--host-prefix", "/host-", "--output-json",
                         volumes=host_volumes(tree))
    outside = nfd("compat", "validate-node", "--image", image, "--plain-http",
                  "--host-root", str(tree), "--output-json")
    assert (inside.returncode, inside.stdout) == (outside.returncode, outside.stdout), \
        inside.stderr
    assert inside.returncode == 0 and json.loads(inside.stdout)[0]["rules"]


def test_errors_inside_are_one_line(buildah: Buildah) -> None:
    proc = buildah.run("nfd", "compat", "validate-node", "--spec", "/nonexistent.yaml",
                       "--host-prefix", "/host-")
    assert_one_line_error(proc, 2, "/nonexistent.yaml")


def test_the_jobs_pod_runs_in_the_image(buildah: Buildah, built_image: BuiltImage,
                                        private_registry: Registry, tmp_path: Path,
                                        host_roots: dict[str, Path]) -> None:
    """``nfd compat job``'s container, run as the kubelet would: its command, env and mounts
    (host paths from a real tree, the registry-auth Secret as a docker config file)."""
    registry, tree = private_registry, host_roots["gpu-h100-ubuntu2404"]
    image = f"{registry.host}/team/app:v1"
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds",
                    f"{USER}:{PASSWORD}", f"oci-archive:{built_image.archive}",
                    f"docker://{image}"], check=True, capture_output=True, timeout=300)
    host_env = {"REGISTRY_AUTH_FILE": str(secret / "config.json")}
    attached = nfd("compat", "attach-spec", "--image", image, "--spec", str(SPEC), env=host_env)
    assert attached.returncode == 0, attached.stderr
    emitted = nfd("compat", "job", "--image", image, "--node", "gpu-1", "--registry-auth-secret",
                  "app-registry", "-o", "json", "--", "--plain-http")
    pod = json.loads(emitted.stdout)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == DEFAULT_CLIENT_IMAGE
    paths = {v["name"]: v for v in pod["volumes"]}
    volumes = []
    for mount in container["volumeMounts"]:
        volume = paths[mount["name"]]
        source = secret if "secret" in volume else tree / volume["hostPath"]["path"].lstrip("/")
        if source.exists():  # a node has them all; the captured tree has no /boot, features.d
            volumes.append(f"{source}:{mount['mountPath']}:ro")
    issued = len(registry.token_server.issued) if registry.token_server else 0
    inside = buildah.run(*container["command"], *container["args"], volumes=tuple(volumes),
                         env=tuple(f"{e['name']}={e['value']}" for e in container["env"]))
    outside = nfd("compat", "validate-node", "--image", image, "--plain-http", "--host-root",
                  str(tree), "--output-json", env=host_env)
    assert (inside.returncode, inside.stdout) == (outside.returncode, outside.stdout), \
        inside.stderr
    assert inside.returncode == 0 and json.loads(inside.stdout)
    assert registry.token_server is not None
    # The pod authenticated with the Secret's credentials, not anonymously.
    users = {user for user, scope in registry.token_server.issued[issued:]
             if "team/app" in scope}
    assert USER in users


def test_layer_holds_only_the_image(built_image: BuiltImage) -> None:
    """One layer, owned by root, no file of the building machine, every module compiled."""
    with tarfile.open(built_image.archive) as archive:
        index = json.load(archive.extractfile("index.json"))
        digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.load(archive.extractfile(f"blobs/sha256/{digest}"))
        [layer] = manifest["layers"]
        blob = archive.extractfile(f"blobs/sha256/{layer['digest'].split(':')[1]}")
        assert blob is not None
        with tarfile.open(fileobj=io.BytesIO(blob.read()), mode="r:gz") as rootfs:
            members = rootfs.getmembers()
    names = {m.name for m in members}
    assert not names & {"etc/hostname", "etc/resolv.conf"}
    assert not [m.name for m in members if m.name.startswith("dev/")]
    assert {(m.uid, m.gid) for m in members} == {(0, 0)}
    assert "usr/bin/nfd" in names and "etc/passwd" in names
    site = "usr/lib/python3/dist-packages/"
    sources = [n for n in names if n.startswith(site + "nfd/") and n.endswith(".py")]
    assert sources
    for source in sources:
        folder, _, module = source.rpartition("/")
        assert f"{folder}/__pycache__/{module[:-3]}.cpython-311.pyc" in names, source


def test_dpkg_status_lists_the_locked_packages(buildah: Buildah) -> None:
    """Image scanners read dpkg's status database: it names every package the image holds."""
    status = (buildah.mountpoint / "var/lib/dpkg/status").read_text()
    installed = {}
    for stanza in status.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
        assert fields["Status"] == "install ok installed"
        installed[fields["Package"]] = fields["Version"]
    lock = (Path(__file__).resolve().parents[2] / "image" / "debian-packages.lock").read_text()
    assert installed == dict(line.split("=", 1) for line in lock.split())


def test_cluster_and_webhook_code_loads_inside(buildah: Buildah) -> None:
    """The webhook (``nfd compat webhook serve``) and the live cluster mode run this image too:
    what they import is there (the Kubernetes API needs no client library: httpx and
    nfd.cluster's own kubeconfig reader)."""
    modules = ("aiohttp", "httpx", "ruamel.yaml", "msgspec", "orjson", "nfd.webhook._server",
               "nfd.cluster._kubeconfig", "nfd.cluster._kube_client", "nfd.cluster._fastjson")
    proc = buildah.run("python3", "-I", "-c", f"import {', '.join(modules)}")
    assert proc.returncode == 0, proc.stderr
    served = buildah.run("nfd", "compat", "webhook", "serve", "--help")
    assert served.returncode == 0, served.stderr


def test_verify_extra_inside_and_no_kubernetes_client(buildah: Buildah) -> None:
    """A Job's or the webhook's --verify runs in this image: cryptography (its compiled
    core, used for a real signature) and cbor2 are there; the kubernetes client is not."""
    check = ("import cbor2, nfd.trust._notation, nfd.trust._cosign\n"
             "from cryptography.hazmat.primitives import hashes\n"
             "from cryptography.hazmat.primitives.asymmetric import ec\n"
             "key = ec.generate_private_key(ec.SECP256R1())\n"
             "sig = key.sign(b'spec', ec.ECDSA(hashes.SHA256()))\n"
             "key.public_key().verify(sig, b'spec', ec.ECDSA(hashes.SHA256()))\n"
             "assert cbor2.loads(cbor2.dumps([1, b'x'])) == [1, b'x']\n")
    proc = buildah.run("python3", "-I", "-c", check)
    assert proc.returncode == 0, proc.stderr
    missing = buildah.run("python3", "-I", "-c", "import kubernetes")
    assert missing.returncode == 1 and "No module named 'kubernetes'" in missing.stderr
    lock = (Path(__file__).resolve().parents[2] / "image" / "requirements.lock").read_text()
    names = {line.split("==", 1)[0] for line in lock.splitlines()}
    assert {"cryptography", "cbor2", "ruamel-yaml"} <= names and "kubernetes" not in names
    assert all("--hash=sha256:" in line for line in lock.splitlines())
