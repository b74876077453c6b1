"""NFD's Go test tables and hand-written corner cases, as whole-engine verdict cases.

Each case in ``tests/match/cases/*.yaml`` is a spec, a features document and the
verdict NFD's node validator reaches (see :mod:`tests.match._cases`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.match._cases import Case, check_case, load_cases

CASES = load_cases(Path(__file__).parent / "cases")


def test_case_files_are_not_empty() -> None:
    assert len(CASES) > 200


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    check_case(case)
