"""The registry commands end to end: output, one-line errors and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from tests.oci._registry import Registry, free_port
from tests.oci._specs import spec_text
from tests.oci.conftest import PASSWORD, USER, PushImage

from nfd.cli import main


def _spec(tmp_path: Path, marker: str) -> str:
    path = tmp_path / f"spec-{marker}.yaml"
    path.write_bytes(spec_text(marker))
    return str(path)


def test_attach_list_get_remove(plain_registry: Registry, push: PushImage, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    image = push(plain_registry)
    assert main(["compat", "attach-spec", "--image", image, "--spec", _spec(tmp_path, "c")]) == 0
    attached, subject = capsys.readouterr().out.split()[1::2]
    subject = subject.rpartition("@")[2]
    assert main(["compat", "list", "--image", image]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["DIGEST", "CREATED", "SIZE", "SUBJECT", "TAGS", "DESCRIPTIONS"]
    assert attached.startswith(table[1].split()[0])  # shortened, as docker shortens IDs
    # the spec's size (not the manifest's), the subject, and the spec's description
    assert table[1].split()[2:4] == [str(len(spec_text("c"))), subject[:19]]
    assert table[1].endswith("registry test c")
    assert main(["compat", "list", "--image", image, "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)[0]
    assert listed["digest"] == attached
    assert listed["artifactType"] == "application/vnd.nfd.image-compatibility.v1alpha1"
    assert (listed["subject"], listed["size"]) == (subject, len(spec_text("c")))
    assert (listed["descriptions"], listed["tags"]) == (["registry test c"], [""])
    assert main(["compat", "get-spec", "--image", image]) == 0
    assert capsys.readouterr().out.encode() == spec_text("c")
    # the short digest the table shows names the artifact (--digest: the old name of the flag)
    assert main(["compat", "remove-spec", "--image", image, "--digest", table[1].split()[0],
                 "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"would remove {attached}"
    assert main(["compat", "list", "--image", image, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["digest"] == attached  # still there
    assert main(["compat", "remove-spec", "--image", image, "--digest", attached]) == 0
    assert capsys.readouterr().out.strip() == f"removed {attached}"
    assert main(["compat", "get-spec", "--image", image]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no compatibility artifact" in err


def test_invalid_spec_is_refused_before_any_push(plain_registry: Registry, push: PushImage,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    image = push(plain_registry)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: v1alpha1\ncompatibilities: []\n")
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1
    # nothing was pushed: the list is empty (a success), and fetching finds no artifact
    capsys.readouterr()
    assert main(["compat", "list", "--image", image, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["compat", "get-spec", "--image", image]) == 4


def test_attach_lints_refuses_what_no_node_matches_and_dry_runs(
        plain_registry: Registry, push: PushImage, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    image = push(plain_registry)
    never = tmp_path / "never.yaml"
    never.write_bytes(spec_text("n").replace(b"vfio_pci", b"vfio-pci"))
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(never)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"error: {never}: compatibilities[0]") and "vfio_pci" in err[0]
    assert err[1].endswith("1 lint error(s): not attached (--force attaches a spec NFD can "
                           "evaluate anyway)")
    # --dry-run reads the registry and writes nothing
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(never), "--force",
                 "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("would attach the spec to ")
    assert main(["compat", "list", "--image", image, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    # --force publishes a spec that NFD evaluates (it matches no node, on purpose)
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(never),
                 "--force"]) == 0
    attached = capsys.readouterr().out.split()[1]
    assert main(["compat", "get-spec", "--image", image, "--artifact-digest", attached[:19],
                 "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "vfio-pci" in doc["compatibilities"][0]["rules"][0]["matchFeatures"][0][
        "matchExpressions"]
    # what NFD's engine rejects is never attached, --force or not
    invalid = tmp_path / "invalid.yaml"
    invalid.write_bytes(spec_text("i").replace(b"op: Exists", b"op: Exist"))
    assert main(["compat", "attach-spec", "--image", image, "--spec", str(invalid),
                 "--force"]) == 2
    assert "unknown op" in capsys.readouterr().err


def test_password_from_stdin(tls_registry: Registry, push: PushImage, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    image = push(tls_registry)
    common = ["--image", image, "--ca-file", str(tls_registry.ca_file),
              "--registry-username", USER, "--registry-password-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["compat", "attach-spec", "--spec", _spec(tmp_path, "s"), *common]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(["compat", "list", *common]) == 3
    err = capsys.readouterr().err
    assert "401" in err and tls_registry.host in err and "wrong" not in err.split("401")[1]


@pytest.mark.parametrize(("argv", "code", "fragment"), [
    (["--image", "Bad:Ref"], 2, "invalid image reference"),
    (["--image", "x/y", "--platform", "/amd64"], 2, "invalid platform"),
    (["--image", "x/y", "--registry-username", "u"], 2, "--registry-password-stdin"),
    (["--image", "x/y", "--timeout", "0"], 2, "--timeout"),
])
def test_usage_errors(argv: list[str], code: int, fragment: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compat", "list", *argv]) == code
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_unreachable_registry_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    image = f"127.0.0.1:{free_port()}/app:v1"
    assert main(["compat", "get-spec", "--image", image, "--plain-http", "--timeout", "2"]) == 3
    err = capsys.readouterr().err
    assert "cannot connect" in err and err.count("\n") == 1 and "Traceback" not in err
