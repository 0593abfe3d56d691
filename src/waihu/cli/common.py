"""Shared CLI plumbing: options, the platform, JSON output and readable errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console

from waihu.bootstrap import Platform, bootstrap
from waihu.domain.errors import WaihuError

err = Console(stderr=True)
out = Console()

DB_HELP = "Database URL (default: WAIHU_DATABASE_URL or the embedded SQLite file). / 数据库地址。"
TENANT_HELP = "Tenant name (default: the default tenant, created on first use). / 租户名称。"
JSON_HELP = "Print one JSON object. / 输出 JSON。"

DbOpt = typer.Option(None, "--database-url", help=DB_HELP)
TenantOpt = typer.Option(None, "--tenant", help=TENANT_HELP)
JsonOpt = typer.Option(False, "--json", help=JSON_HELP)

T = TypeVar("T")


def platform(database_url: str | None) -> Platform:
    """Bootstrap and migrate the database before use."""
    return bootstrap(database_url, migrate=True)


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(e: WaihuError, as_json: bool, code: int = 1, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print_json({**(extra or {}), "error": e.as_dict()})
    else:
        err.print(f"[bold red]{e.code}[/]: {e.message}")
        for d in e.details:
            where = " ".join(x for x in (f"row {d.row}" if d.row is not None else "",
                                         f"[{d.field}]" if d.field else "") if x)
            err.print(f"  {where} {d.code}: {d.message}".rstrip())
    raise typer.Exit(code)


@contextmanager
def errors(as_json: bool) -> Iterator[None]:
    try:
        yield
    except WaihuError as e:
        fail(e, as_json)


def run(fn: Callable[[], T], as_json: bool) -> T:
    with errors(as_json):
        return fn()
    raise AssertionError("unreachable")


def tenant_id(p: Platform, name: str | None) -> str:
    """The tenant the CLI acts on: ``--tenant`` or the default one (created on first use)."""
    from waihu.service.tenants import ensure_tenant

    with p.uow("") as uow:
        tid = ensure_tenant(uow, name or p.settings.default_tenant, p.clock.now())
        uow.commit()
    return tid


def in_tenant(database_url: str | None, tenant: str | None, as_json: bool,
              action: Callable[[Any, float], dict[str, Any]]) -> dict[str, Any]:
    """Run ``action(uow, now)`` in the tenant's unit of work and commit; errors as the CLI prints them."""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = action(uow, p.clock.now())
            uow.commit()
        return doc
    raise AssertionError("unreachable")
