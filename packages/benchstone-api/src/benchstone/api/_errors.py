"""The API's own exception base: configuration problems the lower packages cannot see."""

from __future__ import annotations


class ApiError(Exception):
    """A request the harness cannot carry out (project not registered, nothing to promote...).

    ``override`` is the tail of the message that tells a person how to step around the
    refusal (``--force``, ``--allow-dirty``, ``bench lock``). It is kept apart from
    ``refusal`` because only some front-ends offer those: the CLI and Python callers see
    the whole message, the MCP server shows the refusal alone, since an agent cannot pass
    them and should not be coached to bypass the referee.
    """

    def __init__(self, message: str, *, override: str = "") -> None:
        super().__init__(message + override)
        self.refusal = message
        self.override = override


class PromotionRefused(ApiError, ValueError):
    """``promote`` was asked to move the pointer on a verdict other than PROMOTE.

    It is a ValueError too, as SPEC's API promises for a refused promotion.
    """

    def __init__(self, message: str, kind: str, *, override: str = "") -> None:
        super().__init__(message, override=override)
        self.kind = kind


def harness_errors() -> tuple[type[Exception], ...]:
    """The exception bases of every package the workflow drives.

    Their messages are written for the user (one line naming the file, key or value), so a
    front-end shows them as they are; anything else is a bug. Imported on call: loading
    this module must stay cheap.
    """
    from benchstone.gates import GateError
    from benchstone.hasher import HasherError
    from benchstone.protocol import ProtocolError
    from benchstone.runner import RunnerError
    from benchstone.store import StoreError

    return (ApiError, RunnerError, StoreError, ProtocolError, HasherError, GateError)


def error_line(message: str) -> str:
    """How every front-end shows a failure: `Error: ` and the message on one line."""
    return f"Error: {' '.join(message.split())}"
