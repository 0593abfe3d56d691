"""One exception tree for the whole platform; every error carries a stable code.

The codes are documented in ``docs/errors.md``; the API maps the classes to HTTP status codes
in one place and the CLI prints ``code: message`` and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One problem inside a larger request (a row of an import, a field of a config)."""

    code: str
    message: str
    row: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


@dataclass
class WaihuError(Exception):
    code: str
    message: str
    details: list[ErrorDetail] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": [d.as_dict() for d in self.details],
        }


class ValidationError(WaihuError):
    """Input that can never be accepted as it is."""

    @classmethod
    def of_field(cls, code: str, message: str, field: str) -> ValidationError:
        """One field is wrong: the error, with that field named in its one detail."""
        return cls(code, message, [ErrorDetail(code, message, field=field)])


class NotFound(WaihuError):
    """The object does not exist (or belongs to another tenant: the two are not told apart)."""


class Forbidden(WaihuError):
    """The caller may not do this."""


class Conflict(WaihuError):
    """The request clashes with the current state (an illegal transition, a duplicate name)."""


class IllegalTransition(Conflict):
    """A lifecycle was asked to make a move its transition table does not allow."""

    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(
            code=f"{machine}.illegal_transition",
            message=f"{machine}: event {event!r} is not allowed in state {state!r}",
        )
        self.machine = machine
        self.state = state
        self.event = event


class ComplianceBlocked(WaihuError):
    """A dial that the compliance rules hold back."""


class Unauthenticated(WaihuError):
    """No valid credentials (missing, expired or revoked token; wrong password; locked account)."""


class RateLimited(WaihuError):
    """Too many requests for this caller; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("rate_limited", "too many requests; slow down")
        self.retry_after = retry_after
