"""Manifests read as kubectl reads them (sigs.k8s.io/yaml over go-yaml v2) and written back
as the user wrote them: checked against the real kubectl."""

from __future__ import annotations

import copy
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests._kubectl import Kubectl, kubectl_reader

from nfd.cli import main
from nfd.cluster import check_json, parse_manifest
from nfd.cluster._manifest import resolve_plain
from nfd.errors import SpecError

SPEC = """\
version: v1alpha1
compatibilities:
- weight: 40
  rules:
  - name: r
    matchFeatures:
    - feature: kernel.loadedmodule
      matchExpressions:
        vfio_pci: {op: Exists}
"""

# Plain scalars whose reading differs between YAML 1.1, YAML 1.2 and go-yaml v2.
TRICKY = [
    "2024-01-02T03:04:05Z", "2024-01-02", "2001-12-14 21:59:43.10", "1:30", "12:30", "190:20:30",
    "yes", "no", "on", "off", "y", "n", "Y", "True", "FALSE", "~", "null", "Null", "",
    "012", "09", "0o17", "0x1F", "0x_1F", "0b101", "-0b11", "+12", "1_000", "1e3", "1E-2",
    "6.8523015e+5", ".5", "-.5", "+.5", "1.", "685_230.15", "9223372036854775807",
    "9223372036854775808", "18446744073709551616", "-9223372036854775809", "0", "-0",
    "=", "<<x", "a:b", "x-y", "3.14.15", "1e", "e3", "0x", ".", "..", "1__0",
]


@pytest.mark.parametrize(("text", "value"), [
    ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"), ("2024-01-02", "2024-01-02"),
    ("1:30", "1:30"), ("12:30", "12:30"), ("yes", True), ("Off", False), ("y", True),
    ("~", None), ("", None), ("012", 10), ("09", 9.0), ("0x1F", 31), ("0o17", 15),
    ("0b101", 5), ("1_000", 1000), ("1e3", 1000.0), (".5", 0.5), ("+12", 12),
    ("9223372036854775808", 9223372036854775808), ("18446744073709551616", 1.8446744073709552e19),
    ("1e999", "1e999"), (".inf", math.inf), ("-.Inf", -math.inf), ("0x", "0x"), ("1.", 1.0),
])
def test_plain_scalars_resolve_as_go_yaml_v2(text: str, value: Any) -> None:
    got = resolve_plain(text)
    assert got == value and type(got) is type(value)


def _affinity(tmp_path: Path, manifest: str, *extra: str,
              capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "m.yaml").write_text(manifest)
    code = main(["compat", "affinity", "--spec", str(tmp_path / "spec.yaml"), "--patch",
                 str(tmp_path / "m.yaml"), "--emit", "affinity", *extra])
    out, err = capsys.readouterr()
    return code, out, err


POD = """\
# a comment that stays
apiVersion: v1
kind: Pod
metadata:
  name: p   # trailing comment
  annotations: {when: 2024-01-02T03:04:05Z, day: 2024-01-02, time: 1:30, bin: !!binary aGVsbG8=}
  labels:
    12:30: x
spec:
  containers:
  - name: c
    image: nginx
    args: [1:30, 2024-01-02T03:04:05Z, "quoted", 'single', yes, 0x1F]
    env:
    - {name: "12:30", value: "1"}
"""


def test_the_issue_examples_keep_their_text(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _affinity(tmp_path, POD, capsys=capsys)
    assert code == 0
    body, _, added = out.partition("  affinity:\n")
    assert body == POD.replace("nfd-unused", ""), out  # every line as written, comments too
    assert "nodeAffinity:" in added and '- "true"' in added
    code, again, _ = _affinity(tmp_path, out, capsys=capsys)
    assert code == 0 and again == out  # patching twice changes nothing


INDENTED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web
spec:
    template:
        spec:
            containers:
              - name: c   # four spaces a level, lists indented by two
                image: nginx
                args:
                  - a
"""


def test_the_file_s_indentation_is_kept(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _affinity(tmp_path, INDENTED, capsys=capsys)
    assert code == 0 and out.startswith(INDENTED), out
    assert "            affinity:\n                nodeAffinity:\n" in out


def test_json_output_is_what_kubectl_reads(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _affinity(tmp_path, POD, "-o", "json", capsys=capsys)
    assert code == 0, err
    pod = json.loads(out)["items"][0]
    assert pod["metadata"]["annotations"] == {"when": "2024-01-02T03:04:05Z",
                                              "day": "2024-01-02", "time": "1:30",
                                              "bin": "hello"}
    assert pod["metadata"]["labels"] == {"12:30": "x"}  # not YAML 1.1's base-60 750
    assert pod["spec"]["containers"][0]["args"] == ["1:30", "2024-01-02T03:04:05Z", "quoted",
                                                    "single", True, 31]


def test_explicit_tags_keep_their_text_and_print_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = POD.replace("image: nginx", "image: nginx\n    s: !!str 123\n    nn: !!null ''")
    code, out, err = _affinity(tmp_path, manifest, capsys=capsys)
    assert code == 0 and err == "" and "s: !!str 123\n" in out
    code, out, err = _affinity(tmp_path, manifest, "-o", "json", capsys=capsys)
    container = json.loads(out)["items"][0]["spec"]["containers"][0]
    assert code == 0 and err == "" and container["s"] == "123" and container["nn"] is None


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf", "!!float .nan"])
def test_nan_and_infinity_are_not_json(value: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    manifest = POD.replace("image: nginx", f"image: nginx\n    x: {value}")
    code, out, err = _affinity(tmp_path, manifest, "-o", "json", capsys=capsys)
    assert code == 2 and out == "", err
    assert "is not a JSON number" in err and "spec.containers[0].x" in err
    code, out, _ = _affinity(tmp_path, manifest, capsys=capsys)  # YAML: kept as written
    assert code == 0 and f"x: {value}\n" in out


@pytest.mark.parametrize(("text", "needle"), [
    ("a: !!binary '%%%'\nkind: Pod\n", "invalid base64"),
    ("a: !!int abc\nkind: Pod\n", "cannot decode 'abc' as a !!int"),
    ("? [a]\n: 1\nkind: Pod\n", "a mapping or list as a mapping key"),
    ("~: 1\nkind: Pod\n", "null mapping key"),
    ("1: a\n0x1: b\nkind: Pod\n", "duplicate key '1'"),
    ("a: &x [*x]\n", "names no anchor"),
    ("a: *y\n", "names no anchor"),
    ("a: !!set {x}\n", "unsupported tag"),
    ("a: [" * 120 + "]" * 120 + "\n", "nesting deeper than 100"),
])
def test_what_kubectl_cannot_read_is_a_located_error(text: str, needle: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_manifest(text.encode(), "m.yaml")
    assert needle in str(caught.value) and "m.yaml" in str(caught.value)


def test_alias_expansion_and_nodes_are_bounded() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(6))
    with pytest.raises(SpecError, match="alias expansion bound"):
        parse_manifest(laughs.encode(), "m.yaml")
    with pytest.raises(SpecError, match="more than 50000 nodes"):
        parse_manifest(("[" + "{}," * 50_001 + "]").encode(), "m.yaml")


# --- the property: whatever we did not set, kubectl reads back exactly as before --------

_SAFE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:+\-/ ]{0,14}[A-Za-z0-9.]", fullmatch=True)
_SCALARS = st.one_of(st.sampled_from(TRICKY), _SAFE,
                     st.sampled_from(TRICKY).map(lambda t: f'"{t}"'),
                     st.sampled_from(TRICKY).map(lambda t: f"'{t}'"))
_KEYS = st.one_of(st.sampled_from([t for t in TRICKY if t and t not in ("~", "null", "Null")]),
                  st.from_regex(r"[a-z][a-z0-9.-]{0,8}", fullmatch=True))


def _scalar_ok(text: str) -> bool:
    if text.startswith(("'", '"')):
        return True
    resolved = resolve_plain(text)
    return not (isinstance(resolved, float) and not math.isfinite(resolved))


@st.composite
def manifests(draw: st.DrawFn) -> str:
    annotations = draw(st.dictionaries(_KEYS, _SCALARS.filter(_scalar_ok), max_size=6))
    args = draw(st.lists(_SCALARS.filter(_scalar_ok), max_size=6))
    data = draw(st.dictionaries(_KEYS, _SCALARS.filter(_scalar_ok), max_size=4))
    flow = draw(st.booleans())
    kind = draw(st.sampled_from(["Deployment", "Job", "CronJob", "Pod"]))
    lines = [f"apiVersion: {'v1' if kind == 'Pod' else 'batch/v1' if 'Job' in kind else 'apps/v1'}",
             f"kind: {kind}", "metadata:", "  name: w  # name", "  annotations:"]
    lines += [f"    {k}: {v}" for k, v in annotations.items()] or ["    a: b"]
    pod = ["containers:", "- name: c", "  image: nginx"]
    if flow:
        pod.append(f"  args: [{', '.join(args)}]")
    else:
        pod += ["  args:"] + [f"  - {a}" for a in args]
    indent = {"Pod": "", "Deployment": "    ", "Job": "    ", "CronJob": "        "}[kind]
    if kind == "Pod":
        lines += ["spec:"] + [f"  {line}" for line in pod]
    elif kind == "CronJob":
        lines += ["spec:", "  schedule: '* * * * *'", "  jobTemplate:", "    spec:",
                  "      template:", "        spec:"] + [f"  {indent}{line}" for line in pod]
    else:
        lines += ["spec:", "  template:", "    spec:"] + [f"  {indent}{line}" for line in pod]
    lines += ["---", "apiVersion: v1", "kind: ConfigMap", "metadata: {name: cm}", "data:"]
    lines += [f"  {k}: {v}" for k, v in data.items()] or ["  a: b"]
    return "\n".join(lines) + "\n"


def _kubectl_json(reader: Kubectl, text: str) -> list[dict[str, Any]] | None:
    proc = subprocess.run([*reader._base(), "create", "--dry-run=client", "--validate=false",
                           "-o", "json", "-f", "-"], input=text, capture_output=True,
                          text=True, timeout=60, check=False)
    if proc.returncode != 0:
        return None
    decoder, objs, at = json.JSONDecoder(), [], 0
    out = proc.stdout
    while out[at:].strip():
        obj, at = decoder.raw_decode(out, at + len(out[at:]) - len(out[at:].lstrip()))
        objs.append(obj)
    return objs


def _without_our_affinity(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    node = obj.get("spec", {})
    for key in {"Pod": [], "CronJob": ["jobTemplate", "spec", "template", "spec"]}.get(
            obj["kind"], ["template", "spec"]):
        node = node.get(key, {})
    node.pop("affinity", None)
    return obj


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with kubectl_reader(tmp_path_factory.mktemp("kubectl")) as reader:
        yield reader


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(manifest=manifests())
def test_kubectl_reads_every_field_we_did_not_set_as_before(
        manifest: str, kube: Kubectl, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = _kubectl_json(kube, manifest)
    assume(before is not None)  # a duplicate key after kubectl's reading, say
    assert before is not None
    code, out, err = _affinity(tmp_path, manifest, capsys=capsys)
    if code != 0:
        assert code == 2 and "duplicate key" in err, err
        return
    after = _kubectl_json(kube, out)
    assert after is not None, out
    assert [_without_our_affinity(o) for o in after] == before
    code, out, err = _affinity(tmp_path, manifest, "-o", "json", capsys=capsys)
    assert code == 0, err
    ours = [_without_our_affinity(o) for o in json.loads(out)["items"]]
    assert _numbers_as_json(ours) == _numbers_as_json(_strip_namespace(before))


def _strip_namespace(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for obj in objs:
        meta = {k: v for k, v in obj["metadata"].items() if k != "namespace"}
        out.append({**obj, "metadata": meta})
    return out


def _numbers_as_json(value: Any) -> Any:
    """Numbers as a JSON reader without 64-bit integers sees them: kubectl re-reads its
    JSON into int64 or float64, so an integer past int64 comes back as a float."""
    if isinstance(value, dict):
        return {k: _numbers_as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_json(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


_PIECES = st.sampled_from([*"ab:-[]{},&*!|>'\"#?%@` \n\t.0129xe~<=", "!!binary ", "!!int ",
                           "!!str ", "<<: ", "&a ", "*a", "---\n", "...\n", "yes", ".nan", "0x1",
                           "1:30", "- ", "\n  ", "!!set ", "!!omap ", "%YAML 1.1\n", "!foo "])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_is_read_or_refused_in_one_line(text: str) -> None:
    """Whatever the reader accepts is written back and, unless it holds NaN or an
    infinity (refused by name), made JSON: never an exception of another kind."""
    from nfd._go.json import dumps

    try:
        manifest = parse_manifest(text.encode(), "m.yaml")
    except SpecError as exc:
        assert "\n" not in str(exc)
        return
    manifest.dump(manifest.trees)
    for value in manifest.values:
        try:
            check_json(value)
        except SpecError:
            continue
        dumps(value)
