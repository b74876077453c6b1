"""``system.osrelease`` for 33 real os-release files, and ``system.dmiid``/``system.name``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from nfd.sources import HostPaths, discover_system, parse_os_release

TreeWriter = Callable[[dict[str, str | bytes]], Path]


def _reference(text: str) -> dict[str, str]:
    """An independent reading of NFD's rule, written with string methods, not its regex."""
    out: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        key, sep, value = line.partition("=")
        if sep and value and key and all(c.isascii() and (c.isalnum() or c == "_")
                                          for c in key):
            out[key] = value.strip("\"'")
    return out


def test_all_33_files_are_there(os_release_dir: Path) -> None:
    assert len(list(os_release_dir.glob("*.os-release"))) == 33


def test_os_release_file_parsed_as_nfd_does(os_release_path: Path) -> None:
    path = os_release_path
    text = path.read_bytes().decode()
    parsed = parse_os_release(text)
    derived = {k: parsed.pop(k) for k in ("VERSION_ID.major", "VERSION_ID.minor")
               if k in parsed}
    assert parsed == _reference(text)
    # The file name is <ID>-<VERSION_ID>.os-release (README of the fixtures).
    os_id, version = path.name.removesuffix(".os-release").rsplit("-", 1)
    assert (parsed["ID"], parsed["VERSION_ID"]) == (os_id, version)
    parts = version.split(".")
    expected = {"VERSION_ID.major": parts[0]}
    if len(parts) > 1:
        expected["VERSION_ID.minor"] = parts[1]
    assert derived == expected


@pytest.mark.parametrize(("version", "derived"), [
    ("22.04", {"VERSION_ID.major": "22", "VERSION_ID.minor": "04"}),
    ("3.19.1", {"VERSION_ID.major": "3", "VERSION_ID.minor": "19"}),
    ("12", {"VERSION_ID.major": "12"}),
    ("24.04 LTS", {"VERSION_ID.major": "24"}),
    ("1.2-rc", {"VERSION_ID.major": "1"}),
    ("rolling", {}),
    ("n/a", {}),
])
def test_version_id_parts_follow_nfd_regex(version: str, derived: dict[str, str]) -> None:
    parsed = parse_os_release(f'ID=x\nVERSION_ID="{version}"\n')
    assert {k: v for k, v in parsed.items() if "." in k} == derived


def test_quoting_comments_and_edge_lines() -> None:
    text = ("# comment\n NAME=indented\nEMPTY=\nID='x'\nPRETTY=\"a \\\"b\\\"\" # c\r\n"
            "ID=later\nVAR\u00e9=1\n")
    assert parse_os_release(text) == {"ID": "later", "PRETTY": 'a \\"b\\"" # c'}


def test_missing_os_release_leaves_feature_out(make_tree: TreeWriter) -> None:
    root = make_tree({"etc/hostname": "x\n"})
    features = discover_system(HostPaths(root=str(root)), {"NODE_NAME": "worker-7"})
    assert "osrelease" not in features.attributes
    assert features.attributes["name"] == {"nodename": "worker-7"}
    assert "dmiid" not in features.attributes  # no DMI files at all: absent


def test_no_usr_lib_fallback_and_dmi(make_tree: TreeWriter) -> None:
    root = make_tree({
        "usr/lib/os-release": "ID=ubuntu\n",
        "sys/devices/virtual/dmi/id/sys_vendor": "QEMU\n",
        "sys/devices/virtual/dmi/id/chassis_type": "1\n",
        "sys/devices/virtual/dmi/id/product_uuid": "secret\n",
    })
    features = discover_system(HostPaths(root=str(root)), {})
    assert "osrelease" not in features.attributes
    assert features.attributes["dmiid"] == {"sys_vendor": "QEMU", "chassis_type": "1"}
    assert features.attributes["name"] == {"nodename": ""}


def test_regex_name_is_ascii_word() -> None:
    assert re.fullmatch(r"\w+", "VAR\u00e9")  # Python's \w is Unicode; NFD's Go \w is not
    assert "VAR\u00e9" not in parse_os_release("VAR\u00e9=1\n")
