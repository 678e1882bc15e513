"""The one exception type of benchstone.store."""

from __future__ import annotations


class StoreError(Exception):
    """Anything the store refuses or cannot do.

    One exception type lets the CLI print ``Error: <message>`` for every store failure
    without knowing which layer (names, SQLite, files) raised it; every message is one
    line naming the path, table, row or value at fault.
    """
