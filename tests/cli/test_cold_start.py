"""The cold start: ``validate-node --spec JSON --features JSON`` imports only what it needs.

Start-up time is measured in ``benchmarks/bench_validate.py``; here the test is what the
command imports, which is what a cold start regresses by. The command runs in a fresh
``python -S`` (no site: this machine's ``.pth`` files import typing, pathlib and shutil
before any code runs, which would hide them) with this tree's ``src`` first on the path
and the site-packages directories after it, and reports every module loaded after
start-up.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Loaded by a command that needs none of them: the registry client and its stack, the
# cluster and discovery code, YAML, the template engine, the RE2 wrapper without a
# regexp, and the stdlib modules whose import alone costs a cold start milliseconds.
NOT_NEEDED = (
    "yaml", "httpx", "httpcore", "re2", "msgspec", "orjson", "kubernetes", "aiohttp",
    "nfd.oci", "nfd.cluster", "nfd.sources", "nfd.webhook", "nfd._go.template",
    "nfd._go.regexp", "nfd.match._template", "nfd.compat._artifacts",
    "nfd.compat._artifact_push", "nfd.compat._artifact_remove", "nfd.compat._vocabulary",
    "nfd.cli._yaml_emit",
    "dataclasses", "typing", "inspect", "ast", "dis", "tokenize", "shutil", "pathlib",
    "urllib", "ipaddress", "csv", "math", "copy", "subprocess", "logging", "threading",
    "socket", "ssl", "datetime", "tempfile", "zlib", "bz2", "lzma",
)

IN_VENDORS = {"op": "In", "value": ["Intel", "AMD"]}


def _spec(vendor: dict[str, object]) -> dict[str, object]:
    return {"version": "v1alpha1", "compatibilities": [{"description": "needs vfio", "rules": [
        {"name": "kernel", "matchFeatures": [
            {"feature": "kernel.loadedmodule",
             "matchExpressions": {"vfio_pci": {"op": "Exists"}}},
            {"feature": "cpu.model", "matchExpressions": {"vendor_id": vendor}}]},
        {"name": "nic", "matchAny": [{"matchFeatures": [
            {"feature": "pci.device", "matchExpressions": {
                "vendor": {"op": "In", "value": ["8086"]}}}]}]}]}]}


FEATURES = {
    "flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}},
    "attributes": {"cpu.model": {"elements": {"vendor_id": "AMD"}}},
    "instances": {"pci.device": {"elements": [{"attributes": {"vendor": "8086"}}]}},
}

_RUN = """
import sys
started = set(sys.modules)
sys.path[:0] = {paths!r}
from nfd.cli import main
code = main(["compat", "validate-node", "--spec", sys.argv[1], "--features", sys.argv[2],
             *sys.argv[3:]])
sys.stdout.flush()
print(code, *sorted(set(sys.modules) - started), file=sys.stderr)
"""


def _loaded(tmp_path: Path, spec_doc: dict[str, object] | str, *flags: str
            ) -> tuple[int, set[str], str]:
    """Exit code, modules loaded, and standard output of one cold validate-node run (a
    spec as a document, written as JSON, or as YAML text)."""
    spec = tmp_path / ("spec.yaml" if isinstance(spec_doc, str) else "spec.json")
    spec.write_text(spec_doc if isinstance(spec_doc, str) else json.dumps(spec_doc))
    features = tmp_path / "features.json"
    features.write_text(json.dumps(FEATURES))
    # Third-party packages stay importable (without their .pth files being run).
    paths = [str(SRC), *site.getsitepackages(), site.getusersitepackages()]
    proc = subprocess.run([sys.executable, "-S", "-c", _RUN.format(paths=paths), str(spec),
                           str(features), *flags], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    code, *modules = proc.stderr.split()
    return int(code), set(modules), proc.stdout


def _not_needed(modules: set[str]) -> list[str]:
    return sorted(m for m in modules
                  if any(m == name or m.startswith(name + ".") for name in NOT_NEEDED))


@pytest.mark.parametrize("flags", [(), ("-o", "json"), ("--output-json",)],
                         ids=["table", "output-json-rich", "nfd-output-json"])
def test_local_validation_imports_only_what_it_needs(tmp_path: Path,
                                                     flags: tuple[str, ...]) -> None:
    code, modules, out = _loaded(tmp_path, _spec(IN_VENDORS), *flags)
    assert code == 0 and out.strip()  # the command ran and reported compatible
    assert {"nfd.cli.compat_validate_node", "nfd.match._spec_evaluator", "json"} <= modules
    assert not _not_needed(modules)


def test_a_regexp_loads_re2_so_the_check_can_fail(tmp_path: Path) -> None:
    # The same run with an InRegexp expression needs RE2: what the check above refuses
    # does show up in what it reads.
    regexp = {"op": "InRegexp", "value": ["^(AMD|Intel)$"]}
    code, modules, _ = _loaded(tmp_path, _spec(regexp), "--output-json")
    assert code == 0
    assert {"nfd._go.regexp", "re2"} <= set(_not_needed(modules))


YAML_SPEC = """\
version: v1alpha1
compatibilities:
- description: needs vfio  # as image authors write them
  rules:
  - name: kernel
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        vfio_pci: {op: Exists}
    - feature: cpu.model
      matchExpressions:
        vendor_id: {op: In, value: ["Intel", "AMD"]}
"""


def test_a_yaml_spec_as_authors_write_it_loads_no_yaml_library(tmp_path: Path) -> None:
    code, modules, _ = _loaded(tmp_path, YAML_SPEC)
    assert code == 0 and "nfd.api._yaml_subset" in modules
    assert not _not_needed(modules)
    # A text beyond the subset (an anchor) is PyYAML's, as before.
    code, modules, _ = _loaded(tmp_path, YAML_SPEC.replace("- description", "- &a description"))
    assert code == 0 and "yaml" in _not_needed(modules)
