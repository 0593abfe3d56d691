"""Explicit transition tables: the table is the documentation of a lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from waihu.domain.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


class Lifecycle(Generic[S]):
    """A finite-state machine given as ``{(state, event): new_state}``."""

    def __init__(self, name: str, table: Mapping[tuple[S, str], S]) -> None:
        self.name = name
        self.table = dict(table)

    def next(self, state: S, event: str) -> S:
        try:
            return self.table[(state, event)]
        except KeyError:
            raise IllegalTransition(self.name, str(state), event) from None

    def allowed(self, state: S, event: str) -> bool:
        return (state, event) in self.table

    def events_from(self, state: S) -> list[str]:
        return sorted(e for (s, e) in self.table if s == state)

    def rows(self) -> list[tuple[str, str, str]]:
        """(state, event, new_state) rows, for documentation and tests."""
        return [(str(s), e, str(n)) for (s, e), n in self.table.items()]
