"""``waihu dnc``: do-not-call lists. / 免打扰（黑名单）名单。"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

import typer

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.domain.timeutil import to_dt
from waihu.service.dnc import DncItem, add_entries, block_contact, list_entries, remove_entries

app = typer.Typer(help="Do-not-call lists (global, tenant, campaign). / 免打扰名单（全局、租户、任务）。",
                  no_args_is_help=True)
GlobalOpt = typer.Option(False, "--global", help="The deployment-wide list. / 全局名单。")
CampaignOpt = typer.Option(None, "--campaign", help="A campaign's own list. / 任务名单。")
SOURCE_HELP = "complaint, ivr_opt_out, customer_request, regulator, carrier. / 来源：投诉、按键退订、客户要求、监管、运营商。"


def _expiry(hours: float | None, until: str | None, now: float) -> float | None:
    if hours is not None and until is not None:
        raise ValidationError("dnc.invalid_expiry", "give --hours or --until, not both")
    if hours is not None:
        return now + hours * 3600
    if until is None:
        return None
    try:
        dt = datetime.fromisoformat(until)
    except ValueError:
        raise ValidationError("dnc.invalid_expiry", "--until is not an ISO-8601 time") from None
    if dt.tzinfo is None:
        raise ValidationError("dnc.naive_time", "--until needs a UTC offset, e.g. +08:00")
    return dt.timestamp()


@app.command("add")
def add(
    numbers: list[str] = typer.Argument(None, help="Phone numbers (or blind-index hashes). / 号码。"),
    contact: str | None = typer.Option(None, "--contact", help="Block every number of this contact. / 屏蔽该联系人。"),
    source: str = typer.Option("customer_request", "--source", help=SOURCE_HELP),
    hours: float | None = typer.Option(None, "--hours", help="Temporary: 1 to 120 hours. / 临时屏蔽小时数。"),
    until: str | None = typer.Option(None, "--until", help="Temporary until this time. / 屏蔽至该时间。"),
    is_global: bool = GlobalOpt, campaign: str | None = CampaignOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Add numbers to a DNC list (permanent unless --hours/--until). / 加入免打扰名单。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        now = p.clock.now()
        with p.uow(tid) as uow:
            if contact:
                n = block_contact(uow, contact, source, now)
            else:
                exp = _expiry(hours, until, now)
                items = [DncItem(v, source, exp, i) for i, v in enumerate(numbers or [], 1)]
                n = add_entries(uow, items, now, source=source, is_global=is_global, campaign=campaign,
                                default_region=p.settings.default_region)
    print_json({"added": n}) if as_json else out.print(f"{n} entries added / 已加入 {n} 条")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV: number[,source,expires_at] or one number a line. / CSV 文件。"),
    source: str = typer.Option("customer_request", "--source", help=SOURCE_HELP),
    is_global: bool = GlobalOpt, campaign: str | None = CampaignOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Import a DNC list; one bad row rejects the file. / 导入免打扰名单（有错误行则全部不导入）。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        now = p.clock.now()
        items, problems = [], []
        with file.open(encoding="utf-8-sig", newline="") as fh:
            for row, rec in enumerate(csv.reader(fh), 1):
                if not rec or not rec[0].strip() or (row == 1 and rec[0].strip().lower() in ("number", "号码", "hash")):
                    continue
                exp: float | None = None
                if len(rec) > 2 and rec[2].strip():
                    try:
                        dt = datetime.fromisoformat(rec[2].strip())
                        exp = dt.timestamp() if dt.tzinfo else None
                        if dt.tzinfo is None:
                            problems.append(ErrorDetail("dnc.naive_time", "expiry needs a UTC offset", row=row,
                                                        field="expires_at"))
                    except ValueError:
                        problems.append(ErrorDetail("dnc.invalid_expiry", "expiry is not ISO-8601", row=row,
                                                    field="expires_at"))
                src = rec[1].strip() if len(rec) > 1 and rec[1].strip() else None
                items.append(DncItem(rec[0], src, exp, row))
        if problems:
            raise ValidationError("dnc.invalid", "nothing was added to the DNC list", problems)
        with p.uow(tid) as uow:
            n = add_entries(uow, items, now, source=source, is_global=is_global, campaign=campaign,
                            default_region=p.settings.default_region)
    print_json({"added": n}) if as_json else out.print(f"{n} entries imported / 已导入 {n} 条")


@app.command("export")
def export(
    output: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: standard output). / 输出文件。"),
    is_global: bool = GlobalOpt, campaign: str | None = CampaignOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Export a DNC list as blind-index hashes (re-importable). / 导出免打扰名单（哈希，可再导入）。"""
    with errors(False):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            rows = list_entries(uow, p.clock.now(), is_global=is_global, campaign=campaign)
        fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            w = csv.writer(fh)
            w.writerow(["hash", "source", "expires_at"])
            for r in rows:
                w.writerow([r["hash"], r["source"], to_dt(r["expires_at"]).isoformat() if r["expires_at"] else ""])
        finally:
            if output:
                fh.close()


@app.command("list")
def list_(
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many. / 最多条数。"),
    is_global: bool = GlobalOpt, campaign: str | None = CampaignOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """List DNC entries (numbers masked). / 列出免打扰名单（号码脱敏）。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            rows = list_entries(uow, p.clock.now(), is_global=is_global, campaign=campaign, limit=limit)
    if as_json:
        print_json({"entries": rows})
        return
    for r in rows:
        exp = to_dt(r["expires_at"]).isoformat() if r["expires_at"] else "permanent / 永久"
        out.print(f"{r['hash'][:12]}…  {r['number'] or '-':>12}  {r['scope']:<10} {r['source']:<16} {exp}")


@app.command("remove")
def remove(
    numbers: list[str] = typer.Argument(..., help="Phone numbers or hashes. / 号码或哈希。"),
    is_global: bool = GlobalOpt, campaign: str | None = CampaignOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Remove numbers from a DNC list. / 从免打扰名单移除。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            n = remove_entries(uow, numbers, p.clock.now(), is_global=is_global, campaign=campaign,
                               default_region=p.settings.default_region)
    print_json({"removed": n}) if as_json else out.print(f"{n} entries removed / 已移除 {n} 条")
