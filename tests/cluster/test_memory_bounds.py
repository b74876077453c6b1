"""Memory bounded as well as bytes: peak RSS of the real command, measured in a fresh
process (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a small wrapper, so the measuring
process's own size does not count), against the input's size, for worst-case shapes.

Stated in SECURITY.md: a document past its container bound (one object or array per 16
bytes) is refused before anything is built, within 3x its size; the worst accepted
shapes stay within 24x.
"""

from __future__ import annotations

import itertools
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.cluster._apiserver import ApiServer, ApiState, write_kubeconfig

MiB = 1 << 20
SPEC = Path(__file__).parent / "data" / "spec-cpu-kernel.yaml"
REFUSED_MULTIPLE = 3
ACCEPTED_MULTIPLE = 24
_WRAPPER = ("import resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
            "stderr=subprocess.PIPE, timeout=120)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
            "sys.stderr.write(done.stderr.decode(errors='replace')[-400:])\n")


def peak_rss(*args: str) -> tuple[int, int, str]:
    """(peak RSS in bytes, exit code, stderr) of ``nfd ARGS`` run from a small process."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m", "nfd", *args],
                          capture_output=True, text=True, timeout=180, check=True)
    rss, code = done.stdout.split()
    return int(rss) * 1024, int(code), done.stderr


def _measure(tmp_path: Path, command: Callable[[Path], list[str]], text: str,
             tiny: str) -> tuple[int, int, int, str]:
    """(growth over a tiny input's run, input size, exit code, stderr)."""
    (tmp_path / "tiny").write_text(tiny)
    base, _, _ = peak_rss(*command(tmp_path / "tiny"))
    (tmp_path / "big").write_text(text)
    rss, code, err = peak_rss(*command(tmp_path / "big"))
    return rss - base, len(text), code, err


def _list(items: str) -> str:
    return '{"apiVersion":"nfd.k8s-sigs.io/v1alpha1","kind":"NodeFeatureList","items":[' + \
        items + "]}"


def _dump(path: Path) -> list[str]:
    return ["compat", "validate-cluster", "--spec", str(SPEC), "--nodefeatures", str(path)]


def _features(path: Path) -> list[str]:
    return ["compat", "validate-node", "--spec", str(SPEC), "--features", str(path)]


TINY_FEATURES = '{"flags":{},"attributes":{},"instances":{}}'


@pytest.mark.parametrize(("name", "command", "text"), [
    ("dump of 16 MiB of empty items", _dump, _list(",".join(["{}"] * (16 * MiB // 3)))),
    ("features list of 32 MiB of empty items", _features,
     _list(",".join(["{}"] * (32 * MiB // 3)))),
    ("one-character keys", _features,
     _list(",".join(['{"a":{"b":{"c":{}}}}'] * (8 * MiB // 20)))),
    ("deep legal nesting", _features,
     _list(",".join(["[" * 99 + "]" * 99] * (8 * MiB // 199)))),
])
def test_refused_shapes_cost_a_small_multiple_of_their_size(
        name: str, command: Callable[[Path], list[str]], text: str, tmp_path: Path) -> None:
    growth, size, code, err = _measure(tmp_path, command, text, TINY_FEATURES
                                       if command is _features else _list(""))
    assert code == 2 and "a memory bound" in err, (name, err)
    assert growth <= REFUSED_MULTIPLE * size, (name, growth / size)


def _edge_keys() -> str:
    """Flags of 11-character keys and empty objects: one container per 16 bytes, the
    densest a document may be."""
    keys = ("abcdefgh" + "".join(p) for p in itertools.product(string.ascii_letters, repeat=3))
    elements = ",".join(f'"{k}":{{}}' for k in itertools.islice(keys, 2 * MiB // 17))
    return '{"flags":{"cpu.cpuid":{"elements":{' + elements + '}}},"attributes":{},' \
        '"instances":{}}'


def _edge_nesting() -> str:
    item = ('{"kind":"NodeFeature","apiVersion":"nfd.k8s-sigs.io/v1alpha1","metadata":'
            '{"name":"x"},"spec":{"x":' + '{"abcdefghijklm":' * 95 + "{}" + "}" * 95 + "}}")
    return _list(",".join([item] * (4 * MiB // len(item))))


@pytest.mark.parametrize(("name", "text"), [("one container per 16 bytes", _edge_keys()),
                                            ("deep nesting at the bound", _edge_nesting())])
def test_accepted_worst_shapes_stay_within_the_stated_multiple(name: str, text: str,
                                                               tmp_path: Path) -> None:
    growth, size, code, err = _measure(tmp_path, _features, text, TINY_FEATURES)
    assert code in (0, 1, 2) and "a memory bound" not in err and "Traceback" not in err, err
    assert growth <= ACCEPTED_MULTIPLE * size, (name, growth / size)


def test_a_live_page_of_empty_items_is_refused_unbuilt(tmp_path: Path) -> None:
    body = _list(",".join(["{}"] * (32 * MiB // 3))).encode()

    def huge_page(handler: Any, query: dict[str, str]) -> bool:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True

    state = ApiState(items=[])
    small = ApiServer(state)
    try:
        config = write_kubeconfig(tmp_path / "kc", small.url, {"a": {"token": "good-token"}},
                                  current="a")
        base, _, _ = peak_rss("compat", "validate-cluster", "--spec", str(SPEC),
                              "--kubeconfig", str(config))
        state.fault = huge_page
        rss, code, err = peak_rss("compat", "validate-cluster", "--spec", str(SPEC),
                                  "--kubeconfig", str(config))
    finally:
        small.close()
    assert code == 3 and "a memory bound" in err, err
    # The body is held while it is read (chunks, then joined), never decoded.
    assert rss - base <= REFUSED_MULTIPLE * len(body), (rss - base) / len(body)
