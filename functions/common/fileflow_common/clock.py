"""UTC time and the one timestamp format stored in the table (ISO 8601, milliseconds, `Z`)."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_timestamp(moment: datetime) -> str:
    """Format an aware datetime; equal-width UTC strings sort chronologically."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_timestamp(value: str) -> datetime:
    """Parse a timestamp written by `to_timestamp` (an aware UTC datetime)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {value!r}")
    return moment.astimezone(UTC)
