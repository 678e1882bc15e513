"""ProjectResult: what a runner reports back to the harness."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstone.protocol._constants import MAX_RESULT_BYTES
from benchstone.protocol._errors import ProtocolError
from benchstone.protocol._fields import bad, finite_number, json_object, string
from benchstone.protocol._json import atomic_write_json, json_type, read_json_object

STATUSES = ("ok", "error")
_KNOWN = frozenset(
    ("status", "metric", "metric_components", "wall_clock_seconds", "metadata", "message")
)


@dataclass(frozen=True)
class ProjectResult:
    """The result document a runner writes to ``{output_path}``.

    Validation is strict because the metric is what the gate promotes on: a bool, a string,
    NaN or infinity must never be mistaken for a measurement. Unknown keys are kept in
    ``extra`` so newer runners can add fields without breaking older harnesses.
    """

    status: str
    metric: float | None = None
    metric_components: Mapping[str, Any] | None = None
    wall_clock_seconds: float | None = None
    metadata: Mapping[str, Any] | None = None
    message: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.status, str) or self.status not in STATUSES:
            raise bad("status", 'must be "ok" or "error"', self.status)
        if self.metric is not None:
            put(self, "metric", finite_number("metric", self.metric))
        elif self.status == "ok":
            raise ProtocolError(
                "key 'metric': required when status is \"ok\", got null or nothing; report "
                'the measured number, or status "error" with a message'
            )
        for key in ("metric_components", "metadata"):
            value = getattr(self, key)
            if value is not None:
                put(self, key, json_object(key, value))
        if self.wall_clock_seconds is not None:
            put(
                self,
                "wall_clock_seconds",
                finite_number("wall_clock_seconds", self.wall_clock_seconds, minimum=0),
            )
        if self.message is not None:
            string("message", self.message, non_empty=self.status == "error")
        elif self.status == "error":
            raise ProtocolError(
                "key 'message': required when status is \"error\", got null or nothing; "
                "say what went wrong"
            )
        extra = json_object("extra", self.extra)
        clash = sorted(_KNOWN & extra.keys())
        if clash:
            raise ProtocolError(
                f"key 'extra': holds only unknown keys, got the field {clash[0]!r}; "
                "pass it as an argument instead"
            )
        put(self, "extra", extra)

    def to_dict(self) -> dict[str, Any]:
        """Every field (null when unset), ``extra`` merged back in, ready for JSON."""
        out = dict(self.extra)
        out.update(
            status=self.status,
            metric=self.metric,
            metric_components=None
            if self.metric_components is None
            else dict(self.metric_components),
            wall_clock_seconds=self.wall_clock_seconds,
            metadata=None if self.metadata is None else dict(self.metadata),
            message=self.message,
        )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProjectResult:
        if not isinstance(data, Mapping):
            raise ProtocolError(f"expected a JSON object, got a JSON {json_type(data)}")
        if "status" not in data:
            raise ProtocolError('key \'status\': missing; write "ok" or "error"')
        known = {k: data[k] for k in _KNOWN if k in data}
        extra = {k: v for k, v in data.items() if k not in _KNOWN}
        return cls(**known, extra=extra)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Atomically, mode 0o600: the harness never reads a half-written result."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ProjectResult:
        """Read a runner's result; anything off is a one-line ProtocolError naming the file."""
        source = Path(path)
        data = read_json_object(source, MAX_RESULT_BYTES)
        try:
            return cls.from_dict(data)
        except ProtocolError as exc:
            raise ProtocolError(f"{source}: {exc}") from None
