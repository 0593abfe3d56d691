"""The contact-import use case: read a file, validate it, merge it in one transaction."""

from __future__ import annotations

from pathlib import Path

from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import ValidationError
from waihu.service.campaigns import get_campaign
from waihu.service.contacts import ImportOutcome, merge_rows
from waihu.service.importing.mapping import parse_contact_file


class StrictImportRejected(ValidationError):
    """``--strict`` and at least one bad row: nothing was imported."""


def import_file(uow: UnitOfWork, path: Path, now: float, *, campaign: str | None = None, strict: bool = False,
                encoding: str | None = None, column_overrides: dict[str, str] | None = None,
                default_region: str = "CN", sheet: str | None = None) -> ImportOutcome:
    """Import contacts; commits the valid rows together, or nothing at all.

    File-level problems (missing, empty, unreadable, no phone column) raise ``ValidationError``
    before anything is written.
    """
    campaign_id = get_campaign(uow, campaign).id if campaign is not None else None
    parsed = parse_contact_file(path, encoding=encoding, sheet=sheet, column_overrides=column_overrides,
                                default_region=default_region)
    if strict and parsed.rejected:
        raise StrictImportRejected("import.strict_rejected",
                                   f"{len(parsed.rejected)} problem(s) found; --strict imported nothing",
                                   parsed.rejected)
    try:
        out = merge_rows(uow, parsed.rows, now, campaign_id=campaign_id, filename=path.name,
                         rejected=parsed.rejected, warnings=parsed.warnings, rejected_raw=parsed.rejected_raw)
        uow.commit()
    except Exception:
        uow.rollback()
        raise
    return out
