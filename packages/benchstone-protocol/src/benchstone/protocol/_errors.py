"""The one exception type of benchstone.protocol.

Runner authors and the harness both catch a single class, so every way a document can be
wrong (unreadable file, bad JSON, bad field) is handled in one place.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """A protocol document is unreadable or violates the contract; the message is one line."""
