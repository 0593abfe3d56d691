"""Customer records (search, attributes, history) and contact imports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from waihu.api.deps import Ctx, PageParams, need, page_params
from waihu.api.schemas import Page, Strict, page
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.service import customers as cu
from waihu.service.import_contacts import import_file

router = APIRouter(prefix="/v1")
MAX_UPLOAD = 50 * 1024 * 1024
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


class PhoneOut(BaseModel):
    id: str
    phone: str
    rank: int
    kind: str | None
    region: str | None
    city: str | None
    carrier: str | None


class ContactOut(BaseModel):
    id: str
    name: str | None
    external_id: str | None
    fields: dict[str, Any]
    attributes: dict[str, Any]
    tags: list[Any]
    source: str | None
    follow_up_stage: str | None
    total_attempts: int
    total_connects: int
    last_contact_at: str | None
    last_outcome: str | None
    phones: list[PhoneOut]
    created_at: str | None
    updated_at: str | None


class ContactIn(Strict):
    phones: list[str] = Field(min_length=1, max_length=10)
    name: str | None = Field(None, max_length=200)
    external_id: str | None = Field(None, max_length=100)
    fields: dict[str, str | int | float | bool | None] | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None
    tags: list[str] | None = Field(None, max_length=100)


class ContactPatch(Strict):
    name: str | None = Field(None, max_length=200)
    external_id: str | None = Field(None, max_length=100)
    fields: dict[str, str | int | float | bool | None] | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None
    tags: list[str] | None = Field(None, max_length=100)
    follow_up_stage: str | None = Field(None, max_length=50)


class History(BaseModel):
    contact_id: str
    campaigns: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    dispositions: list[dict[str, Any]]


class ImportOut(BaseModel):
    id: str
    filename: str
    campaign_id: str | None
    created_at: str | None
    imported: int
    duplicates: int
    rejected: int
    report: dict[str, Any]


def _agent(ctx: Ctx) -> str | None:
    return ctx.own_agent if ctx.self_scoped else None


@router.get("/contacts", response_model=Page[ContactOut], tags=["contacts"])
def contacts(q: str | None = Query(None, max_length=100, description="Name contains, or the external id."),
             phone: str | None = Query(None, max_length=40, description="Exact number (any common format)."),
             tag: str | None = Query(None, max_length=50), campaign_id: str | None = Query(None, max_length=32),
             pp: PageParams = Depends(page_params), ctx: Ctx = need("contacts.read")) -> dict[str, Any]:
    """Search customer records (``sort``: created_at, updated_at). An agent sees only assigned ones."""
    with ctx.uow() as uow:
        rows, cur = cu.search(uow, q=q, phone=phone, tag=tag, campaign_id=campaign_id, agent_id=_agent(ctx),
                              sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        pii = ctx.can("contacts.read_pii")
        return page([cu.contact_dict(uow, c, pii) for c in rows], cur)


@router.post("/contacts", response_model=ContactOut, status_code=201, tags=["contacts"])
def contact_create(body: ContactIn, ctx: Ctx = need("contacts.write")) -> dict[str, Any]:
    with ctx.uow() as uow:
        c = cu.create(uow, body.phones, ctx.now(), **body.model_dump(exclude={"phones"}))
        uow.commit()
        return cu.contact_dict(uow, c, ctx.can("contacts.read_pii"))


@router.get("/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"])
def contact_get(contact_id: str, ctx: Ctx = need("contacts.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return cu.contact_dict(uow, cu.get_contact(uow, contact_id, _agent(ctx)), ctx.can("contacts.read_pii"))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"])
def contact_patch(contact_id: str, body: ContactPatch, ctx: Ctx = need("contacts.write")) -> dict[str, Any]:
    with ctx.uow() as uow:
        c = cu.update(uow, cu.get_contact(uow, contact_id), body.model_dump(exclude_unset=True), ctx.now())
        uow.commit()
        return cu.contact_dict(uow, c, ctx.can("contacts.read_pii"))


@router.delete("/contacts/{contact_id}", status_code=204, tags=["contacts"])
def contact_delete(contact_id: str, ctx: Ctx = need("contacts.write")) -> None:
    """Erase the customer record and its numbers (personal-information deletion)."""
    with ctx.uow() as uow:
        cu.erase(uow, cu.get_contact(uow, contact_id), ctx.now())
        uow.commit()


@router.get("/contacts/{contact_id}/history", response_model=History, tags=["contacts"])
def contact_history(contact_id: str, ctx: Ctx = need("contacts.read")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return cu.history(uow, cu.get_contact(uow, contact_id, _agent(ctx)))


@router.post("/imports", response_model=ImportOut, status_code=201, tags=["imports"])
def import_upload(file: UploadFile = File(..., description="CSV or XLSX contact file."),
                  campaign_id: str | None = Form(None, max_length=32),
                  strict: bool = Form(False, description="Import nothing if any row is invalid."),
                  ctx: Ctx = need("contacts.import")) -> dict[str, Any]:
    """Upload a contact file; the answer is the validation report (rows rejected, duplicates merged)."""
    name = Path(file.filename or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError("import.unsupported_format", "upload a .csv, .txt or .xlsx file",
                              [ErrorDetail("import.unsupported_format", "unsupported file type", field="file")])
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"upload{suffix}"
        size = 0
        with path.open("wb") as fh:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise ValidationError("import.too_large", "the file is larger than 50 MB",
                                          [ErrorDetail("import.too_large", "at most 50 MB", field="file")])
                fh.write(chunk)
        renamed = path.with_name(name) if name.lower().endswith(suffix) else path
        path.rename(renamed)
        with ctx.uow() as uow:
            if campaign_id is not None:
                from waihu.service.campaign_admin import by_id

                by_id(uow, campaign_id)
            out = import_file(uow, renamed, ctx.now(), campaign=campaign_id, strict=strict)
            assert out.import_id is not None
            return cu.import_dict(cu.get_import(uow, out.import_id))


@router.get("/imports", response_model=Page[ImportOut], tags=["imports"])
def imports(pp: PageParams = Depends(page_params), ctx: Ctx = need("contacts.import")) -> dict[str, Any]:
    with ctx.uow() as uow:
        rows, cur = cu.list_imports(uow, sort=pp.sort, cursor=pp.cursor, limit=pp.limit)
        return page([cu.import_dict(r) for r in rows], cur)


@router.get("/imports/{import_id}", response_model=ImportOut, tags=["imports"])
def import_get(import_id: str, ctx: Ctx = need("contacts.import")) -> dict[str, Any]:
    with ctx.uow() as uow:
        return cu.import_dict(cu.get_import(uow, import_id))
