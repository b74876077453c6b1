"""The execution budget of a template."""

from __future__ import annotations

MAX_STEPS = 1_000_000
MAX_VALUE_SIZE = 1 << 20
