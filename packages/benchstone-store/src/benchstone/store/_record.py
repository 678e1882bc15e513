"""Frozen records: the store's row types, declared like dataclasses, built without codegen.

``@dataclass`` compiles five or six methods per class when its module is imported (about
half a millisecond a class, several for the fifty-column run row), and every `bench`
call imports the store's ten row types: that alone was a tenth of `bench evaluate`.
A :class:`Record` is declared the same way (annotated fields, class-level defaults,
:func:`factory` for a fresh mutable default, ``kw_only=True`` as a class keyword) and
behaves the same way: construction checks for missing and unknown fields, instances are
immutable (``dataclasses.FrozenInstanceError``), equality and hashing go by the field
values, ``repr`` is the dataclass one. ``FIELDS`` replaces ``dataclasses.fields``,
:meth:`Record.replace` ``dataclasses.replace`` and :meth:`Record.to_dict`
``dataclasses.asdict``; :func:`field` is ``dataclasses.field`` (a default or a factory,
and ``metadata`` read back through ``METADATA``), so a schema written as field metadata
(the runner's manifest keys) needs no dataclass either.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

_R = TypeVar("_R", bound="Record")
_REQUIRED = object()


_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


class _Field:
    __slots__ = ("default", "metadata")

    def __init__(self, default: Any, metadata: Mapping[str, Any]) -> None:
        self.default = default
        self.metadata = metadata


def factory(make: Callable[[], Any]) -> Any:
    """A default made fresh for each record (``field(default_factory=make)``)."""
    return _Factory(make)


def field(
    *,
    default: Any = _REQUIRED,
    factory: Callable[[], Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """A field with a default (or a ``factory``, or neither: required) and ``metadata``.

    As ``dataclasses.field``: the metadata is a read-only mapping, found again in the
    class's ``METADATA`` under the field's name.
    """
    if factory is not None and default is not _REQUIRED:
        raise ValueError("field(): give a default or a factory, not both")
    made = _Factory(factory) if factory is not None else default
    return _Field(made, MappingProxyType(dict(metadata or {})))


class Record:
    """Base of the store's immutable row types; see the module docstring."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Field name -> the ``metadata`` its :func:`field` gave (empty when none).
    METADATA: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    _DEFAULTS: ClassVar[dict[str, Any]] = {}
    _KW_ONLY: ClassVar[bool] = False

    def __init_subclass__(cls, *, kw_only: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        defaults = dict(cls._DEFAULTS)
        metadata = dict(cls.METADATA)
        fields = list(cls.FIELDS)
        for name, annotation in inspect.get_annotations(cls).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            if name not in fields:
                fields.append(name)
            default = cls.__dict__.get(name, _REQUIRED)
            metadata[name] = _NO_METADATA
            if isinstance(default, _Field):
                metadata[name] = default.metadata
                default = default.default
                if default is _REQUIRED or isinstance(default, _Factory):
                    delattr(cls, name)
                else:
                    setattr(cls, name, default)  # as a dataclass leaves a plain default
            elif isinstance(default, _Factory):
                delattr(cls, name)  # as a dataclass drops a default_factory field
            defaults[name] = default
        cls.FIELDS = tuple(fields)
        cls.METADATA = MappingProxyType(metadata)
        cls._DEFAULTS = defaults
        cls._KW_ONLY = cls._KW_ONLY or kw_only

    def __init__(self, *args: Any, **values: Any) -> None:
        name = type(self).__name__
        if args:
            if self._KW_ONLY or len(args) > len(self.FIELDS):
                raise TypeError(f"{name}() takes keyword arguments only (or too many given)")
            for field, value in zip(self.FIELDS, args, strict=False):
                if field in values:
                    raise TypeError(f"{name}() got multiple values for argument {field!r}")
                values[field] = value
        unknown = [key for key in values if key not in self._DEFAULTS]
        if unknown:
            raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")
        state = {}
        missing = []
        for field in self.FIELDS:
            if field in values:
                state[field] = values[field]
                continue
            default = self._DEFAULTS[field]
            if default is _REQUIRED:
                missing.append(field)
            else:
                state[field] = default.make() if isinstance(default, _Factory) else default
        if missing:
            raise TypeError(f"{name}() missing required argument(s): {', '.join(missing)}")
        vars(self).update(state)  # bypasses the frozen __setattr__, as a dataclass does

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        state = vars(self)
        return tuple(state[field] for field in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        state = vars(self)
        inner = ", ".join(f"{field}={state[field]!r}" for field in self.FIELDS)
        return f"{type(self).__qualname__}({inner})"

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` applied (checked like a construction)."""
        return type(self)(**{**vars(self), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, containers copied (what ``dataclasses.asdict`` returns)."""
        state = vars(self)
        return {field: copy.deepcopy(state[field]) for field in self.FIELDS}
