"""``waihu bench ...``: benchmarks that print JSON. / 基准测试，输出 JSON。"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from waihu.cli.common import DbOpt, JsonOpt, errors, out, platform, print_json

app = typer.Typer(help="Benchmarks that print JSON. / 基准测试（输出 JSON）。", no_args_is_help=True)


_H = {
    "agents": "Agents logged in. / 登录坐席数。",
    "answer_rate": "Answer probability per dial. / 每次拨号接通概率。",
    "answer_rate_end": "Answer probability at the end of the shift (linear drift). / 班末接通概率（线性漂移）。",
    "ring_mean": "Mean ring seconds before an answer (Gamma, shape 4). / 平均振铃秒数。",
    "no_answer_timeout": "Seconds before the network gives up on an unanswered call. / 无人接听超时秒数。",
    "talk_mean": "Mean talk seconds (lognormal). / 平均通话秒数（对数正态）。",
    "talk_cv": "Coefficient of variation of talk time. / 通话时长变异系数。",
    "wrap_mean": "Mean wrap-up seconds (Gamma, shape 2). / 平均话后处理秒数。",
    "hours": "Measured hours after the warm-up. / 预热后的测量小时数。",
    "warmup_minutes": "Warm-up minutes (not measured). / 预热分钟数（不计入）。",
    "abandon_target": "Abandon rate target, 0 to 1. / 放弃率目标（0 到 1）。",
    "max_lines": "Concurrent lines (default unlimited). / 并发线路数（默认不限）。",
    "seed": "First random seed. / 第一个随机种子。",
    "seeds": "Seeds to average over. / 取平均的种子数。",
    "power_ratio": "Lines per ready agent for power dialing. / 功率外呼每个空闲坐席的线路数。",
    "jobs": "Worker processes (default: all cores). / 工作进程数（默认全部核心）。",
}


@app.command("pacing")
def pacing(
    agents: Annotated[int, typer.Option(help=_H["agents"])] = 50,
    answer_rate: Annotated[float, typer.Option(help=_H["answer_rate"])] = 0.25,
    answer_rate_end: Annotated[float | None, typer.Option(help=_H["answer_rate_end"])] = None,
    ring_mean: Annotated[float, typer.Option(help=_H["ring_mean"])] = 8.0,
    no_answer_timeout: Annotated[float, typer.Option(help=_H["no_answer_timeout"])] = 25.0,
    talk_mean: Annotated[float, typer.Option(help=_H["talk_mean"])] = 120.0,
    talk_cv: Annotated[float, typer.Option(help=_H["talk_cv"])] = 1.0,
    wrap_mean: Annotated[float, typer.Option(help=_H["wrap_mean"])] = 15.0,
    hours: Annotated[float, typer.Option(help=_H["hours"])] = 4.0,
    warmup_minutes: Annotated[float, typer.Option(help=_H["warmup_minutes"])] = 30.0,
    abandon_target: Annotated[float, typer.Option(help=_H["abandon_target"])] = 0.03,
    max_lines: Annotated[int | None, typer.Option(help=_H["max_lines"])] = None,
    seed: Annotated[int, typer.Option(help=_H["seed"])] = 1,
    seeds: Annotated[int, typer.Option(help=_H["seeds"])] = 1,
    power_ratio: Annotated[float, typer.Option(help=_H["power_ratio"])] = 2.0,
    jobs: Annotated[int | None, typer.Option(help=_H["jobs"])] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the only output format). / 输出 JSON。")] = True,
) -> None:
    """Compare pacing strategies on the simulated network. / 在模拟网络上比较外呼节奏策略。"""
    from waihu.bench.pacing import Scenario, bench

    sc = Scenario(agents=agents, answer_rate=answer_rate, answer_rate_end=answer_rate_end, ring_mean=ring_mean,
                  no_answer_timeout=no_answer_timeout, talk_mean=talk_mean, talk_cv=talk_cv, wrap_mean=wrap_mean,
                  hours=hours, warmup_minutes=warmup_minutes, abandon_target=abandon_target, max_lines=max_lines,
                  power_ratio=power_ratio)
    if not 0.0 <= abandon_target <= 1.0:
        raise typer.BadParameter("--abandon-target must be between 0 and 1")
    doc = bench(sc, seed=seed, seeds=seeds, jobs=jobs)
    typer.echo(json.dumps(doc, indent=None if as_json else 2))


@app.command("sip")
def sip(
    calls: int = typer.Option(1000, "--calls", min=1, help="Calls to place. / 呼叫次数。"),
    cps: float = typer.Option(50.0, "--cps", min=0.1, help="Calls per second. / 每秒呼叫数。"),
    hold: float = typer.Option(15.0, "--hold", min=0.0, help="Seconds an answered call lasts. / 接通后通话秒数。"),
    answer_share: float = typer.Option(
        0.95, "--answer-share", min=0.0, max=1.0,
        help="Share of calls answered; the rest busy or no answer. / 接通比例，其余忙或无人接听。"),
    ring_timeout: float = typer.Option(
        4.0, "--ring-timeout", min=0.5,
        help="Seconds before an unanswered call is cancelled. / 无人接听时多少秒后取消。"),
    reference: bool = typer.Option(True, "--reference/--no-reference",
                                   help="Also measure SIPp placing the same calls. / 同时测量 SIPp 自身的呼叫速率。"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object. / 输出一个 JSON 对象。"),
) -> None:
    """Place calls through the SIP adapter against a SIPp callee, in one worker process.
    / 通过 SIP 适配器向 SIPp 被叫发起呼叫（单个工作进程）。"""
    from waihu.bench.sip import run

    result = run(calls, cps, hold, answer_share, ring_timeout, reference)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for k, v in result.items():
        typer.echo(f"{k:>22}: {v}")


@app.command("shift")
def shift(
    agents: int = typer.Option(200, "--agents", min=1, help="Simulated agents. / 模拟座席数。"),
    hours: float = typer.Option(8.0, "--hours", min=0.1, help="Shift length in hours. / 班次时长（小时）。"),
    mode: str = typer.Option("progressive", "--mode", help="progressive, preview, power or predictive. / 外呼模式。"),
    seed: int = typer.Option(1, "--seed", help="Random seed. / 随机种子。"),
    store: str = typer.Option("memory", "--store",
                              help="memory (engine and network only) or sqlite (the demo's whole path). / 存储方式。"),
    contacts: int = typer.Option(60000, "--contacts", min=1, help="Contacts for --store sqlite. / 联系人数。"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object. / 输出一个 JSON 对象。"),
) -> None:
    """Time a simulated shift (a day of calls in seconds). / 测量模拟班次的运行速度。"""
    from waihu.bench.shift import bench_shift

    if store not in ("memory", "sqlite"):
        raise typer.BadParameter("--store must be memory or sqlite")
    doc = bench_shift(agents, hours, mode, seed, contacts, store)
    typer.echo(json.dumps(doc) if as_json else "\n".join(f"{k:>14}: {v}" for k, v in doc.items()))


@app.command("api")
def api(
    calls: int = typer.Option(300, "--calls", help="Calls to request through POST /v1/outbound. / 外呼请求数。"),
    database_url: str | None = typer.Option(None, "--database-url", help="Database (default: a temporary SQLite file). / 数据库。"),
) -> None:
    """The API in process: outbound rate and latency, CDR paging. / 接口基准：外呼请求速率与延迟、话单分页。"""
    from waihu.bench.api import run_api_bench
    from waihu.cli.common import print_json

    print_json(run_api_bench(calls, database_url))


@app.command("screening")
def screening(
    contacts: int = typer.Option(100_000, "--contacts", min=1, help="Contacts in the campaign. / 任务联系人数。"),
    dnc: int = typer.Option(1_000_000, "--dnc", min=0, help="DNC entries. / 免打扰名单条数。"),
    seed: int = typer.Option(1, "--seed", help="Random seed. / 随机种子。"),
    as_json: bool = JsonOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Time screening a campaign's dial queue against every compliance rule. / 合规筛选基准测试。"""
    from waihu.bench.screening import run_screening_bench

    with errors(as_json):
        doc = run_screening_bench(platform(database_url), contacts, dnc, seed)
    if as_json:
        print_json(doc)
    else:
        for k, v in doc.items():
            out.print(f"{k}: {v}")
from waihu.cli.bench_routing import routing  # noqa: E402

app.command("routing")(routing)
from waihu.cli import bench_reports  # noqa: E402

app.command("reports")(bench_reports.reports)
