"""The API's own exception base: configuration problems the lower packages cannot see."""

from __future__ import annotations


class ApiError(Exception):
    """A request the harness cannot carry out (project not registered, nothing to promote...)."""


class PromotionRefused(ApiError, ValueError):
    """``promote`` was asked to move the pointer on a verdict other than PROMOTE.

    It is a ValueError too, as SPEC's API promises for a refused promotion.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
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
