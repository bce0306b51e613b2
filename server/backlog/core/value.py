"""`Value`: a small immutable record class, what `@dataclass(frozen=True)` gives, cheaper to define.

A frozen dataclass generates and compiles six methods when its module is imported (~1 ms a
class on this machine); the filter's, the CLI grammar's and the table's 16 of them were ~20 ms
of every CLI command's start. A subclass lists its fields as annotations, in order, defaults
as class attributes (as a dataclass does); `HIDDEN` names fields left out of ==, hash and repr.
"""

from __future__ import annotations


class Value:
    """Fields set once by the constructor (positional or by name); equal when of the same class
    with equal shown fields; hashable when those are."""

    FIELDS: tuple[str, ...] = ()  # set per subclass from its own annotations
    HIDDEN: tuple[str, ...] = ()
    _SHOWN: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        cls.FIELDS = tuple(cls.__dict__.get("__annotations__", ()))
        cls._SHOWN = tuple(name for name in cls.FIELDS if name not in cls.HIDDEN)

    def __init__(self, *args: object, **named: object) -> None:
        fields = self.FIELDS
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, got {len(args)}")
        for name, value in zip(fields, args):
            object.__setattr__(self, name, value)
        for name, value in named.items():
            if name not in fields[len(args):]:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field '{name}'")
            object.__setattr__(self, name, value)
        for name in fields[len(args):]:
            if name not in named and not hasattr(type(self), name):
                raise TypeError(f"{type(self).__name__}: missing field '{name}'")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field '{name}'")

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self._SHOWN)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._SHOWN)
        return f"{type(self).__qualname__}({shown})"
