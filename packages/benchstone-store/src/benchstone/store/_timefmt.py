"""The one timestamp format of the store: ISO-8601 UTC, microseconds, ``Z``.

One fixed-width format means timestamps sort as text in SQLite exactly as they sort in
time, so ``since`` filters are plain string comparisons.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ._errors import StoreError

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> str:
    return format_timestamp(datetime.now(UTC))


def format_timestamp(moment: datetime) -> str:
    """Aware datetimes are converted to UTC; naive ones are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


def parse_timestamp(field: str, value: datetime | str) -> str:
    """Accept a datetime or an ISO-8601 string and return the store's format."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise StoreError(
                f"{field} {value!r} is not an ISO-8601 timestamp "
                "(e.g. 2026-11-27 or 2026-11-27T09:03:23Z)"
            ) from None
        return format_timestamp(parsed)
    raise StoreError(
        f"{field} must be a datetime or an ISO-8601 string, got {type(value).__name__}"
    )
