"""The one exception base of the OpenEvolve integration."""

from __future__ import annotations


class IntegrationError(Exception):
    """A configuration or setup problem of the adapter, with a one-line message.

    Raised when the evaluator is built with bad settings; during an evaluation the
    adapter turns it into a zero score with the message as an artifact, since OpenEvolve
    would otherwise retry the same failure.
    """
