"""SQL expressions that differ between SQLite and PostgreSQL: durations and local time parts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, String, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    # Whole seconds from julian days (which SQLite rounds to the millisecond), the stored
    # microseconds from the text ("YYYY-MM-DD HH:MM:SS.ffffff"): exact to the microsecond.
    whole = func.round((func.julianday(func.substr(later, 1, 19)) - func.julianday(func.substr(earlier, 1, 19)))
                       * 86400.0)
    return whole + (cast(func.substr(later, 20), Float) - cast(func.substr(earlier, 20), Float))


def _offsets(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """(from UTC instant, offset seconds) pieces covering [start, end): days scanned, changes
    located to the hour."""

    def off(t: datetime) -> int:
        return int(t.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    t = start.replace(minute=0, second=0, microsecond=0)
    pieces: list[tuple[datetime, int]] = [(t, off(t))]
    while t < end:
        nxt = t + timedelta(days=1)
        if off(nxt) != pieces[-1][1]:
            h = t
            while off(h) == pieces[-1][1]:
                h += timedelta(hours=1)
            pieces.append((h, off(h)))
        t = nxt
    return pieces


class LocalTime:
    """Local (tenant time zone) date, ISO weekday (1 = Monday) and hour of a UTC column."""

    def __init__(self, dialect: str, tz_name: str, col: Any,
                 start: datetime | None = None, end: datetime | None = None) -> None:
        self.dialect, self.tz_name, self.col = dialect, tz_name, col
        if dialect == "postgresql":
            self.local: ColumnElement[datetime] = func.timezone(tz_name, col)
            return
        tz = ZoneInfo(tz_name)
        start = start or datetime(2015, 1, 1, tzinfo=UTC)
        end = end or datetime(2040, 1, 1, tzinfo=UTC)
        pieces = _offsets(tz, start, end)
        if len(pieces) == 1:
            off: ColumnElement[str] = literal(f"{pieces[0][1]:+d} seconds", String)
        else:
            whens = [(col < p[0].strftime("%Y-%m-%d %H:%M:%S"), literal(f"{prev[1]:+d} seconds"))
                     for prev, p in itertools.pairwise(pieces)]
            off = case(*whens, else_=literal(f"{pieces[-1][1]:+d} seconds"))
        self.local = func.datetime(col, off)

    def date(self) -> ColumnElement[str]:
        if self.dialect == "postgresql":
            return func.to_char(self.local, "YYYY-MM-DD")
        return func.strftime("%Y-%m-%d", self.local)

    def weekday(self) -> ColumnElement[int]:
        if self.dialect == "postgresql":
            return cast(func.extract("isodow", self.local), Integer)
        return (cast(func.strftime("%w", self.local), Integer) + 6) % 7 + 1

    def hour(self) -> ColumnElement[int]:
        if self.dialect == "postgresql":
            return cast(func.extract("hour", self.local), Integer)
        return cast(func.strftime("%H", self.local), Integer)
