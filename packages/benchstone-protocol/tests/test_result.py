"""ProjectResult validation: the metric is what the gate promotes on, so it must be real."""

from __future__ import annotations

import math

import pytest

from benchstone.protocol import ProjectResult, ProtocolError


@pytest.mark.parametrize(
    ("metric", "expected"),
    [(0, 0.0), (-3, -3.0), (1.5, 1.5), (1e308, 1e308), (10**300, 1e300), (-2.5e-300, -2.5e-300)],
)
def test_finite_real_metrics_are_accepted_as_float(metric: object, expected: float) -> None:
    result = ProjectResult.from_dict({"status": "ok", "metric": metric})
    assert result.metric == expected
    assert type(result.metric) is float


@pytest.mark.parametrize(
    "metric",
    [True, False, "1", "1e999", math.nan, math.inf, -math.inf, 10**400, -(10**400), [1], {"a": 1}],
)
def test_non_finite_or_non_real_metrics_are_refused(metric: object) -> None:
    with pytest.raises(ProtocolError, match=r"key 'metric'") as info:
        ProjectResult.from_dict({"status": "ok", "metric": metric})
    assert "\n" not in str(info.value)
    assert "finite real number" in str(info.value)


def test_bool_metric_message_names_the_value_and_its_type() -> None:
    with pytest.raises(ProtocolError) as info:
        ProjectResult(status="ok", metric=True)  # type: ignore[arg-type]
    assert str(info.value) == (
        "key 'metric': must be a finite real number, got True (a JSON boolean)"
    )


@pytest.mark.parametrize("status", ["OK", "", None, 1, "success"])
def test_status_must_be_ok_or_error(status: object) -> None:
    with pytest.raises(ProtocolError, match=r"key 'status': must be \"ok\" or \"error\""):
        ProjectResult.from_dict({"status": status, "metric": 1.0})


def test_missing_status_is_refused() -> None:
    with pytest.raises(ProtocolError, match=r"key 'status': missing"):
        ProjectResult.from_dict({"metric": 1.0})


@pytest.mark.parametrize("doc", [{"status": "ok"}, {"status": "ok", "metric": None}])
def test_ok_requires_a_metric(doc: dict) -> None:
    with pytest.raises(ProtocolError, match=r"key 'metric': required when status is \"ok\""):
        ProjectResult.from_dict(doc)


@pytest.mark.parametrize("message", [None, "", "   \n", 7, ["x"]])
def test_error_requires_a_non_empty_message_string(message: object) -> None:
    doc: dict = {"status": "error"}
    if message is not None:
        doc["message"] = message
    with pytest.raises(ProtocolError, match=r"key 'message'"):
        ProjectResult.from_dict(doc)


def test_error_without_metric_is_fine_and_may_carry_one() -> None:
    assert ProjectResult.from_dict({"status": "error", "message": "boom"}).metric is None
    assert ProjectResult(status="error", message="partial", metric=2).metric == 2.0


@pytest.mark.parametrize("key", ["metric_components", "metadata"])
@pytest.mark.parametrize("value", [[1, 2], "text", 3, True])
def test_components_and_metadata_must_be_objects(key: str, value: object) -> None:
    with pytest.raises(ProtocolError, match=rf"key '{key}': must be a JSON object"):
        ProjectResult.from_dict({"status": "ok", "metric": 1, key: value})


def test_components_and_metadata_may_be_null_or_objects() -> None:
    result = ProjectResult.from_dict(
        {"status": "ok", "metric": 1, "metric_components": None, "metadata": {"a": [1, {"b": 2}]}}
    )
    assert result.metric_components is None
    assert result.metadata == {"a": [1, {"b": 2}]}


def test_values_that_cannot_be_written_as_json_are_refused_deep_inside_metadata() -> None:
    with pytest.raises(ProtocolError, match=r"key 'metadata.inner\[1\]'"):
        ProjectResult(status="ok", metric=1, metadata={"inner": [1, math.nan]})
    with pytest.raises(ProtocolError, match=r"set is not a JSON value"):
        ProjectResult(status="ok", metric=1, metadata={"s": {1, 2}})
    with pytest.raises(ProtocolError, match=r"object keys must be strings"):
        ProjectResult(status="ok", metric=1, metric_components={1: 2})


@pytest.mark.parametrize("seconds", [-0.001, math.inf, math.nan, True, "3", 10**400])
def test_wall_clock_must_be_finite_and_non_negative(seconds: object) -> None:
    with pytest.raises(ProtocolError, match=r"key 'wall_clock_seconds'"):
        ProjectResult.from_dict({"status": "ok", "metric": 1, "wall_clock_seconds": seconds})


def test_wall_clock_accepts_zero_and_ints() -> None:
    assert ProjectResult(status="ok", metric=1, wall_clock_seconds=0).wall_clock_seconds == 0.0
    assert ProjectResult(status="ok", metric=1, wall_clock_seconds=3).wall_clock_seconds == 3.0


def test_unknown_keys_are_kept_in_extra_and_written_back() -> None:
    doc = {"status": "ok", "metric": 1.25, "runner": "julia", "nested": {"k": [1, 2]}}
    result = ProjectResult.from_dict(doc)
    assert result.extra == {"runner": "julia", "nested": {"k": [1, 2]}}
    out = result.to_dict()
    assert out["runner"] == "julia"
    assert out["nested"] == {"k": [1, 2]}
    assert ProjectResult.from_dict(out) == result


def test_to_dict_names_every_field_with_null_for_unset() -> None:
    assert ProjectResult(status="ok", metric=2).to_dict() == {
        "status": "ok",
        "metric": 2.0,
        "metric_components": None,
        "wall_clock_seconds": None,
        "metadata": None,
        "message": None,
    }


def test_extra_may_not_shadow_a_field() -> None:
    with pytest.raises(ProtocolError, match=r"key 'extra'.*'metric'"):
        ProjectResult(status="ok", metric=1, extra={"metric": 2})


def test_from_dict_refuses_non_objects() -> None:
    with pytest.raises(ProtocolError, match=r"expected a JSON object, got a JSON array"):
        ProjectResult.from_dict([("status", "ok")])  # type: ignore[arg-type]


def test_result_is_frozen() -> None:
    result = ProjectResult(status="ok", metric=1)
    with pytest.raises(AttributeError):
        result.metric = 2.0  # type: ignore[misc]


def test_long_values_are_clipped_in_messages() -> None:
    with pytest.raises(ProtocolError) as info:
        ProjectResult.from_dict({"status": "ok", "metric": "x" * 10_000})
    assert len(str(info.value)) < 200
