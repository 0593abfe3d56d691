"""``waihu bench reports``: time the reports on N synthetic CDRs. / 报表性能基准。"""

from __future__ import annotations

import typer

from waihu.cli.common import DbOpt, JsonOpt, err, errors, out, platform, print_json


def reports(
    cdrs: int = typer.Option(1_000_000, "--cdrs", min=1, help="CDRs to generate. / 生成话单数。"),
    days: int = typer.Option(90, "--days", min=1, help="Days they spread over. / 天数。"),
    reuse: bool = typer.Option(False, "--reuse", help="Reuse an earlier data set of this size. / 复用已有数据。"),
    as_json: bool = JsonOpt, database_url: str | None = DbOpt,
) -> None:
    """Generate CDRs (COPY on PostgreSQL) and print the seconds per report. / 生成话单并计时各报表。"""
    from waihu.bench.reports import run

    with errors(as_json):
        p = platform(database_url)
        doc = run(p, cdrs, days, reuse, progress=lambda k: err.print(f"{k} CDRs written / 已写入", end="\r"))
    if as_json:
        print_json(doc)
    else:
        out.print_json(data=doc)
