"""The oracle case generator (tests/match/oracle/generate.py) run with nfd-client as its
oracle: the files it writes are valid case files, and ``check`` finds a wrong verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.match._cases import check_case, load_cases
from tests.match.oracle.generate import main

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("family", ["matrix", "random"])
def test_made_files_are_case_files(family: str, tmp_path: Path) -> None:
    out = tmp_path / f"oracle_{family}.yaml"
    assert main(["make", family, "--seed", "3", "--count", "30", "--oracle", "self",
                 "--out", str(out)]) == 0
    assert out.read_text().startswith("# NOT oracle-verified")
    cases = load_cases(tmp_path)
    assert len(cases) == 30
    assert {c.exit for c in cases} >= ({1, 2} if family == "matrix" else {0, 1})
    for case in cases:
        check_case(case)


def test_hand_written_inputs(tmp_path: Path) -> None:
    inputs = tmp_path / "probes.yaml"
    inputs.write_text(yaml.safe_dump([
        {"name": "class of NVMe", "term": {"feature": "pci.device", "matchExpressions": {
            "class": {"op": "In", "value": ["0108"]}}},
         "features": {"instances": {"pci.device": {"elements": [
             {"attributes": {"class": "0108"}}]}}}},
        {"name": "wrong tag", "spec": {"version": "v1alpha1", "compatibilities": [
            {"tag": "gpu", "rules": []}]}, "tags": ["cpu"], "note": "no set selected"},
    ]))
    out = tmp_path / "cases" / "oracle_probes.yaml"
    out.parent.mkdir()
    assert main(["make", "inputs", "--inputs", str(inputs), "--oracle", "self",
                 "--out", str(out)]) == 0
    cases = {c.name: c for c in load_cases(out.parent)}
    assert cases["class of NVMe"].exit == 0
    assert cases["wrong tag"].raw["report"] == [] and cases["wrong tag"].raw["tags"] == ["cpu"]


def test_check_names_a_case_whose_verdict_is_wrong(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    doc = yaml.safe_load((CASES / "oracle_matrix.yaml").read_text())
    doc["cases"] = doc["cases"][:5]
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(doc))
    assert main(["check", str(good), "--oracle", "self"]) == 0
    first = doc["cases"][0]
    first["exit"] = 1 - first["exit"] if first["exit"] < 2 else 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    assert main(["check", str(bad), "--oracle", "self"]) == 1
    assert first["name"] in capsys.readouterr().err
