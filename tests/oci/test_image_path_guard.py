"""``validate-node --image`` loads only what it needs and discovers only what its spec reads.

Its speed is measured in ``benchmarks/bench_headline.py``; here what a regression would
bring back: a heavy import (an HTTP library, TLS for a plain-HTTP registry, the linter's
vocabulary, a source the spec does not read) or a needless source's host reads. One cold
run against a real registry, in a fresh ``python -S`` (as ``tests/cli/test_cold_start.py``
does for local files: no site hooks importing things first), on a real captured host tree
(``--host-root``), records every module loaded and every host path the host reader opened.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path

import pytest
from tests._cli import nfd
from tests._fixtures import unpack_host
from tests.oci._registry import Registry
from tests.oci.conftest import PushImage

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

# Everything the --image path may load on a plain-HTTP registry. Anything else (httpx,
# httpcore, idna, certifi, ssl, email, http.client, yaml, re2, the cluster or webhook
# code, a source module the spec does not read) is a regression of its start-up; so are
# dataclasses (with inspect, ast, dis, tokenize), platform, pathlib, threading, random,
# contextlib and base64, each a fraction of a millisecond to several of a cold start.
ALLOWED_NFD = {
    "nfd", "nfd.errors", "nfd._lazy", "nfd._record", "nfd._timeouts", "nfd._budget",
    "nfd._http1", "nfd._text", "nfd._io", "nfd._jsondoc", "nfd._redact",
    "nfd.cli", "nfd.cli._base", "nfd.cli._output", "nfd.cli._spec_args",
    "nfd.cli._registry_options", "nfd.cli._discovery_args", "nfd.cli.compat_validate_node",
    "nfd.cli._verify_args", "nfd.cli.export_features", "nfd.trust",
    "nfd.api", "nfd.api._convert", "nfd.api._features", "nfd.api._load", "nfd.api._spec",
    "nfd.api._yaml", "nfd.api._yaml_subset",
    "nfd.match", "nfd.match._spec_evaluator", "nfd.match._explain", "nfd.match._matchers",
    "nfd.match._ops", "nfd.match._regex_budget", "nfd.match._group_rule", "nfd.match._semver",
    "nfd.match._status",
    "nfd.compat", "nfd.compat._node_report", "nfd.compat._spec_source", "nfd.compat._lint",
    "nfd.compat._artifacts",
    "nfd.oci", "nfd.oci._auth", "nfd.oci._client", "nfd.oci._content",
    "nfd.oci._credentials", "nfd.oci._http", "nfd.oci._options", "nfd.oci._platform",
    "nfd.oci._reference", "nfd.oci._referrers", "nfd.oci._token_cache",
    "nfd.sources", "nfd.sources._discover", "nfd.sources._hostfs", "nfd.sources._hostpaths",
    "nfd.sources._cpu", "nfd.sources._cpu_facts", "nfd.sources._cpuinfo", "nfd.sources._x86",
    "nfd.sources._native", "nfd.sources._memory",
    "nfd._go", "nfd._go.json", "nfd._go.strconv", "nfd._go.strings",
}
ALLOWED_STDLIB = {
    "__future__", "_blake2", "_ctypes", "_hashlib", "_locale", "_socket", "_stat", "_struct",
    "_weakrefset", "argparse", "array", "atexit", "collections.abc", "ctypes",
    "ctypes._endian", "errno", "genericpath", "gettext", "hashlib", "importlib",
    "importlib._bootstrap", "importlib._bootstrap_external", "ipaddress", "locale", "math",
    "mmap", "os", "os.path", "posixpath", "select", "selectors", "socket", "stat", "struct",
    "urllib", "urllib.parse", "warnings", "weakref", "zlib",
}
SOURCE_MODULES = ("nfd.sources._kernel", "nfd.sources._pci", "nfd.sources._usb",
                  "nfd.sources._local", "nfd.sources._network",
                  "nfd.sources._storage", "nfd.sources._system")

_RUN = """
import json, sys
started = set(sys.modules)
sys.path[:0] = {paths!r}
from nfd.sources._hostfs import HostFS
opened = []
_open = HostFS.open
def recording_open(self, path, flags):
    opened.append(path)
    return _open(self, path, flags)
HostFS.open = recording_open
from nfd.cli import main
code = main(["compat", "validate-node", *sys.argv[1:]])
sys.stdout.flush()
print(json.dumps({{"code": code, "modules": sorted(set(sys.modules) - started),
                  "opened": opened}}), file=sys.stderr)
"""


def _spec(feature: str, name: str) -> str:
    return (f"version: v1alpha1\ncompatibilities:\n- description: guard\n  rules:\n"
            f"  - name: one\n    matchFeatures:\n    - feature: {feature}\n"
            f"      matchExpressions:\n        {name}: {{op: Exists}}\n")


@pytest.fixture(scope="module")
def host_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_host("amd-epyc-debian12", tmp_path_factory.mktemp("host"))


def _image_with(registry: Registry, push: PushImage, tmp_path: Path, spec: str) -> str:
    image = push(registry)
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    attached = nfd("compat", "attach-spec", "--image", image, "--spec", str(path),
                   "--plain-http")
    assert attached.returncode == 0, attached.stderr
    return image


def _cold_run(*args: str) -> tuple[int, set[str], list[str], str]:
    """Exit code, modules loaded, host paths opened and stdout of one cold run."""
    paths = [str(SRC), *site.getsitepackages(), site.getusersitepackages()]
    proc = subprocess.run([sys.executable, "-S", "-c", _RUN.format(paths=paths), *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stderr.strip().splitlines()[-1])
    return seen["code"], set(seen["modules"]), seen["opened"], proc.stdout


def _outside(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m not in ALLOWED_NFD and m not in ALLOWED_STDLIB)


def test_a_cpu_spec_on_a_plain_registry_loads_and_reads_only_what_it_needs(
        plain_registry: Registry, push: PushImage, tmp_path: Path, host_tree: Path) -> None:
    image = _image_with(plain_registry, push, tmp_path, _spec("cpu.model", "vendor_id"))
    code, modules, opened, out = _cold_run("--image", image, "--plain-http", "--host-root",
                                           str(host_tree), "--output-json")
    assert code == 0 and json.loads(out)[0]["rules"][0]["isMatch"] is True
    assert {"nfd._http1", "nfd.oci._client", "nfd.sources._cpu"} <= modules  # it ran
    assert not _outside(modules)
    assert not [m for m in SOURCE_MODULES if m in modules]
    assert any(path.endswith("/cpuinfo") for path in opened)
    needless = [p for p in opened if p.startswith(("/sys/bus/pci", "/sys/bus/usb", "/boot",
                                                   "/proc/config.gz", "/lib/modules",
                                                   "/proc/modules", "/sys/devices/pci"))]
    assert not needless
    # The same verdict, byte for byte, as from every source's features.
    exported = tmp_path / "features.json"
    done = nfd("export", "features", "--host-root", str(host_tree), "--path", str(exported))
    assert done.returncode == 0, done.stderr
    full = nfd("compat", "validate-node", "--image", image, "--plain-http", "--features",
               str(exported), "--output-json")
    assert full.stdout == out


def test_the_guard_sees_a_source_the_spec_reads(plain_registry: Registry, push: PushImage,
                                                tmp_path: Path, host_tree: Path) -> None:
    # A spec that reads PCI devices: the same observation shows their reads and module,
    # so the checks above can fail.
    image = _image_with(plain_registry, push, tmp_path, _spec("pci.device", "vendor"))
    _, modules, opened, _ = _cold_run("--image", image, "--plain-http", "--host-root",
                                      str(host_tree), "--output-json")
    assert "nfd.sources._pci" in modules and "nfd.sources._cpu" not in modules
    assert any(path.startswith("/sys/bus/pci") for path in opened)
    assert _outside(modules) == ["nfd.sources._pci"]
