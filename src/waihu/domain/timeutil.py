"""Conversions between POSIX seconds (the engine's time) and aware UTC datetimes (storage)."""

from __future__ import annotations

from datetime import UTC, datetime

from waihu.domain.errors import ValidationError


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_ts(dt: datetime) -> float:
    if dt.tzinfo is None:  # SQLite hands back naive datetimes: they are UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def opt_dt(ts: float | None) -> datetime | None:
    return None if ts is None else to_dt(ts)


def parse_aware(value: str | None, name: str, invalid_code: str, naive_code: str) -> datetime | None:
    """An ISO-8601 time that must carry a UTC offset (user input), or None; clear errors otherwise."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(invalid_code, f"{name} is not an ISO-8601 time") from None
    if dt.tzinfo is None:
        raise ValidationError(naive_code, f"{name} needs a UTC offset, e.g. +08:00")
    return dt
