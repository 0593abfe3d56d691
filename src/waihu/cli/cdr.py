"""``waihu cdr``: call detail records. / 话单。"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

import typer

from waihu.cli.common import DbOpt, TenantOpt, err, errors, platform, tenant_id
from waihu.domain.timeutil import parse_aware
from waihu.service.campaigns import get_campaign
from waihu.service.cdrs import COLUMNS, export_cdrs

app = typer.Typer(help="Call detail records. / 话单。", no_args_is_help=True)


def _when(v: str | None, name: str) -> datetime | None:
    return parse_aware(v, name, "cdr.invalid_time", "cdr.naive_time")


@app.command("export")
def export(
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign. / 仅该任务。"),
    since: str | None = typer.Option(None, "--since", help="ISO-8601 time with offset. / 开始时间。"),
    until: str | None = typer.Option(None, "--until", help="ISO-8601 time with offset. / 结束时间。"),
    output: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: standard output). / 输出文件。"),
    unmasked: bool = typer.Option(False, "--unmasked", help="Full phone numbers (audited). / 显示完整号码（审计）。"),
    tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Export CDRs as CSV (UTF-8 with BOM, opens in Excel). / 导出话单 CSV。"""
    with errors(False):
        s, u = _when(since, "--since"), _when(until, "--until")
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            cid = get_campaign(uow, campaign).id if campaign else None
            fh = output.open("w", encoding="utf-8-sig", newline="") if output else sys.stdout
            try:
                w = csv.DictWriter(fh, COLUMNS)
                w.writeheader()
                n = 0
                for row in export_cdrs(uow, p.clock.now(), campaign_id=cid, since=s, until=u, unmasked=unmasked):
                    w.writerow(row)
                    n += 1
            finally:
                if output:
                    fh.close()
        err.print(f"{n} CDRs exported / 已导出 {n} 条话单")
