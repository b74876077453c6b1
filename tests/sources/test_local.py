"""The local source: features.d files with directives, expiry and overrides."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from nfd.sources import HostPaths, discover_local, parse_feature_file

TreeWriter = Callable[[dict[str, str | bytes]], Path]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
D = "etc/kubernetes/node-feature-discovery/features.d"


def test_labels_features_comments_and_directives() -> None:
    text = """
# plain comment
vendor.io/gpu=true
  spaced = value
flag-only
empty=
#+no-feature is a plain comment (no space)
# +no-feature
label.only=1
# +no-label
feature.only=2
# +unknown-directive
# +expiry-time=2025-12-31T23:59:59Z
expired=x
# +expiry-time=2027-01-01T00:00:00.5+02:00
fresh=y
# +expiry-time=not-a-date
still.fresh=z
"""
    features, labels = parse_feature_file(text, NOW)
    common = {"vendor.io/gpu": "true", "spaced ": " value", "flag-only": "true", "empty": "",
              "fresh": "y", "still.fresh": "z"}
    assert features == {**common, "feature.only": "2"}
    assert labels == {**common, "label.only": "1"}


def test_expired_line_does_not_consume_no_feature() -> None:
    text = ("# +expiry-time=2020-01-01T00:00:00Z\n# +no-feature\nold=1\n"
            "# +expiry-time=2030-01-01T00:00:00Z\nnew=2\nnext=3\n")
    features, labels = parse_feature_file(text, NOW)
    assert features == {"next": "3"} and labels == {"new": "2", "next": "3"}


def test_directory_files_in_name_order(make_tree: TreeWriter) -> None:
    root = make_tree({
        f"{D}/10-a": "shared=from-a\nonly.a\n",
        f"{D}/20-b": "shared=from-b\n",
        f"{D}/.hidden": "hidden=1\n",
        f"{D}/30-big": "x=" + "y" * 70000 + "\n",
        f"{D}/40-link": "->10-a",
        f"{D}/50-dir/inner": "inside=1\n",
    })
    f = discover_local(HostPaths(root=str(root)), NOW)
    # 40-link repeats 10-a, so its value wins again over 20-b
    expected = {"shared": "from-a", "only.a": "true"}
    assert f.attributes == {"feature": expected, "label": expected}


def test_missing_directory_gives_empty_features(make_tree: TreeWriter) -> None:
    root = make_tree({"etc/.keep": ""})
    assert discover_local(HostPaths(root=str(root)), NOW).attributes == {
        "feature": {}, "label": {}}


def test_unreadable_file_is_skipped(make_tree: TreeWriter) -> None:
    root = make_tree({f"{D}/a": "a=1\n", f"{D}/b": "b=2\n"})
    unreadable = root / D / "b"
    os.chmod(unreadable, 0)
    if os.access(unreadable, os.R_OK):
        # Root reads mode-000 files. /proc/self/mem is a regular file whose read fails
        # (EIO at offset 0) even for root, so the read error path runs here too.
        unreadable.unlink()
        unreadable.symlink_to("/proc/self/mem")
    features = discover_local(HostPaths(root=str(root)), NOW).attributes["feature"]
    assert features == {"a": "1"}


def test_prefix_does_not_move_features_d(make_tree: TreeWriter) -> None:
    root = make_tree({f"{D}/a": "literal=1\n", f"host-{D}/a": "prefixed=1\n"})
    f = discover_local(HostPaths(root=str(root), prefix="/host-"), NOW)
    assert f.attributes["feature"] == {"literal": "1"}
