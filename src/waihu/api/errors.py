"""The one error shape, ``{"error": {"code", "message", "details": [...]}}``, mapped from the
error tree in one place. Every client mistake answers 4xx; only our own bugs answer 500."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from waihu.domain.errors import (
    ComplianceBlocked,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationError,
    WaihuError,
)

log = logging.getLogger("waihu.api")

STATUS: list[tuple[type[WaihuError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ComplianceBlocked, 409),
    (RateLimited, 429),
    (ValidationError, 422),
]


class ErrorDetailBody(BaseModel):
    code: str
    message: str
    row: int | None = None
    field: str | None = None


class ErrorInner(BaseModel):
    code: str
    message: str
    details: list[ErrorDetailBody] = []


class ErrorBody(BaseModel):
    error: ErrorInner


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (400, "Bad request"), (401, "Not authenticated"), (403, "Forbidden"), (404, "Not found"),
        (405, "Method not allowed"), (409, "Conflict"), (413, "Too large"), (415, "Unsupported media type"),
        (422, "Invalid input"), (429, "Rate limited"))}


def status_of(e: WaihuError) -> int:
    for cls, code in STATUS:
        if isinstance(e, cls):
            return code
    return 400


def body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def _waihu(request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, WaihuError)
    headers = {}
    if isinstance(e, RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(e.retry_after)))
    return JSONResponse(body(e.code, e.message, [d.as_dict() for d in e.details]), status_code=status_of(e),
                        headers=headers)


def _validation(request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, RequestValidationError)
    details = []
    for err in e.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header")]
        details.append({"row": None, "field": ".".join(loc) or None, "code": f"request.{err.get('type', 'invalid')}",
                        "message": str(err.get("msg", "invalid value"))})
    return JSONResponse(body("request.invalid", "the request is not valid", details), status_code=422)


def _http(request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, StarletteHTTPException)
    code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(e.status_code, f"http.{e.status_code}")
    msg = e.detail if isinstance(e.detail, str) else "request failed"
    return JSONResponse(body(code, msg), status_code=e.status_code, headers=getattr(e, "headers", None))


def _integrity(request: Request, e: Exception) -> JSONResponse:
    # two requests raced for the same unique key: the loser gets the answer of a duplicate
    return JSONResponse(body("conflict.duplicate", "a conflicting object was created at the same time; retry"),
                        status_code=409)


def _internal(request: Request, e: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(e).__name__, exc_info=e)
    return JSONResponse(body("internal.error", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(WaihuError, _waihu)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _internal)
