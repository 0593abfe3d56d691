"""One router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from waihu.api.routers import accounts

ROUTERS: list[APIRouter] = [accounts.router]
