"""Conversions between POSIX seconds (the engine's time) and aware UTC datetimes (storage)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_ts(dt: datetime) -> float:
    if dt.tzinfo is None:  # SQLite hands back naive datetimes: they are UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def opt_dt(ts: float | None) -> datetime | None:
    return None if ts is None else to_dt(ts)
