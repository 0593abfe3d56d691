"""``waihu import``: bring contacts in from CSV or XLSX files. / 导入联系人。"""

from __future__ import annotations

from pathlib import Path

import typer

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, fail, out, platform, print_json, tenant_id
from waihu.domain.errors import ErrorDetail, ValidationError, WaihuError
from waihu.service.import_contacts import StrictImportRejected, import_file

app = typer.Typer(help="Import data. / 导入数据。", no_args_is_help=True)


def parse_overrides(items: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    bad = []
    for item in items:
        field, sep, header = item.partition("=")
        if not sep or not field.strip() or not header.strip():
            bad.append(ErrorDetail("import.bad_column_override", f"expected FIELD=HEADER, got {item!r}",
                                   field=item))
        else:
            overrides[field.strip()] = header.strip()
    if bad:
        raise ValidationError("import.bad_column_override", "invalid --column option", bad)
    return overrides


@app.command("contacts")
def contacts(
    file: Path = typer.Argument(..., help="CSV or XLSX file. / CSV 或 XLSX 文件。"),
    campaign: str | None = typer.Option(None, "--campaign", help="Add the contacts to this campaign. / 加入外呼任务。"),
    strict: bool = typer.Option(False, "--strict", help="Import nothing if any row is bad. / 有错误行则全部不导入。"),
    encoding: str | None = typer.Option(None, "--encoding", help="Force the CSV encoding. / 指定 CSV 编码。"),
    sheet: str | None = typer.Option(None, "--sheet",
                                     help="XLSX worksheet to read (default: the first). / 读取的工作表（默认第一个）。"),
    column: list[str] = typer.Option([], "--column", help="FIELD=HEADER: map a column. / 指定列映射。"),
    as_json: bool = JsonOpt,
    tenant: str | None = TenantOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Import contacts (validated, normalised, deduplicated). / 导入联系人（校验、规范化、去重）。"""
    empty = {"imported": 0, "duplicates": 0, "rejected": []}
    try:
        overrides = parse_overrides(column)
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            result = import_file(uow, file, p.clock.now(), campaign=campaign, strict=strict, encoding=encoding,
                                 column_overrides=overrides or None, default_region=p.settings.default_region,
                                 sheet=sheet)
    except StrictImportRejected as e:
        fail(e, as_json, extra={**empty, "rejected": [d.as_dict() for d in e.details]})
        return
    except WaihuError as e:
        fail(e, as_json, extra=empty)
        return
    doc = result.as_dict()
    if as_json:
        print_json(doc)
        return
    out.print(f"imported / 新增: {result.imported}   duplicates merged / 合并重复: {result.duplicates}   "
              f"rejected / 拒绝: {len(result.rejected)}")
    for d in result.rejected[:50]:
        out.print(f"  row {d.row} [{d.field}] {d.code}: {d.message}")
    if len(result.rejected) > 50:
        out.print(f"  ... {len(result.rejected) - 50} more (use --json) / 更多请用 --json")
