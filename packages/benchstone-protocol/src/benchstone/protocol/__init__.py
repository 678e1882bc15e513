"""The JSON-over-files contract between the benchstone harness and a project's runner.

Stdlib only, so a runner author can depend on this distribution alone. The harness writes
an :class:`InvocationConfig` to ``{config_path}``, runs the project's invocation, and reads
a :class:`ProjectResult` from ``{output_path}``; :class:`Runner` is the helper that makes
the runner side a few lines of Python.
"""

from benchstone.protocol._config import InvocationConfig
from benchstone.protocol._constants import MAX_RESULT_BYTES, PROTOCOL_VERSION
from benchstone.protocol._errors import ProtocolError
from benchstone.protocol._json import atomic_write_json
from benchstone.protocol._result import ProjectResult
from benchstone.protocol._runner import Runner
from benchstone.protocol._schemas import schema_path

__all__ = [
    "MAX_RESULT_BYTES",
    "PROTOCOL_VERSION",
    "InvocationConfig",
    "ProjectResult",
    "ProtocolError",
    "Runner",
    "atomic_write_json",
    "schema_path",
]
