"""Value classes without :mod:`dataclasses` (a cold start must not pay for it).

``import dataclasses`` pulls in ``inspect``, ``ast``, ``dis`` and ``tokenize``, and every
``@dataclass`` builds its methods with ``exec`` at import time: together more than the
whole matching engine takes to run. The model's and the engine's classes therefore
write ``__slots__`` and an explicit ``__init__`` (which type-checks as any other) and
inherit the rest from :class:`Record` or :class:`FrozenRecord`, which behave as
``@dataclass(slots=True)`` and ``@dataclass(frozen=True, slots=True)`` do: equality,
hashing (frozen only) and ``repr`` by the fields, the fields being the constructor's
parameters, in their order (``__slots__`` must name the same); pickling and copying go
through the constructor.

A frozen class sets its fields in ``__init__`` with ``set_field(self, name, value)`` (what a
frozen dataclass's own ``__init__`` does); assigning or deleting a field afterwards
raises :class:`AttributeError`, as ``dataclasses.FrozenInstanceError`` (a subclass of
it) would.

Three optional class attributes stand for the ``field()`` options the registry and host
classes use: ``_unshown`` names fields left out of ``repr`` (``repr=False``: secrets),
``_uncompared`` fields left out of ``==`` and the hash (``compare=False``), and ``_derived``
slots that ``__init__`` computes and that are no fields at all (``init=False``).
:meth:`Record.replace` is :func:`dataclasses.replace`.
"""

from __future__ import annotations

from operator import attrgetter

from nfd._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, Self

set_field = object.__setattr__


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields' values as one tuple (``attrgetter`` runs in C: hashing stays cheap)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _equality(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, object], bool]:
    # A closure per class: no lookups beyond a dataclass's generated method's.
    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return values(self) == values(other)

    return __eq__


def _hashing(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


class Record:
    """Base of a mutable value class: ``==`` and ``repr`` by fields, not hashable."""

    __slots__ = ()
    # Per subclass: its fields, and a function of an instance giving their values.
    _fields: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]
    # ... and the values compared and hashed, and the fields shown by repr.
    _key: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _shown: ClassVar[tuple[str, ...]] = ()
    _frozen: ClassVar[bool] = False
    _unshown: ClassVar[tuple[str, ...]] = ()
    _uncompared: ClassVar[tuple[str, ...]] = ()
    _derived: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        code = getattr(cls.__init__, "__code__", None)  # object's (no fields) has none
        # The fields: the parameters after self.
        cls._fields = () if code is None else code.co_varnames[1:code.co_argcount]
        slots = {name for klass in cls.__mro__ for name in klass.__dict__.get("__slots__", ())}
        if set(cls._fields) != slots - set(cls._derived):
            raise TypeError(f"{cls.__qualname__}: __slots__ must name the __init__ parameters")
        cls.__match_args__ = cls._fields  # type: ignore[attr-defined, misc]
        cls._values = _getter(cls._fields)
        compared = tuple(name for name in cls._fields if name not in cls._uncompared)
        cls._key = cls._values if compared == cls._fields else _getter(compared)
        cls._shown = tuple(name for name in cls._fields if name not in cls._unshown)
        # A class on a hot path may write its own (attribute reads beat attrgetter).
        if "__eq__" not in cls.__dict__:
            cls.__eq__ = _equality(cls._key)  # type: ignore[method-assign]
        if cls._frozen and "__hash__" not in cls.__dict__:
            cls.__hash__ = _hashing(cls._key)  # type: ignore[assignment]

    # Defining __eq__ in the body leaves __hash__ None (unhashable), as for a mutable
    # dataclass; each subclass gets its own (above).
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = type(self)._key
        return key(self) == key(other)

    def __repr__(self) -> str:
        cls = type(self)
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in cls._shown)
        return f"{cls.__qualname__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` to some fields (:func:`dataclasses.replace`)."""
        cls = type(self)
        return cls(**{**dict(zip(cls._fields, cls._values(self), strict=True)), **changes})

    def __reduce__(self) -> tuple[type[Record], tuple[Any, ...]]:
        # Through the constructor: default unpickling of slots sets them with setattr,
        # which a frozen class refuses.
        cls = type(self)
        return cls, cls._values(self)


class FrozenRecord(Record):
    """Base of an immutable value class: also hashable; fields cannot be reassigned."""

    __slots__ = ()
    _frozen = True

    def __hash__(self) -> int:  # each subclass gets its own (see Record.__init_subclass__)
        return hash(type(self)._key(self))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")
