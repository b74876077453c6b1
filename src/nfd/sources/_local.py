"""The ``local`` source: feature files in ``features.d``.

Mirrors NFD ``source/local/local.go`` (hooks no longer exist, nothing is
executed). The directory is the literal
``/etc/kubernetes/node-feature-discovery/features.d/`` (NFD's DaemonSet mounts
the host directory at that same path), so only ``--host-root`` moves it.
Both ``local.label`` and ``local.feature`` are always present.
"""

from __future__ import annotations

import re

from nfd._lazy import TYPE_CHECKING
from nfd.api import Features
from nfd.sources._hostpaths import HostPaths, decode, go_trim_space

if TYPE_CHECKING:
    from datetime import datetime

FEATURES_DIR = "/etc/kubernetes/node-feature-discovery/features.d"
MAX_FEATURE_FILE_SIZE = 65536
_DIRECTIVE_PREFIX = "# +"
# Go's time.RFC3339 layout as time.Parse accepts it: fractional seconds allowed, 'T' and
# 'Z' upper case only.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII)


def parse_rfc3339(text: str) -> datetime | None:
    """``time.Parse(time.RFC3339, text)``; None when Go would return an error."""
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    from datetime import datetime, timedelta, timezone  # only for an expiry directive

    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if m.group(8):
        hours, minutes = int(m.group(9)), int(m.group(10))
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes) * (1 if m.group(8) == "+" else -1)
    try:
        return datetime(year, month, day, hour, minute, second, micros, timezone(offset))
    except ValueError:  # out-of-range month, day, hour, ...
        return None


def parse_feature_file(text: str, now: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """``parseFeatureFile``: (features, labels) of one file at time ``now``."""
    features: dict[str, str] = {}
    labels: dict[str, str] = {}
    expiry = now
    skip_feature = skip_label = False
    for raw in text.split("\n"):
        line = go_trim_space(raw)
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith(_DIRECTIVE_PREFIX):
                key, sep, value = line[len(_DIRECTIVE_PREFIX):].partition("=")
                if key == "expiry-time" and sep:
                    parsed = parse_rfc3339(go_trim_space(value))
                    if parsed is not None:  # unparsable: NFD logs and keeps the old expiry
                        expiry = parsed
                elif key == "no-feature":
                    skip_feature = True
                elif key == "no-label":
                    skip_label = True
            continue
        if expiry < now:
            continue  # expired lines do not consume no-feature/no-label
        key, sep, value = line.partition("=")
        value = value if sep else "true"
        for skip, target in ((skip_feature, features), (skip_label, labels)):
            if skip:
                target.pop(key, None)
            else:
                target[key] = value
        skip_feature = skip_label = False
    return features, labels


def _file_text(host: HostPaths, path: str) -> str | None:
    """A regular file's text; None for non-regular, oversized or unreadable files."""
    data = host.read_bytes(path, limit=MAX_FEATURE_FILE_SIZE)
    return None if data is None else decode(data)


def discover_local(host: HostPaths, now: datetime | None = None) -> Features:
    """``local.feature`` and ``local.label`` from every file of ``features.d``, in name order."""
    when = now  # the clock is read (and datetime imported) only when there is a file
    features: dict[str, str] = {}
    labels: dict[str, str] = {}
    directory = host.literal(FEATURES_DIR)
    try:
        names = host.list_dir(directory)
    except OSError:
        names = []  # missing or unreadable: both features stay empty
    for name in names:
        if name.startswith("."):
            continue
        text = _file_text(host, f"{directory}/{name}")
        if text is None:
            continue
        if when is None:
            from datetime import datetime, timezone

            when = datetime.now(timezone.utc)
        file_features, file_labels = parse_feature_file(text, when)
        features.update(file_features)
        labels.update(file_labels)
    return Features(attributes={"feature": features, "label": labels})
