"""``waihu report daily|campaign|funnel|roi|slots|abtest|alerts|settings``. / 报表与分析命令。"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, err, errors, out, platform, print_json
from waihu.cli.report import _iso, app, report_tenant
from waihu.domain.errors import ValidationError

FmtOpt = typer.Option("html", "--format", help="html, xlsx or csv. / 输出格式。")
OutOpt = typer.Option(..., "--out", "-o", help="Output file. / 输出文件。")
CampOpt = typer.Option(..., "--campaign", help="Campaign name or id. / 任务名称或编号。")


def _write(doc: dict[str, object], out_path: Path, fmt: str, generated: float, as_json: bool) -> None:
    from waihu.service.analytics.report_files import write

    write(doc, out_path, fmt, datetime.fromtimestamp(generated, UTC).isoformat(timespec="seconds"))
    if as_json:
        print_json({"out": str(out_path), "format": fmt, "totals": doc["totals"]})
    else:
        err.print(f"report written / 报表已生成: {out_path}")


@app.command("daily")
def daily(
    day: str = typer.Option(..., "--date", help="YYYY-MM-DD in the tenant's time zone. / 日期（租户时区）。"),
    out_path: Path = OutOpt, fmt: str = FmtOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Daily report over every campaign. / 全部任务的日报。"""
    from waihu.service.analytics.report_data import build

    with errors(as_json):
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ValidationError("report.invalid_date", "--date must be YYYY-MM-DD") from None
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant)) as uow:
            doc = build(uow, day=day)
        _write(doc, out_path, fmt, p.clock.now(), as_json)


@app.command("campaign")
def campaign_report(
    campaign: str = CampOpt, out_path: Path = OutOpt, fmt: str = FmtOpt, as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Campaign report: KPIs, review, leaderboard, funnel, ROI, slots. / 任务报告。"""
    from waihu.service.analytics.report_data import build
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            doc = build(uow, campaign=get_campaign(uow, campaign))
        _write(doc, out_path, fmt, p.clock.now(), as_json)


def _emit(doc: object, as_json: bool) -> None:
    if as_json:
        print_json(doc)
    else:
        out.print_json(json.dumps(doc, ensure_ascii=False, default=str))


@app.command("funnel")
def funnel_cmd(campaign: str = CampOpt, as_json: bool = JsonOpt, tenant: str | None = TenantOpt,
               database_url: str | None = DbOpt) -> None:
    """Conversion funnel with drop-off reasons. / 转化漏斗与流失原因。"""
    from waihu.service.analytics.funnel import funnel
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            doc = funnel(uow, get_campaign(uow, campaign))
    _emit(doc, as_json)


@app.command("roi")
def roi_cmd(campaign: str = CampOpt,
            segment: str | None = typer.Option(None, "--segment", help="Dimension to split by. / 细分维度。"),
            as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """CAC, LTV and LTV/CAC (threshold flagged). / 获客成本、客户价值及其比值。"""
    from waihu.service.analytics.roi import roi
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            doc = roi(uow, get_campaign(uow, campaign), segment)
    _emit(doc, as_json)


@app.command("slots")
def slots_cmd(campaign: str = CampOpt,
              segment: str | None = typer.Option(None, "--segment", help="e.g. region, age_band. / 细分维度。"),
              adopt: bool = typer.Option(False, "--adopt", help="Save the plan for the campaign. / 采用该计划。"),
              as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Weekday x hour heatmap with confidence intervals and a slot plan. / 时段热力图与推荐拨打时段。"""
    from waihu.service.analytics import slots
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            c = get_campaign(uow, campaign)
            plan = slots.plan(uow, c, segment)
            doc = {**plan, "cells": slots.heatmap(uow, c, segment)["cells"], "adopted": adopt}
            if adopt:
                slots.adopt(uow, c, plan, p.clock.now())
                uow.commit()
    _emit(doc, as_json)


@app.command("abtest")
def abtest_cmd(
    campaign: str = CampOpt,
    experiment: str = typer.Option(..., "--experiment", help="Experiment name. / 实验名称。"),
    assign: list[str] = typer.Option([], "--assign", help="Variant to assign (repeat; assigns contacts). / 话术版本。"),
    strata: list[str] = typer.Option(["region", "age_band"], "--stratum", help="region, age_band, source. / 分层。"),
    seed: int = typer.Option(1, "--seed", help="Random seed. / 随机种子。"),
    min_per_variant: int = typer.Option(200, "--min-per-variant", help="Stop rule minimum. / 最小样本。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Assign contacts to script variants, or show results with the stop rule. / 话术 A/B 测试。"""
    from waihu.service.analytics import abtest
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            c = get_campaign(uow, campaign)
            if assign:
                doc = abtest.assign(uow, c, experiment, list(assign), list(strata), seed, p.clock.now())
                uow.commit()
            else:
                doc = abtest.results(uow, c, experiment, min_per_variant=min_per_variant)
    _emit(doc, as_json)


@app.command("alerts")
def alerts_cmd(
    evaluate: bool = typer.Option(True, "--evaluate/--list", help="Evaluate the rules now, or only list. / 评估或列出。"),
    at: str | None = typer.Option(None, "--at", help="Evaluate as of this ISO-8601 time. / 以该时间评估。"),
    watch: float | None = typer.Option(None, "--watch", min=1.0,
                                       help="Evaluate every S seconds until stopped. / 每 S 秒持续评估。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Evaluate alert rules on the sliding window; fired alerts go to the event outbox. / 告警。"""
    import time

    from waihu.service.analytics import alerts

    with errors(as_json):
        when = _iso(at, "--at") if at else None
        p = platform(database_url)
        tid = report_tenant(p, tenant)
        while True:
            with p.uow(tid) as uow:
                fired = alerts.evaluate(uow, when.timestamp() if when else p.clock.now()) if evaluate else []
                uow.commit()
                doc = {"fired": fired, "recent": alerts.recent(uow) if watch is None else []}
            _emit(doc, as_json)
            if watch is None:
                return
            time.sleep(watch)


@app.command("settings")
def settings_cmd(
    campaign: str | None = typer.Option(None, "--campaign", help="Campaign (default: tenant defaults). / 任务。"),
    set_json: str | None = typer.Option(None, "--set", help='JSON object, e.g. {"agent_hourly_cost": "30"}. / 设置。'),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Show or change analytics settings: costs, funnel stages, alert thresholds. / 分析设置。"""
    from waihu.service.analytics import settings as cfgs
    from waihu.service.campaigns import get_campaign

    with errors(as_json):
        p = platform(database_url)
        with p.uow(report_tenant(p, tenant, campaign)) as uow:
            c = get_campaign(uow, campaign) if campaign else None
            if set_json:
                try:
                    changes = json.loads(set_json)
                except json.JSONDecodeError:
                    raise ValidationError("analytics.invalid_json", "--set is not valid JSON") from None
                if not isinstance(changes, dict):
                    raise ValidationError("analytics.invalid_json", "--set must be a JSON object")
                doc = cfgs.save(uow, c, changes, p.clock.now())
                uow.commit()
            else:
                doc = cfgs.load(uow, c)
    _emit(doc, as_json)
