"""``waihu demo``: watch a whole campaign run on the simulated telephone network."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from waihu.cli.common import DbOpt, JsonOpt, err, fail, out, platform, print_json
from waihu.domain.errors import ValidationError, WaihuError
from waihu.service.demo import DEFAULT_START, DemoConfig, run_demo


def demo(
    agents: int = typer.Option(20, "--agents", min=1, max=5000, help="Simulated agents. / 模拟座席数。"),
    contacts: int = typer.Option(2000, "--contacts", min=1, max=2_000_000, help="Generated contacts. / 生成的联系人数。"),
    mode: str = typer.Option("progressive", "--mode",
                             help="Dial mode: preview, progressive, power, predictive. / 外呼模式。"),
    seed: int = typer.Option(7, "--seed", help="Random seed: same seed, same result. / 随机种子。"),
    start: str | None = typer.Option(None, "--start",
                                     help="Virtual start time, ISO-8601 (default Monday 09:00 Asia/Shanghai). / 虚拟开始时间。"),
    hours: float | None = typer.Option(None, "--hours", help="Stop the shift after H hours. / 班次时长（小时）。"),
    as_json: bool = JsonOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Run a demo campaign on the simulated network and print its summary. / 在模拟网络上运行演示外呼任务。"""
    try:
        if mode not in ("preview", "progressive", "power", "predictive"):
            raise ValidationError("demo.invalid_mode", "mode must be preview, progressive, power or predictive")
        t0 = datetime.fromisoformat(start).timestamp() if start else DEFAULT_START
        if start and datetime.fromisoformat(start).tzinfo is None:
            raise ValidationError("demo.naive_start", "--start needs a UTC offset, e.g. 2026-01-05T09:00:00+08:00")
        cfg = DemoConfig(agents=agents, contacts=contacts, mode=mode, seed=seed, start=t0, hours=hours)
        p = platform(database_url)
        w0 = p.clock.now()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("simulating / 模拟中", total=contacts)

            def progress(done: int, total: int, sim: float) -> None:
                bar.update(task, completed=done, description=f"virtual {sim / 3600:.1f} h / 虚拟时间")

            summary = run_demo(p, cfg, progress)
        summary["wall_seconds"] = round(p.clock.now() - w0, 3)
    except ValueError as e:
        fail(ValidationError("demo.invalid_start", f"--start is not ISO-8601: {e}"), as_json)
        return
    except WaihuError as e:
        fail(e, as_json)
        return
    if as_json:
        print_json(summary)
        return
    t = Table(title=f"{summary['campaign']} — summary / 汇总")
    t.add_column("metric / 指标")
    t.add_column("value / 值", justify="right")
    for key in ("contacts", "attempts", "answered", "connected", "abandoned", "connect_rate", "abandon_rate",
                "occupancy", "contacts_finished", "contacts_exhausted", "contacts_pending", "sim_seconds",
                "wall_seconds"):
        v = summary[key]
        t.add_row(key, f"{v:.3f}" if isinstance(v, float) else str(v))
    out.print(t)
