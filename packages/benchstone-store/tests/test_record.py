"""The store's row types behave as the frozen dataclasses they replaced."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from benchstone.store import BaselineEvent, NewRun, Run, StorePaths
from benchstone.store._record import Record, factory, field


class Point(Record):
    x: int
    y: int = 0
    tags: dict[str, Any] = factory(dict)


class Point3(Point, kw_only=True):
    z: int


@dataclasses.dataclass(frozen=True)
class DataPoint:
    x: int
    y: int = 0
    tags: dict[str, Any] = dataclasses.field(default_factory=dict)


def test_construction_equality_hash_and_repr_match_a_frozen_dataclass():
    for args, kwargs in (((1,), {}), ((1, 2), {}), ((), {"x": 3, "tags": {"a": 1}})):
        record, data = Point(*args, **kwargs), DataPoint(*args, **kwargs)
        assert repr(record) == repr(data).replace("DataPoint", "Point")
        assert {f: getattr(record, f) for f in Point.FIELDS} == dataclasses.asdict(data)
    assert Point(1, 2) == Point(x=1, y=2) and Point(1) != Point(2)
    assert Point(1) != DataPoint(1) and Point(1) != (1, 0, {})
    assert Point3(x=1, z=2) != Point(x=1)  # another class is never equal
    assert {StorePaths("/a"), StorePaths("/a")} == {StorePaths("/a")}  # hash by fields
    with pytest.raises(TypeError, match="unhashable"):  # a dict field, as in a dataclass
        hash(Point(1))
    assert Point.FIELDS == ("x", "y", "tags") and Point3.FIELDS == ("x", "y", "tags", "z")


def test_construction_refuses_what_a_dataclass_refuses():
    with pytest.raises(TypeError, match="missing required argument"):
        Point()
    with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
        Point(1, w=2)
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)
    with pytest.raises(TypeError, match="keyword arguments only"):
        Point3(1, 2, {}, 3)
    with pytest.raises(TypeError, match="missing required argument"):
        NewRun(project="p", benchmark="b", git_sha="s")  # status is required


def test_records_are_frozen_and_defaults_are_fresh():
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.y
    assert Point(1).tags is not Point(1).tags
    assert "tags" not in vars(Point)  # no shared default object left on the class


def test_replace_and_to_dict():
    point = Point(1, tags={"a": [1]})
    moved = point.replace(y=5)
    assert moved == Point(1, 5, {"a": [1]}) and point.y == 0
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        point.replace(w=1)
    data = point.to_dict()
    data["tags"]["a"].append(2)  # a copy, as dataclasses.asdict gives
    assert point.tags == {"a": [1]}


def test_store_rows_survive_pickle_and_copy():
    run = Run(
        id=1, created_at="t", row_hash="h", project="p", benchmark="b", git_sha="s", status="ok"
    )
    assert pickle.loads(pickle.dumps(run)) == run
    assert copy.deepcopy(run) == run and copy.copy(run) == run
    event = BaselineEvent(1, "p", "b", "s", None, (1, 2), "establish", None, False, "t", "h")
    assert event.run_ids == (1, 2) and event.replace(notes="n").notes == "n"


class Keyed(Record, kw_only=True):
    name: str = field(metadata={"doc": "required, documented"})
    size: int = field(default=3, metadata={"doc": "with a default"})
    extra: list[int] = field(factory=list)
    plain: bool = False


def test_field_gives_defaults_factories_and_metadata_as_dataclasses_field_does():
    assert Keyed.FIELDS == ("name", "size", "extra", "plain")
    assert Keyed.METADATA["name"]["doc"] == "required, documented"
    assert Keyed.METADATA["size"]["doc"] == "with a default"
    assert dict(Keyed.METADATA["plain"]) == {} and dict(Keyed.METADATA["extra"]) == {}
    with pytest.raises(TypeError):  # read-only, as dataclasses' field metadata
        Keyed.METADATA["size"]["doc"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError, match="missing required argument"):
        Keyed()
    first, second = Keyed(name="a"), Keyed(name="b")
    assert (first.size, first.extra, first.plain) == (3, [], False)
    assert first.extra is not second.extra  # a fresh list each
    assert Keyed.size == 3 and not hasattr(Keyed, "name")  # class attributes as a dataclass's
    with pytest.raises(ValueError, match="not both"):
        field(default=1, factory=list)
