"""Where the JSON Schema files ship, for runners written in languages other than Python."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from benchstone.protocol._errors import ProtocolError

SCHEMA_NAMES = ("invocation_config", "project_result")


def schema_path(name: str) -> Path:
    """Filesystem path of a shipped schema: ``"invocation_config"`` or ``"project_result"``."""
    if name not in SCHEMA_NAMES:
        raise ProtocolError(
            f"schema {name!r} does not exist; choose one of {', '.join(SCHEMA_NAMES)}"
        )
    resource = resources.files("benchstone.protocol").joinpath("schemas", f"{name}.schema.json")
    if not isinstance(resource, Path):
        raise ProtocolError(
            f"schema {name!r} is inside an archive ({resource}); install benchstone-protocol "
            "as a regular (unzipped) package to get a path"
        )
    return resource
