"""Store rows as JSON-ready dicts, for every API result that carries them.

Apart from ``_types`` so that reading the history does not import the gates.
"""

from __future__ import annotations

from typing import Any

from benchstone.store import BaselineEvent, ReferenceEvent, Run


def run_to_dict(run: Run) -> dict[str, Any]:
    return run.to_dict()


def baseline_to_dict(event: BaselineEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    data = event.to_dict()
    data["run_ids"] = list(event.run_ids)
    return data


def reference_to_dict(event: ReferenceEvent | None) -> dict[str, Any] | None:
    return None if event is None else event.to_dict()
