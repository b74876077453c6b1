"""Turning loosely typed YAML/JSON values into the model's types, with located errors.

NFD reads documents through ``sigs.k8s.io/yaml``, which turns a YAML number or
boolean into a string where the Go field is a string (``family: 6`` is
``"6"``). We accept the same, and reject everything else with its JSON path.
"""

from __future__ import annotations

from nfd._go.strconv import quote as go_quote
from nfd._jsondoc import join_path, mapping, type_name
from nfd._lazy import TYPE_CHECKING
from nfd.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


def _float_text(value: float) -> str:
    import math  # here: floats are rare in specs, and a cold start counts every import

    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def scalar_str(value: Any, path: str, *, allow_null: bool = False) -> str:
    """A string field: strings as they are, numbers and booleans as YAML would print them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if value is None and allow_null:
        return ""
    raise SpecError(f"expected a string, got {type_name(value)}", path=path)


def key_str(value: Any, path: str) -> str:
    """A mapping key as a string (YAML allows numbers and booleans as keys)."""
    try:
        return scalar_str(value, path)
    except SpecError:
        message = f"mapping key must be a string, got {type_name(value)}"
        raise SpecError(message, path=path) from None


def check_keys(obj: dict[Any, Any], allowed: Iterable[str], path: str) -> dict[str, Any]:
    """``obj`` with its keys spelled as in ``allowed``; an unknown key is an error.

    Go's JSON decoding (which NFD's YAML reading goes through) matches field names
    case-insensitively, so ``Op:`` is ``op:``. Two spellings of one field in one
    mapping (``MatchFeatures`` beside ``matchfeatures``) are an error: Go decodes
    both into the one field, merging them, which no reader of the spec expects.
    A key matching nothing is reported: a mistyped key would otherwise be
    silently ignored.
    """
    allowed = tuple(allowed)
    canonical = {name.lower(): name for name in allowed}
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in obj.items():
        name = canonical.get(str(key).lower()) if isinstance(key, str) else None
        if name is None:
            expected = ", ".join(allowed)
            raise SpecError(
                f"unknown field {go_quote(str(key))} (expected one of {expected})",
                path=join_path(path, str(key)),
            )
        if name in out:
            raise SpecError(
                f"field {go_quote(name)} written twice, as {go_quote(spelled[name])} and "
                f"{go_quote(key)} (Go merges case variants into one field): keep one",
                path=join_path(path, key),
            )
        out[name] = value
        spelled[name] = key
    return out


def string_map(value: Any, path: str) -> dict[str, str]:
    """A ``map[string]string``; null is an empty map."""
    if value is None:
        return {}
    obj = mapping(value, path)
    if all(type(k) is str and type(v) is str for k, v in obj.items()):
        return dict(obj)  # the usual case, without building a path per element
    out: dict[str, str] = {}
    for key, item in obj.items():
        name = key_str(key, join_path(path, str(key)))
        out[name] = scalar_str(item, join_path(path, name), allow_null=True)
    return out


def integer(value: Any, path: str) -> int:
    """A Go ``int`` field (booleans are not numbers; integral floats are accepted)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"expected an integer, got {type_name(value)}", path=path)
    if isinstance(value, float):
        if not value.is_integer():
            raise SpecError(f"expected an integer, got {value!r}", path=path)
        value = int(value)
    number = int(value)
    if not -(1 << 63) <= number < (1 << 63):
        raise SpecError(f"integer {number} out of range", path=path)
    return number
