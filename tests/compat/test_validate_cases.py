"""Validation against NFD's node validator: its Go tests and hand-written report cases.

The cases (``tests/compat/cases/*.yaml``) give the exact ``--output-json``
document NFD produces; see :mod:`tests.match._cases` for the format.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.match._cases import Case, check_case, load_cases

CASES = load_cases(Path(__file__).parent / "cases")


def test_case_files_are_not_empty() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    check_case(case)
