"""``waihu campaign``: create and run campaigns. / 外呼任务管理。"""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.service.campaigns import create_campaign, get_campaign, list_campaigns, transition
from waihu.service.summary import campaign_summary

app = typer.Typer(help="Campaigns. / 外呼任务。", no_args_is_help=True)


def parse_retry(items: list[str]) -> dict[str, dict[str, float]]:
    """``busy=600:3`` -> {"busy": {"delay_seconds": 600, "max_attempts": 3}}"""
    rules: dict[str, dict[str, float]] = {}
    bad = []
    for item in items:
        kind, _, spec = item.partition("=")
        delay, _, attempts = spec.partition(":")
        try:
            rules[kind.strip()] = {"delay_seconds": float(delay), "max_attempts": int(attempts)}
        except ValueError:
            bad.append(ErrorDetail("campaign.invalid_retry_rule", f"expected OUTCOME=DELAY:MAX, got {item!r}",
                                   field="retry"))
    if bad:
        raise ValidationError("campaign.invalid_retry_policy", "invalid --retry option", bad)
    return rules


def _show(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(doc)
        return
    t = Table(title=doc.get("campaign") or doc.get("name"))
    t.add_column("field / 字段")
    t.add_column("value / 值")
    for k, v in doc.items():
        t.add_row(k, str(v))
    out.print(t)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Campaign name. / 任务名称。"),
    mode: str = typer.Option("progressive", "--mode", help="manual, preview, progressive, power, predictive. / 外呼模式。"),
    job_type: str = typer.Option("other", "--job-type",
                                 help="marketing, service, care, survey, collection, notification, verification, "
                                      "other. / 任务类型。"),
    agent_group: str | None = typer.Option(None, "--agent-group", help="Agent group (default: all agents). / 座席组。"),
    priority: int = typer.Option(0, "--priority", help="Higher is served first. / 优先级。"),
    script: str | None = typer.Option(None, "--script", help="Script reference. / 话术。"),
    retry: list[str] = typer.Option([], "--retry", help="OUTCOME=DELAY_SECONDS:MAX_ATTEMPTS, e.g. busy=600:3. / 重呼策略。"),
    ring_timeout: float = typer.Option(40.0, "--ring-timeout", help="Seconds before an unanswered call is cancelled. / 振铃超时。"),
    abandon_target: float = typer.Option(0.03, "--abandon-target", help="Abandon-rate cap. / 放弃率上限。"),
    max_lines: int | None = typer.Option(None, "--max-lines", help="Concurrent lines. / 最大并发线路。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Create a campaign (draft). / 创建外呼任务（草稿）。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        opts: dict[str, Any] = {"ring_timeout": ring_timeout, "abandon_target": abandon_target}
        if max_lines is not None:
            opts["max_lines"] = max_lines
        with p.uow(tid) as uow:
            c = create_campaign(uow, name, p.clock.now(), job_type=job_type, mode=mode, script_ref=script,
                                agent_group=agent_group, priority=priority, retry=parse_retry(retry), options=opts)
            uow.commit()
            _show({"campaign_id": c.id, "name": c.name, "state": c.state, "mode": c.dial_mode,
                   "job_type": c.job_type, "retry_policy": c.retry_policy, "options": c.options}, as_json)


def _move(name: str, event: str, as_json: bool, tenant: str | None, database_url: str | None) -> None:
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            c = transition(uow, get_campaign(uow, name), event, p.clock.now())
            uow.commit()
            _show({"campaign_id": c.id, "name": c.name, "state": c.state}, as_json)


@app.command("start")
def start(name: str, as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Start (or resume) a campaign. / 启动（或恢复）任务。"""
    _move(name, "start", as_json, tenant, database_url)


@app.command("pause")
def pause(name: str, as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Pause a running campaign. / 暂停任务。"""
    _move(name, "pause", as_json, tenant, database_url)


@app.command("stop")
def stop(name: str, as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Stop a campaign (completed). / 结束任务。"""
    _move(name, "complete", as_json, tenant, database_url)


@app.command("archive")
def archive(name: str, as_json: bool = JsonOpt, tenant: str | None = TenantOpt,
            database_url: str | None = DbOpt) -> None:
    """Archive a campaign. / 归档任务。"""
    _move(name, "archive", as_json, tenant, database_url)


@app.command("status")
def status(name: str, as_json: bool = JsonOpt, tenant: str | None = TenantOpt,
           database_url: str | None = DbOpt) -> None:
    """Progress and results of a campaign. / 任务进度与结果。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            _show(campaign_summary(uow, get_campaign(uow, name)), as_json)


@app.command("list")
def list_(as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """List campaigns. / 列出任务。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            rows = [{"campaign_id": c.id, "name": c.name, "state": c.state, "mode": c.dial_mode,
                     "job_type": c.job_type} for c in list_campaigns(uow)]
        if as_json:
            print_json({"campaigns": rows})
            return
        t = Table("name / 名称", "state / 状态", "mode / 模式", "job type / 类型")
        for r in rows:
            t.add_row(r["name"], r["state"], r["mode"], r["job_type"])
        out.print(t)


@app.command("run")
def run(
    name: str,
    agents: int = typer.Option(10, "--agents", min=1, max=5000, help="Simulated agents. / 模拟座席数。"),
    seed: int = typer.Option(1, "--seed", help="Random seed. / 随机种子。"),
    hours: float | None = typer.Option(None, "--hours", help="Stop the shift after H hours (default: until done). / 班次时长。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Dial a running campaign on the simulated network with simulated agents, in virtual time.
    / 在模拟网络上用模拟座席拨打运行中的任务（虚拟时间）。"""
    from waihu.service.demo import DemoConfig, run_campaign_simulated

    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        cfg = DemoConfig(agents=agents, seed=seed, start=p.clock.now(), hours=hours)
        _show(run_campaign_simulated(p, tid, name, cfg), as_json)


@app.command("pacing-log")
def pacing_log_cmd(
    name: str,
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="Most recent decisions. / 最近的决策条数。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Why the dialer placed N calls: each pacing decision with its inputs. / 外呼节奏决策日志（含输入）。"""
    from waihu.service.summary import pacing_log

    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            rows = pacing_log(uow, get_campaign(uow, name), limit=limit)
        if as_json:
            print_json({"campaign": name, "decisions": rows})
            return
        t = Table("time / 时间", "placed / 拨出", "inputs / 输入")
        for r in rows:
            t.add_row(r["at"], str(r["placed"]), " ".join(f"{k}={v}" for k, v in r["inputs"].items()))
        out.print(t)
