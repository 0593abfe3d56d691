"""``waihu bench ...``: benchmarks that print JSON. / 基准测试，输出 JSON。"""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="Benchmarks that print JSON. / 基准测试（输出 JSON）。", no_args_is_help=True)


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
