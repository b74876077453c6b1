"""Strings that Go's YAML readers, or a YAML 1.1 or 1.2 reader, could take for something
other than a string; and a Hypothesis strategy of them and their variants."""

from __future__ import annotations

from hypothesis import strategies as st

# Scalars YAML 1.1, YAML 1.2 and Go read differently: numbers in Go's strconv base 0 or
# YAML 1.1/1.2 spelling, sexagesimal, YAML 1.1 booleans, nulls, special floats.
SEEDS = ("0108", "1e3", "0x10", "0o17", "0b1", "1_000", ".5", "+1", "1:20", "yes", "no",
         "on", "off", "y", "n", "~", "null", "NaN", ".inf")
# Characters such strings are made of, for generated ones.
NUMBERISH = "0123456789_+-.:eExXoObBaAfFnNyYiIlLsStTuU~"


def _swap_case(text: str, mask: int) -> str:
    return "".join(c.swapcase() if mask >> i & 1 else c for i, c in enumerate(text))


@st.composite
def _variant(draw: st.DrawFn) -> str:
    seed = draw(st.sampled_from(SEEDS))
    kind = draw(st.sampled_from(("sign", "case", "underscore", "suffix", "prefix")))
    if kind == "sign":
        return draw(st.sampled_from("+-")) + seed
    if kind == "case":
        return _swap_case(seed, draw(st.integers(0, 255)))
    if kind == "underscore":
        at = draw(st.integers(0, len(seed)))
        return seed[:at] + "_" + seed[at:]
    if kind == "suffix":
        return seed + draw(st.sampled_from(("0", "8", ".0", "e5", "_", ":30", "x", " ")))
    return draw(st.sampled_from(("0", "00", "1", ".", "0x", "0o", "0b"))) + seed


def ambiguous_strings() -> st.SearchStrategy[str]:
    """Seeds, variants of them, and short strings over :data:`NUMBERISH`."""
    return st.one_of(st.sampled_from(SEEDS), _variant(),
                     st.text(alphabet=NUMBERISH, min_size=1, max_size=8),
                     st.from_regex(r"\A[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\Z"))
