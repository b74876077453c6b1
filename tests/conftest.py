"""Suite-wide settings.

- Property tests are reproducible in CI (same examples each run), and explore freshly on
  developers' machines.
- Skips are loud: every skip prints its reason (``-rs`` in pyproject.toml), and with
  ``CI=true`` a test that skips at run time (a real peer or tool missing) FAILS, so CI
  cannot go green by testing less. Only skips declared with ``skipif`` (a condition of
  the platform, such as CPUID on x86-64 only) stay skips.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
from hypothesis import settings

pytest_plugins = ["pytester"]

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    return str(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    declared = {m.kwargs.get("reason") for m in item.iter_markers("skipif")}
    if _skip_reason(report).removeprefix("Skipped: ") in declared:
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where nothing may be missing: {_skip_reason(report)}"
