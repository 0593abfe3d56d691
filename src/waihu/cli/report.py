"""``waihu report``: KPIs, staffing, funnel, ROI, time slots, A/B tests, alerts, daily and
campaign reports. / 运营分析报表。"""

from __future__ import annotations

from datetime import datetime

import typer

from waihu.bootstrap import Platform
from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.domain.timeutil import parse_aware

app = typer.Typer(help="Operations analytics and reports. / 运营分析与报表。", no_args_is_help=True)


def report_tenant(p: Platform, tenant: str | None, campaign: str | None = None) -> str:
    """``--tenant``, else the tenant that holds the campaign (or the data), else the default."""
    if tenant is None:
        from waihu.service.analytics.tenancy import pick_tenant

        with p.uow("") as uow:
            found = pick_tenant(uow, p.settings.default_tenant, campaign)
        if found is not None:
            return found
    return tenant_id(p, tenant)


def _iso(v: str | None, name: str) -> datetime | None:
    return parse_aware(v, name, "report.invalid_time", "report.naive_time")


@app.command("kpis")
def kpis(
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign name or id (default: all). / 任务。"),
    by: list[str] = typer.Option([], "--by", help="Dimension, repeatable. / 维度（可重复）。"),
    since: str | None = typer.Option(None, "--since", help="ISO-8601 time with offset. / 开始时间。"),
    until: str | None = typer.Option(None, "--until", help="ISO-8601 time with offset. / 结束时间。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """KPIs per dimension (definitions: docs/analytics.md). / 按维度统计关键指标。"""
    from waihu.service.analytics.kpis import Scope, compute
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        s, u = _iso(since, "--since"), _iso(until, "--until")
        p = platform(database_url)
        tid = report_tenant(p, tenant, campaign)
        with p.uow(tid) as uow:
            camps = [get_campaign(uow, campaign)] if campaign else None
            doc = compute(uow, Scope(campaigns=camps, since=s, until=u, by=list(by)))
        doc = {"campaign": campaign, **doc}
    if as_json:
        print_json(doc)
        return
    from rich.table import Table

    cols = ["attempts", "answered", "connect_rate", "abandon_rate", "aht_seconds", "talk_occupancy",
            "conversion_rate"]
    t = Table(title=f"KPIs / 关键指标 {campaign or ''}")
    for c in [*by, *cols]:
        t.add_column(c)
    for r in [*doc["rows"], {**{b: "Σ" for b in by}, **doc["totals"]}]:
        t.add_row(*[str(r.get(c)) for c in [*by, *cols]])
    out.print(t)


@app.command("rollup")
def rollup_cmd(
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Rebuild the report rollup from the CDRs (after the upgrade, a time-zone or script change).
    / 从话单重建报表汇总（升级后、时区或话术变更后）。"""
    from waihu.service.analytics import rollup

    with errors(as_json):
        p = platform(database_url)
        tid = report_tenant(p, tenant)
        with p.uow(tid) as uow:
            doc = rollup.rebuild(uow)
            uow.commit()
    if as_json:
        print_json(doc)
    else:
        out.print(f"rollup rebuilt / 汇总已重建: {doc['hourly_rows']} hourly rows / 小时行, {doc['day_rows']} "
                  f"day rows / 日行, {doc['seconds']} s ({doc['timezone']})")


@app.command("staffing")
def staffing(
    calls_per_hour: float = typer.Option(..., "--calls-per-hour", help="Offered calls per hour. / 每小时来电量。"),
    aht: float = typer.Option(..., "--aht", help="Average handle time in seconds, wrap-up included. / 平均处理时长（秒）。"),
    agents: int | None = typer.Option(None, "--agents", help="Agents on duty. / 在岗座席数。"),
    patience: float | None = typer.Option(None, "--patience",
                                          help="Mean patience in seconds: Erlang A. / 平均耐心时长（秒），使用 Erlang A。"),
    sl_seconds: float = typer.Option(20.0, "--sl-seconds", help="Service-level threshold T, seconds. / 服务水平时限。"),
    target_sl: float | None = typer.Option(None, "--target-sl", help="Target service level 0..1. / 目标服务水平。"),
    target_blocking: float | None = typer.Option(None, "--target-blocking",
                                                 help="Also size trunks with Erlang B. / 按 Erlang B 计算线路数。"),
    as_json: bool = JsonOpt,
) -> None:
    """Erlang C / Erlang A staffing and Erlang B trunk sizing. / 人力与线路测算。"""
    from waihu.service.analytics.staffing import staffing as size

    with errors(as_json):
        doc = size(calls_per_hour, aht, agents=agents, patience=patience, sl_seconds=sl_seconds, target_sl=target_sl,
                   target_blocking=target_blocking)
    if as_json:
        print_json(doc)
        return
    for k, v in doc.items():
        out.print(f"{k}: {v}")


from waihu.cli import report_more  # noqa: E402,F401  (registers the remaining commands on app)
