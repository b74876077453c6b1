"""``nfd._record``: the model's value classes behave as the dataclasses they replace."""

from __future__ import annotations

import copy
import pickle

import pytest

from nfd._record import FrozenRecord, Record, set_field
from nfd.api import CompatSpec, Features, GroupRule, LoadLimits, MatchExpression, NodeFeature
from nfd.match import ExpressionStatus, NodeValue, SetVerdict


class Point(FrozenRecord):
    __slots__ = ("label", "x", "y")
    x: int
    y: int
    label: str

    def __init__(self, x: int, y: int, label: str = "") -> None:
        set_field(self, "x", x)
        set_field(self, "y", y)
        set_field(self, "label", label)


class Box(Record):
    __slots__ = ("items", "name")

    def __init__(self, name: str, items: list[int] | None = None) -> None:
        self.name = name
        self.items: list[int] = [] if items is None else items


def test_frozen_fields_follow_the_constructor() -> None:
    assert Point.__match_args__ == ("x", "y", "label")
    assert repr(Point(1, 2)) == "Point(x=1, y=2, label='')"
    assert Point(1, 2) == Point(1, 2, "") and Point(1, 2) != Point(2, 1)


def test_frozen_is_hashable_and_immutable() -> None:
    point = Point(1, 2, "a")
    assert hash(point) == hash(Point(1, 2, "a")) == hash((1, 2, "a"))
    assert len({point, Point(1, 2, "a"), Point(1, 3, "a")}) == 2
    with pytest.raises(AttributeError, match="cannot assign to field 'x'"):
        point.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.y
    with pytest.raises(AttributeError):
        point.z = 1  # type: ignore[attr-defined]
    assert point == Point(1, 2, "a")


def test_equality_needs_the_same_class() -> None:
    class Other(Point):
        __slots__ = ()

        def __init__(self, x: int, y: int, label: str = "") -> None:
            super().__init__(x, y, label)

    assert Point(1, 2) != Other(1, 2)
    assert Point(1, 2) != (1, 2, "")
    assert Point(1, 2).__eq__((1, 2, "")) is NotImplemented


def test_mutable_records_compare_but_do_not_hash() -> None:
    box = Box("a")
    assert box == Box("a", []) and box != Box("b")
    box.items.append(1)
    box.name = "b"
    assert box == Box("b", [1])
    assert Box("a").items is not Box("a").items  # a fresh default each time
    with pytest.raises(TypeError):
        hash(box)
    with pytest.raises(AttributeError):
        box.other = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [
    Point(1, 2, "p"), Box("b", [1, 2]), SetVerdict(0, False, ("why",)),
    MatchExpression("In", ("a", "b"), "version"), LoadLimits(max_bytes=10),
    Features({"f": {"x"}}, {"a": {"k": "v"}}, {"i": [{"k": "v"}]}),
    NodeFeature("n", "ns", "node", Features(), {"l": "v"}),
    ExpressionStatus("cpu.model", "vendor_id", MatchExpression("Exists"), "matchExpression",
                     True, NodeValue(True, True, "AMD")),
], ids=lambda v: type(v).__name__)
def test_pickles_and_copies_through_the_constructor(value: object) -> None:
    for again in (pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)),
                  copy.copy(value), copy.deepcopy(value)):
        assert again == value and type(again) is type(value)


def test_slots_must_name_the_constructor_parameters() -> None:
    with pytest.raises(TypeError, match="__slots__ must name the __init__ parameters"):
        class Wrong(FrozenRecord):
            __slots__ = ("a",)

            def __init__(self, b: int) -> None:
                set_field(self, "a", b)


def test_model_defaults_as_the_dataclasses_had_them() -> None:
    assert MatchExpression("Exists") == MatchExpression(op="Exists", value=(), type="")
    assert GroupRule().vars == {} and GroupRule().vars is not GroupRule().vars
    assert Features() == Features({}, {}, {})
    assert Features().flags is not Features().flags
    assert CompatSpec("v1alpha1", ()).source is None
    assert SetVerdict(1, True).reasons == ()
    assert LoadLimits() == LoadLimits(1 << 20, 1_000_000, 100)


class Secretive(FrozenRecord):
    __slots__ = ("_length", "name", "note", "secret")
    _unshown = ("secret",)
    _uncompared = ("note",)
    _derived = ("_length",)

    def __init__(self, name: str, secret: str, note: str = "") -> None:
        set_field(self, "name", name)
        set_field(self, "secret", secret)
        set_field(self, "note", note)
        set_field(self, "_length", len(name))


def test_field_options_as_dataclasses_field_has_them() -> None:
    one = Secretive("a", "s3cret", "x")
    # repr=False: the secret is not shown; init=False: the derived slot is no field.
    assert repr(one) == "Secretive(name='a', note='x')"
    assert Secretive.__match_args__ == ("name", "secret", "note")
    # compare=False (and so hash=False): the note does not count.
    assert one == Secretive("a", "s3cret", "y") and hash(one) == hash(("a", "s3cret"))
    assert one != Secretive("a", "other", "x")
    assert pickle.loads(pickle.dumps(one)).note == "x"


def test_replace_is_dataclasses_replace() -> None:
    one = Secretive("ab", "s", "x")
    two = one.replace(name="abc")
    assert (two.name, two.secret, two.note, two._length) == ("abc", "s", "x", 3)
    assert one.name == "ab" and Box("b", [1]).replace(items=[2]) == Box("b", [2])
    with pytest.raises(TypeError):
        one.replace(colour="red")


def test_a_derived_slot_is_declared() -> None:
    with pytest.raises(TypeError, match="__slots__ must name"):
        class Undeclared(FrozenRecord):
            __slots__ = ("extra", "name")

            def __init__(self, name: str) -> None:
                set_field(self, "name", name)
