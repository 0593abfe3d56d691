"""``waihu bench routing``: routing strategies on a scenario. / 线路路由策略基准测试。"""

from __future__ import annotations

from pathlib import Path

import typer

from waihu.bench.routing import STRATEGIES, bench
from waihu.bench.routing_scenario import load
from waihu.cli.common import JsonOpt, errors, out, print_json
from waihu.domain.errors import ValidationError


def routing(
    scenario: Path = typer.Option(..., "--scenario", help="Scenario YAML file. / 场景 YAML 文件。"),
    strategy: list[str] = typer.Option(
        [], "--strategy", help="Only these strategies (repeatable). / 仅运行这些策略。"),
    as_json: bool = JsonOpt,
) -> None:
    """Compare round_robin, static_priority, adaptive and oracle on the same draws.
    / 在相同随机抽样上比较轮询、静态优先级、自适应与先知策略。"""
    with errors(as_json):
        chosen = tuple(strategy) or STRATEGIES
        unknown = [s for s in chosen if s not in STRATEGIES]
        if unknown:
            raise ValidationError("bench.unknown_strategy", f"unknown strategy {unknown[0]!r}")
        result = bench(load(scenario), chosen)
    if as_json:
        print_json(result)
        return
    for name, r in result["strategies"].items():
        out.print(f"[bold]{name}[/]: answered={r['answered']} connect_rate={r['connect_rate']} "
                  f"line_loss_rate={r['line_loss_rate']} cost={r['cost_total']} net_value={r['net_value']}")
        for e in r["events"]:
            out.print(f"  {e['kind']} on {e['trunk']} @{e['start_minute']}min: "
                      f"detection={e.get('detection_seconds')}s readmit={e.get('readmit_seconds')}s")
