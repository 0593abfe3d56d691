"""One router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from waihu.api.routers import accounts, agents, calls, campaigns, compliance, contacts, lines, misc, reports

ROUTERS: list[APIRouter] = [accounts.router, agents.router, contacts.router, campaigns.router, calls.router,
                            compliance.router, misc.router, lines.router, reports.router]
