"""InvocationConfig: what the harness tells a runner before launching it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchstone.protocol._constants import MAX_RESULT_BYTES, PROTOCOL_VERSION
from benchstone.protocol._errors import ProtocolError
from benchstone.protocol._fields import bad, integer, json_object, string
from benchstone.protocol._json import atomic_write_json, json_type, read_json_object

_REQUIRED = ("benchmark", "seed", "corpus_path", "repetition_index", "repetition_total")
_OPTIONAL = ("artifact_path", "protocol_version")
_KNOWN = frozenset(_REQUIRED + _OPTIONAL)


@dataclass(frozen=True)
class InvocationConfig:
    """The config document written to ``{config_path}``.

    Validated on construction, so a config object that exists is one a runner can trust;
    unknown keys from a newer harness ride along in ``extra`` instead of being dropped.
    """

    benchmark: str
    seed: int
    corpus_path: str
    repetition_index: int
    repetition_total: int
    artifact_path: str | None = None
    protocol_version: int = PROTOCOL_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "benchmark", string("benchmark", self.benchmark, non_empty=True))
        put(self, "seed", integer("seed", self.seed, minimum=0))
        put(self, "corpus_path", string("corpus_path", self.corpus_path))
        index = integer("repetition_index", self.repetition_index, minimum=0)
        total = integer("repetition_total", self.repetition_total, minimum=1)
        if index >= total:
            raise bad(
                "repetition_index",
                f"must be below repetition_total ({total})",
                self.repetition_index,
            )
        put(self, "repetition_index", index)
        put(self, "repetition_total", total)
        if self.artifact_path is not None:
            put(self, "artifact_path", string("artifact_path", self.artifact_path, non_empty=True))
        version = integer("protocol_version", self.protocol_version, minimum=1)
        if version > PROTOCOL_VERSION:
            raise ProtocolError(
                f"key 'protocol_version': this benchstone-protocol speaks version "
                f"{PROTOCOL_VERSION}, got {version}; upgrade benchstone-protocol"
            )
        put(self, "protocol_version", version)
        extra = json_object("extra", self.extra)
        clash = sorted(_KNOWN & extra.keys())
        if clash:
            raise ProtocolError(
                f"key 'extra': holds only unknown keys, got the field {clash[0]!r}; "
                "pass it as an argument instead"
            )
        put(self, "extra", extra)

    def to_dict(self) -> dict[str, Any]:
        """Every field, ``extra`` merged back in, ready for JSON."""
        out = dict(self.extra)
        out.update(
            benchmark=self.benchmark,
            seed=self.seed,
            corpus_path=self.corpus_path,
            repetition_index=self.repetition_index,
            repetition_total=self.repetition_total,
            artifact_path=self.artifact_path,
            protocol_version=self.protocol_version,
        )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InvocationConfig:
        """Validate a decoded document. A missing ``protocol_version`` means 1 (SPEC-era)."""
        if not isinstance(data, Mapping):
            raise ProtocolError(f"expected a JSON object, got a JSON {json_type(data)}")
        for key in _REQUIRED:
            if key not in data:
                raise ProtocolError(
                    f"key {key!r}: missing; an InvocationConfig needs {', '.join(_REQUIRED)}"
                )
        known = {k: data[k] for k in _KNOWN if k in data}
        extra = {k: v for k, v in data.items() if k not in _KNOWN}
        return cls(**known, extra=extra)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Atomically, mode 0o600: a runner never reads a half-written config."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> InvocationConfig:
        source = Path(path)
        data = read_json_object(source, MAX_RESULT_BYTES)
        try:
            return cls.from_dict(data)
        except ProtocolError as exc:
            raise ProtocolError(f"{source}: {exc}") from None
