"""Roles and the one permission table: least privilege, documented in ``docs/api.md``.

A role is a set of permissions. Every API endpoint names the one permission it needs; tokens
are scoped to a role and may not carry a role with permissions the creator lacks.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    QA = "qa"
    API_CLIENT = "api_client"


TENANT_ROLES = frozenset(r for r in Role if r is not Role.PLATFORM_ADMIN)

# permission -> what it allows (the table in docs/api.md is generated from this)
PERMISSIONS: dict[str, str] = {
    "tenants.manage": "create, list and change tenants (platform operators)",
    "users.read": "list the tenant's users",
    "users.manage": "create, change and delete users",
    "tokens.manage": "create, list and revoke API tokens",
    "agents.read": "list agents and agent groups",
    "agents.manage": "create, change and delete agents and groups",
    "agents.control": "log any agent in or out, ready or pause them",
    "desk.use": "act as one's own agent: log in, ready, pause, wrap up, answer previews",
    "live.read": "see live agent states and campaign counters",
    "contacts.read": "read customer records (an agent: only the assigned ones)",
    "contacts.read_pii": "see phone numbers in full (others see them masked)",
    "contacts.write": "create, change and delete customer records",
    "contacts.import": "upload contact files",
    "campaigns.read": "read campaigns, their status and progress",
    "campaigns.manage": "create, change and delete campaigns",
    "campaigns.control": "start, pause and stop campaigns",
    "calls.create": "place a call now (POST /v1/outbound)",
    "calls.override": "override a compliance hold (calling window, caps) of a manual call, with a reason",
    "calls.read": "read calls (an agent: only their own)",
    "cdr.read": "read call detail records (an agent: only their own)",
    "cdr.export": "export call detail records as CSV (audited)",
    "dnc.read": "check and list the tenant's do-not-call entries",
    "dnc.manage": "add and remove do-not-call entries",
    "dispositions.read": "read dispositions set after calls",
    "compliance.read": "read the compliance rules and ask why a contact would or would not be called",
    "compliance.manage": "change the tenant's compliance rules (calling windows, caps, consent)",
    "webhooks.manage": "manage webhook subscriptions, see deliveries and replay them",
    "lines.read": "see trunks and caller IDs with their live statistics",
    "lines.manage": "add, enable and disable the tenant's own trunks and caller IDs",
    "reports.read": "generate and download the daily and campaign reports",
    "audit.read": "read the audit log",
}

_ALL_TENANT = frozenset(PERMISSIONS) - {"tenants.manage"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.PLATFORM_ADMIN: frozenset({"tenants.manage"}),
    Role.TENANT_ADMIN: _ALL_TENANT,
    Role.SUPERVISOR: frozenset({
        "users.read", "agents.read", "agents.control", "desk.use", "live.read", "contacts.read", "campaigns.read",
        "campaigns.control", "calls.create", "calls.read", "cdr.read", "dnc.read", "dnc.manage",
        "dispositions.read", "compliance.read", "lines.read", "reports.read", "calls.override"}),
    Role.AGENT: frozenset({"desk.use", "contacts.read", "calls.create", "calls.read", "cdr.read",
                           "dispositions.read", "campaigns.read"}),
    Role.QA: frozenset({"agents.read", "contacts.read", "campaigns.read", "calls.read", "cdr.read",
                        "dispositions.read", "compliance.read", "reports.read"}),
    Role.API_CLIENT: frozenset({"contacts.read", "contacts.write", "contacts.import", "campaigns.read",
                                "campaigns.control", "calls.create", "calls.read", "cdr.read", "dnc.read",
                                "dnc.manage", "dispositions.read", "live.read"}),
}

# roles whose data view is limited to their own agent's calls and assigned contacts
SELF_SCOPED = frozenset({Role.AGENT})


def allowed(role: Role, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def may_grant(granter: Role, role: Role) -> bool:
    """A caller may hand out (to a user or token) only a role whose permissions it holds itself."""
    if role is Role.PLATFORM_ADMIN:
        return granter is Role.PLATFORM_ADMIN
    return granter is not Role.PLATFORM_ADMIN and ROLE_PERMISSIONS[role] <= ROLE_PERMISSIONS[granter]
