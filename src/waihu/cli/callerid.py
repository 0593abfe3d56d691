"""``waihu callerid``: the caller-ID pool. / 外显号码池。"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, in_tenant, out, platform, print_json, tenant_id
from waihu.domain.errors import ValidationError
from waihu.service.lines import (
    add_caller_ids,
    assign_platform_caller_id,
    caller_id_doc,
    mark_caller_id,
    visible_caller_ids,
)

app = typer.Typer(help="Caller-ID pool. / 外显号码池。", no_args_is_help=True)


def _print(docs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json({"caller_ids": docs})
        return
    t = Table(title="caller IDs / 外显号码")
    for col in ("number", "owner", "province", "city", "type", "capital", "default", "weight", "concurrent",
                "daily cap", "status", "marks"):
        t.add_column(col)
    for d in docs:
        t.add_row(d["number"], d["owner"], d["province"], d["city"] or "-", d["type"], str(d["capital"]),
                  str(d["default"]), f"{d['weight']:g}", str(d["max_concurrent"]), str(d["daily_cap"]),
                  d["status"], str(d["spam_marks"]))
    out.print(t)


@app.command("add")
def add(
    number: str = typer.Argument(..., help="The number shown to callees. / 外显号码。"),
    province: str | None = typer.Option(None, "--province", help="Province (default: from the number). / 省份。"),
    city: str | None = typer.Option(None, "--city", help="City (default: from the number). / 城市。"),
    number_type: str | None = typer.Option(None, "--type", help="mobile or landline. / 手机或固话。"),
    capital: bool = typer.Option(False, "--capital", help="A number of the provincial capital. / 省会号码。"),
    default: bool = typer.Option(False, "--default", help="Usable anywhere as the last resort. / 默认号码。"),
    weight: float = typer.Option(1.0, "--weight", help="Selection weight. / 权重。"),
    max_concurrent: int = typer.Option(1, "--max-concurrent", help="Concurrent calls. / 并发上限。"),
    daily_cap: int = typer.Option(200, "--daily-cap", help="Calls per day. / 每日上限。"),
    owned_by_platform: bool = typer.Option(False, "--platform", help="Platform-owned, assigned. / 平台号码。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Add one caller ID. / 添加一个外显号码。"""
    entry = {"number": number, "province": province, "city": city, "type": number_type, "capital": capital,
             "default": default, "weight": weight, "max_concurrent": max_concurrent, "daily_cap": daily_cap}
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            docs = add_caller_ids(uow, p.clock.now(), [entry], platform=owned_by_platform)
            uow.commit()
    _print(docs, as_json)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="CSV with a header: number, province, city, type, capital, default, "
                                          "weight, max_concurrent, daily_cap. / CSV 文件。"),
    owned_by_platform: bool = typer.Option(False, "--platform", help="Platform-owned, assigned. / 平台号码。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Import caller IDs from a CSV file, all or none. / 从 CSV 导入外显号码（全部成功或全部不导入）。"""
    with errors(as_json):
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                entries = [dict(r) for r in csv.DictReader(f)]
        except (OSError, UnicodeDecodeError) as e:
            raise ValidationError("caller_id.unreadable_file", f"cannot read {path.name}: {e}") from None
        if not entries:
            raise ValidationError("caller_id.empty_file", f"{path.name} has no rows")
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            docs = add_caller_ids(uow, p.clock.now(), entries, platform=owned_by_platform, first_row=2)
            uow.commit()
    _print(docs, as_json)


@app.command("assign")
def assign(
    number: str = typer.Argument(..., help="A platform caller ID. / 平台外显号码。"),
    remove: bool = typer.Option(False, "--remove", help="Take it back from the tenant. / 从租户收回。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Assign a platform caller ID to a tenant, or take it back. / 将平台外显号码分配给租户或收回。"""
    doc = in_tenant(database_url, tenant, as_json,
                    lambda uow, now: assign_platform_caller_id(uow, now, number, remove=remove))
    if as_json:
        print_json(doc)
    else:
        out.print(f"{doc['number']} {'taken back / 已收回' if remove else 'assigned / 已分配'}")


@app.command("list")
def list_(as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """The caller IDs this tenant may show. / 本租户可用的外显号码。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            docs = [caller_id_doc(r) for r in visible_caller_ids(uow)]
    _print(docs, as_json)


@app.command("mark")
def mark(
    number: str = typer.Argument(..., help="The caller ID marked as spam. / 被标记的号码。"),
    source: str = typer.Option("reported", "--source", help="reported or imported. / 标记来源。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Record a spam mark: the number is reduced, then taken offline. / 记录骚扰标记：降频，再次标记则下线。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = mark_caller_id(uow, p.clock.now(), number, source)
            uow.commit()
    _print([doc], as_json)
