"""The suite's skip policy (tests/conftest.py), checked on a small suite of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).with_name("conftest.py")
SUITE = """
import pytest

def test_needs_a_peer():
    pytest.skip("needs the real peer 'oras'")

@pytest.mark.skipif(True, reason="x86-64 only")
def test_platform_only():
    pass

def test_runs():
    pass

@pytest.mark.skipif(False, reason="never")
def test_declared_but_skips_for_a_missing_tool():
    pytest.skip("needs kubectl on PATH")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(ROOT_CONFTEST.read_text().replace(
        'pytest_plugins = ["pytester"]\n', ""))
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_a_runtime_skip_fails_under_ci(suite: pytest.Pytester,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true*needs the real peer 'oras'*"])
    result.stdout.fnmatch_lines(["*skipped under CI=true*needs kubectl on PATH*"])


def test_a_runtime_skip_is_a_loud_skip_elsewhere(suite: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["SKIPPED*needs the real peer 'oras'*"])
