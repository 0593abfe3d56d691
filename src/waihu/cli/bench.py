"""``waihu bench ...``: benchmarks that print JSON. / 基准测试，输出 JSON。"""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks that print JSON. / 基准测试（输出 JSON）。", no_args_is_help=True)


@app.command("api")
def api(
    calls: int = typer.Option(300, "--calls", help="Calls to request through POST /v1/outbound. / 外呼请求数。"),
    database_url: str | None = typer.Option(None, "--database-url", help="Database (default: a temporary SQLite file). / 数据库。"),
) -> None:
    """The API in process: outbound rate and latency, CDR paging. / 接口基准：外呼请求速率与延迟、话单分页。"""
    from waihu.bench.api import run_api_bench
    from waihu.cli.common import print_json

    print_json(run_api_bench(calls, database_url))
