"""``waihu bench ...``: benchmarks that print JSON. / 基准测试，输出 JSON。"""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks that print JSON. / 基准测试（输出 JSON）。", no_args_is_help=True)

from waihu.cli import bench_reports  # noqa: E402

app.command("reports")(bench_reports.reports)
