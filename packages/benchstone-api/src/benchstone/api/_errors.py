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
