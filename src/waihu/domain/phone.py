"""The one value type for phone numbers.

Every number that enters the platform is normalised to E.164 (by ``waihu.numbering``, which
knows the numbering plans) and then travels as a ``PhoneNumber``. Its ``repr``/``str`` are
masked so that a number printed by accident (a log line, an exception) never shows in full;
the full digits are read only through ``.e164``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def mask_digits(digits: str) -> str:
    """``13800138000`` -> ``138****8000``; keeps at most the first 3 and last 4 digits."""
    n = len(digits)
    if n <= 4:
        return "*" * n
    if n <= 7:
        return digits[:1] + "*" * (n - 3) + digits[-2:]
    return digits[:3] + "*" * (n - 7) + digits[-4:]


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str

    def __post_init__(self) -> None:
        if not _E164.match(self.e164):
            raise ValueError("not an E.164 number")

    @property
    def country_code(self) -> str:
        return "86" if self.e164.startswith("+86") else ""

    @property
    def national(self) -> str:
        """National significant number for +86 numbers, otherwise the digits without '+'."""
        if self.e164.startswith("+86"):
            return self.e164[3:]
        return self.e164[1:]

    def masked(self) -> str:
        if self.e164.startswith("+86"):
            return mask_digits(self.e164[3:])
        return "+" + mask_digits(self.e164[1:])

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"PhoneNumber({self.masked()})"
