"""The validate-node table: fits the terminal, keeps the spec's order, shows version types."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from tests._cli import nfd

from nfd.api import load_features_document, loads_spec
from nfd.cli._table import render_report
from nfd.compat import validate_features

ROOT = Path(__file__).resolve().parents[2]
H100 = ROOT / "examples" / "features-h100.json"

SPEC = """version: v1alpha1
compatibilities:
- description: wide rows for a narrow terminal
  rules:
  - name: gpu node with a long rule name that has to wrap in a narrow terminal window
    matchFeatures:
    - feature: pci.device
      matchExpressions:
        vendor: {op: In, value: ["10de"]}
        class: {op: In, value: ["0302", "0300", "0380", "1200", "0b40", "0200", "0207"]}
    - feature: kernel.version
      matchExpressions:
        full: {op: Ge, value: ["6.8.0-45-generic"], type: version}
    - feature: cpu.model
      matchExpressions:
        vendor_id: {op: In, value: [AMD]}
"""


def _table(max_width: int | None) -> str:
    spec = loads_spec(SPEC, "s.yaml")
    features = load_features_document(json.loads(H100.read_text()))
    out = io.StringIO()
    render_report(validate_features(spec, features), out, False, spec, max_width)
    return out.getvalue()


def _cells(table: str, column: int) -> list[str]:
    return [line.split("│")[column + 1].strip() for line in table.splitlines()
            if line.startswith("│") and line.count("│") > 2]


@pytest.mark.parametrize("width", [70, 80, 100, 120])
def test_every_line_fits_the_terminal(width: int) -> None:
    table = _table(width)
    assert max(len(line) for line in table.splitlines()) <= width
    unbounded = _table(None)
    assert max(len(line) for line in unbounded.splitlines()) > 120  # the case is wide
    # Wrapping moves text between lines of a cell, it never loses any.
    for column in (1, 2, 5):
        assert "".join(_cells(table, column)).replace(" ", "") == \
            "".join(_cells(unbounded, column)).replace(" ", "")


def test_rows_keep_the_spec_order_and_show_the_version_type() -> None:
    features = [c for c in _cells(_table(None), 1) if c and c != "FEATURE"]
    assert features == ["pci.device.vendor", "pci.device.class", "kernel.version.full",
                        "cpu.model.vendor_id"]
    assert '{op: "Ge", value: ["6.8.0-45-generic"], type: "version"}' in _table(None)


def _on_terminal(columns: int, *args: str) -> tuple[int, str]:
    """Run ``nfd ARGS`` on a real pseudo-terminal ``columns`` wide: exit code and screen."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "nfd", *args], stdout=follower,
                            stderr=subprocess.DEVNULL, env={**env, "NO_COLOR": "1"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode().replace("\r\n", "\n")


def test_cli_fits_the_terminal_and_output_json_keeps_nfds_order(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    code, screen = _on_terminal(90, "compat", "validate-node", "--spec", str(spec),
                                "--features", str(H100))
    assert code == 1
    assert "RULE: GPU NODE" in screen
    assert max(len(line) for line in screen.splitlines()) <= 90
    piped = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(H100))
    assert max(len(line) for line in piped.stdout.splitlines()) > 120  # scripts: whole lines
    raw = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(H100),
              "--output-json")
    names = [e["feature"] + "." + e["name"]
             for e in json.loads(raw.stdout)[0]["rules"][0]["matchedExpressions"]]
    assert names == sorted(names)  # NFD's JSON stays as NFD sorts it


CLUSTER_DUMP = ROOT / "examples" / "nodefeatures.json"
VERSION_SPEC = """version: v1alpha1
compatibilities:
- description: version comparisons keep their type in every report
  rules:
  - name: kernel
    matchFeatures:
    - feature: kernel.version
      matchExpressions:
        major: {op: Ge, value: ["99"]}
        full: {op: Ge, value: ["99.0"], type: version}
"""


@pytest.mark.parametrize("columns", [80, 120])
def test_both_tables_fit_80_and_120_columns_without_cutting_words(
        tmp_path: Path, columns: int) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    code, screen = _on_terminal(columns, "compat", "validate-node", "--spec", str(spec),
                                "--features", str(H100))
    assert code == 1 and "RULE: GPU NODE" in screen
    assert max(len(line) for line in screen.splitlines()) <= columns
    assert "matchExpression " in screen  # the fixed column keeps its word whole
    example = ROOT / "examples" / "image-compatibility.yaml"
    code, screen = _on_terminal(columns, "compat", "validate-cluster", "--spec", str(example),
                                "--nodefeatures", str(CLUSTER_DUMP))
    assert code == 0 and "SET #1" in screen
    assert max(len(line) for line in screen.splitlines()) <= columns
    words = " ".join(screen.split())  # notes wrap at spaces: the words are all there
    assert "cpu.model.vendor_id {op: \"In\", value: [\"Intel\" \"AMD\"]} failed" in words


def test_match_any_alternatives_are_labelled_as_validate_cluster_names_them() -> None:
    spec = loads_spec((ROOT / "examples" / "image-compatibility.yaml").read_text(), "e.yaml")
    features = load_features_document(json.loads(H100.read_text()))
    out = io.StringIO()
    render_report(validate_features(spec, features), out, False, spec, None)
    labels = [c for c in _cells(out.getvalue(), 1) if c.startswith("matchAny")]
    assert labels == ["matchAny alternative 1", "matchAny alternative 2"]
    from nfd.match import set_failures

    reasons = set_failures(validate_features(spec, features).statuses[0])
    assert any("matchAny alternative 2: pci.device.vendor" in r for r in reasons)


def test_colour_marks_results_not_headings() -> None:
    spec = loads_spec((ROOT / "examples" / "image-compatibility.yaml").read_text(), "e.yaml")
    features = load_features_document(json.loads(H100.read_text()))
    out = io.StringIO()
    render_report(validate_features(spec, features), out, True, spec, None)
    text = out.getvalue()
    assert "\033[91mFAIL" in text and "\033[92mOK" in text
    heading = next(line for line in text.splitlines() if "STATUS" in line)
    assert "\033[" not in heading
    # headings are bold at most: red and green mean FAIL and OK only
    set_heading = next(line for line in text.splitlines() if "COMPATIBILITY SET" in line)
    assert "\033[91m" not in set_heading and "\033[92m" not in set_heading
    assert "\033[36m" not in text


def test_the_type_is_shown_in_the_table_the_notes_and_the_reasons(tmp_path: Path) -> None:
    spec = tmp_path / "v.yaml"
    spec.write_text(VERSION_SPEC)
    node = nfd("compat", "validate-node", "--spec", str(spec), "--features", str(H100))
    dump = tmp_path / "nodefeatures.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeature",
        "metadata": {"name": "h100", "namespace": "node-feature-discovery",
                     "labels": {"nfd.node.kubernetes.io/node-name": "h100"}},
        "spec": {"features": json.loads(H100.read_text())}}]}))
    cluster = nfd("compat", "validate-cluster", "--spec", str(spec), "--nodefeatures",
                  str(dump), "-o", "json")
    text = '{op: "Ge", value: ["99.0"], type: "version"}'
    assert text in node.stdout
    reasons = json.loads(cluster.stdout)["nodes"][0]["compatibilities"][0]["reasons"]
    assert any(text in r for r in reasons)
    assert any('{op: "Ge", value: ["99"]} failed' in r for r in reasons)  # no type: none shown


def test_sets_are_numbered_alike_in_tables_and_json(tmp_path: Path) -> None:
    example = str(ROOT / "examples" / "image-compatibility.yaml")
    node = json.loads(nfd("compat", "validate-node", "--spec", example, "--features",
                          str(H100), "-o", "json").stdout)
    cluster = json.loads(nfd("compat", "validate-cluster", "--spec", example,
                             "--nodefeatures", str(CLUSTER_DUMP), "-o", "json").stdout)
    table = nfd("compat", "validate-cluster", "--spec", example, "--nodefeatures",
                str(CLUSTER_DUMP)).stdout
    assert "COMPATIBILITY SET #1 " in nfd("compat", "validate-node", "--spec", example,
                                          "--features", str(H100)).stdout
    assert table.splitlines()[0].split()[1:3] == ["SET", "#1"]
    assert node["compatibilities"][0]["number"] == 1
    assert node["compatibilities"][0]["index"] == 0  # the position: compatibilities[0]
    assert cluster["compatibilities"][0]["number"] == 1
    assert cluster["nodes"][0]["compatibilities"][0]["number"] == 1


def test_list_fits_80_columns() -> None:
    from nfd.cli.compat_list import HEADERS, render_table

    row = ("sha256:" + "a" * 12, "2026-12-05T16:19:16Z", "1234", "sha256:" + "b" * 12,
           "gpu,cpu", "GPU nodes with the NVIDIA driver loaded and a kernel new enough")
    lines = render_table([HEADERS, row], 80).splitlines()
    assert max(len(line) for line in lines) <= 80 and lines[1].endswith("...")
    assert render_table([HEADERS, row], None).splitlines()[1].endswith("enough")
