"""The public surface grows only on purpose (httpx's test_exported_members), and the use
cases a tool writer calls are there, with the arguments they are documented with."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

SUBPACKAGES = ("nfd", "nfd.api", "nfd.match", "nfd.compat", "nfd.cluster", "nfd.oci",
               "nfd.sources", "nfd.webhook", "nfd.trust")
SRC = Path(__file__).resolve().parents[1] / "src" / "nfd"

# The use cases, by module: (required parameters, optional ones defaulting to
# None or False), in this order at the front of the signature.
USE_CASES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "nfd.api": {"load_spec": (["path"], []), "load_features": (["path"], ["node"])},
    "nfd.compat": {
        "validate_features": (["spec", "features"], ["tags"]),
        "attach_compat_spec": (["image", "spec_bytes"], ["options", "client"]),
        "list_compat_artifacts": (["image"], ["options", "verifier", "client"]),
        "fetch_compat_spec": (["image"], ["options", "digest", "verifier", "client"]),
        "fetch_compat_spec_bytes": (["image"], ["options", "digest", "verifier", "client"]),
        "remove_compat_specs": (["image"], ["options", "digests", "every", "client"]),
    },
    "nfd.oci": {"RegistryOptions": ([], [])},
}


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_exported_members_are_listed(name: str) -> None:
    module = importlib.import_module(name)
    public = {n for n in vars(module) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
    extra = public - submodules - {"annotations", "typing", "importlib"} - set(module.__all__)
    assert not extra, f"{module.__name__} exposes unlisted names {sorted(extra)}"
    for member in module.__all__:
        assert hasattr(module, member), f"{module.__name__}.{member} listed but missing"


@pytest.mark.parametrize(("module_name", "function", "required", "optional"),
                         [(m, f, *p) for m, fs in USE_CASES.items() for f, p in fs.items()])
def test_use_cases_are_public(module_name: str, function: str, required: list[str],
                              optional: list[str]) -> None:
    module = importlib.import_module(module_name)
    assert function in module.__all__
    params = inspect.signature(getattr(module, function)).parameters
    assert list(params)[:len(required) + len(optional)] == required + optional
    assert all(params[p].default is inspect.Parameter.empty for p in required)
    assert all(params[p].default in (None, False) for p in optional)


def test_the_front_door_gives_the_subpackages_own_objects() -> None:
    import nfd

    homes = {"nfd.api": ("CompatSpec", "Features", "load_features", "load_spec"),
             "nfd.compat": ("AttachedSpec", "ValidationResult", "attach_compat_spec",
                            "fetch_compat_spec", "fetch_compat_spec_bytes",
                            "list_compat_artifacts", "remove_compat_specs",
                            "validate_features"),
             "nfd.oci": ("RegistryClient", "RegistryOptions"),
             "nfd.sources": ("HostPaths", "discover")}
    for home, names in homes.items():
        module = importlib.import_module(home)
        for name in names:
            assert getattr(nfd, name) is getattr(module, name), name
    assert set(nfd.__all__) >= {n for names in homes.values() for n in names}
    with pytest.raises(AttributeError, match="no attribute 'fetch_spec'"):
        nfd.fetch_spec  # noqa: B018


def test_importing_nfd_loads_no_subpackage_until_a_name_is_used() -> None:
    code = ("import sys, nfd; print(sorted(m for m in sys.modules if m.startswith('nfd.'))); "
            "nfd.load_spec; print('nfd.api' in sys.modules, 'nfd.oci' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["['nfd._lazy', 'nfd.errors']", "True False"]


def test_importing_nfd_stays_light() -> None:
    code = ("import sys, nfd; "
            "print(sorted(m for m in ('httpx','yaml','re2','kubernetes') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_registry_use_cases_load_the_registry_client_only_when_called() -> None:
    code = ("import sys, nfd.compat; print('nfd.oci._client' in sys.modules); "
            "nfd.compat.fetch_compat_spec; print('nfd.oci._client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_template_engine_loads_only_when_a_template_is_used() -> None:
    code = ("import sys, nfd.compat, nfd.match; "
            "print('nfd._go.template.execute' in sys.modules); "
            "nfd.match.expand_vars_template('a=1', {}); "
            "print('nfd._go.template.execute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


# -- library errors speak of arguments; only nfd.cli words them as flags ----------------------

_FLAG = re.compile(r"(?<![\w-])--[a-z]")
_BACKTICKED = re.compile(r"`([a-z_][a-z0-9_]*)`")


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)


def _declared(call: ast.Call) -> tuple[str, ...] | None:
    """The literal ``arguments=(...)`` of an error call; ``None`` when it has none."""
    for keyword in call.keywords:
        if keyword.arg == "arguments" and _literal(keyword.value):
            return tuple(ast.literal_eval(keyword.value))
    return None


def _raised_errors() -> list[tuple[str, int, str, tuple[str, ...] | None]]:
    """(file, line, message text, declared ``arguments``) of every ``...Error("...")`` made
    below ``nfd.cli``; errors passing on another's arguments (``located``) or naming them
    from a variable are not listed (their text is no literal to check)."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.relative_to(SRC).parts[0] == "cli":
            continue
        for call in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(call, ast.Call) or not call.args:
                continue
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            passed_on = any(k.arg == "arguments" and not _literal(k.value)
                            for k in call.keywords)
            if not name.endswith("Error") or passed_on:
                continue
            text = "".join(part.value for part in ast.walk(call.args[0])
                           if isinstance(part, ast.Constant) and isinstance(part.value, str))
            found.append((str(path.relative_to(SRC)), call.lineno, text, _declared(call)))
    return found


def test_no_library_error_words_a_flag() -> None:
    errors = _raised_errors()
    assert len(errors) > 100  # the scan does see the library's errors
    flagged = [f"{f}:{line}: {text!r}" for f, line, text, _ in errors if _FLAG.search(text)]
    assert not flagged, flagged


def test_every_named_argument_is_declared() -> None:
    wrong = []
    for file, line, text, named in _raised_errors():
        quoted = tuple(dict.fromkeys(_BACKTICKED.findall(text)))
        if set(quoted) != set(named or ()):
            wrong.append(f"{file}:{line}: names {quoted}, declares {named}")
    assert not wrong, wrong
    assert sum(1 for *_, named in _raised_errors() if named) >= 20


def test_webhook_server_framework_loads_only_for_serving() -> None:
    code = ("import sys, nfd.webhook, nfd.cli; nfd.webhook.build_manifests; "
            "print('aiohttp' in sys.modules); nfd.webhook.serve; print('aiohttp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_local_validation_loads_neither_yaml_nor_registry_code(tmp_path: Path) -> None:
    # A cold start pays only for what it uses: YAML only when a YAML file is read,
    # registry code only for --image.
    spec = tmp_path / "spec.json"
    spec.write_text('{"version": "v1alpha1", "compatibilities": [{"rules": [{"name": "r", '
                    '"matchFeatures": [{"feature": "kernel.loadedmodule", "matchExpressions": '
                    '{"vfio_pci": {"op": "Exists"}}}]}]}]}')
    features = tmp_path / "features.json"
    features.write_text('{"flags": {"kernel.loadedmodule": {"elements": {"vfio_pci": {}}}}}')
    code = ("import sys\nfrom nfd.cli import main\n"
            f"code = main(['compat', 'validate-node', '--spec', {str(spec)!r}, '--features', "
            f"{str(features)!r}, '--output-json'])\n"
            "heavy = sorted(m for m in sys.modules if m == 'yaml' or m.startswith("
            "('nfd.oci.', 'httpx')))\nprint(code, heavy, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stderr.strip() == "0 []"
