"""Reports as XLSX (xlsxwriter, with native charts), CSV and JSON, the writer for every format, and
``produce``: one report built, audited and written, as the console and the API hand it out."""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped]

from waihu.adapters.storage.models import Campaign
from waihu.adapters.storage.uow import UnitOfWork
from waihu.domain.errors import ErrorDetail, ValidationError
from waihu.service.analytics.report_html import KPI_ROWS, T, render

COLS = ["attempts", "answered", "connected", "contacts_dialled", "contacts_answered", "connect_rate", "abandon_rate",
        "aht_seconds", "avg_talk_seconds", "avg_wrap_seconds", "talk_occupancy", "conversions", "conversion_rate",
        "revenue", "complaints", "complaint_rate"]
SECTIONS = (("agents", "agent_code"), ("hours", "hour"), ("outcomes", "outcome"), ("dispositions", "disposition"),
            ("tags", "tags"), ("scripts", "script"), ("dates", "date"), ("campaigns", "campaign"))
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument"
                                                          ".spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8", "json": "application/json"}
FORMATS = tuple(MEDIA_TYPES)


def _sheet(wb: Any, name: str, rows: list[dict[str, Any]], cols: list[str], bold: Any) -> Any:
    ws = wb.add_worksheet(name[:31])
    for j, c in enumerate(cols):
        ws.write(0, j, c, bold)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(cols):
            v = r.get(c)
            ws.write(i, j, json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v)
    ws.set_column(0, len(cols) - 1, 14)
    return ws


def write_xlsx(doc: dict[str, Any], path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    title = T[doc["kind"]] + " — " + str(doc["date"] or doc["campaign"])
    ws = _sheet(wb, "Summary 汇总", [{"metric / 指标": k, "value / 值": doc["totals"].get(k)} for k in KPI_ROWS],
                ["metric / 指标", "value / 值"], bold)
    ws.write(len(KPI_ROWS) + 2, 0, title, bold)
    ws.write(len(KPI_ROWS) + 3, 0, f"time zone / 时区: {doc['timezone']}")
    rv = doc["review"]
    review_rows = ([{"section": T["worked"], "item": w["en"] + " / " + w["zh"], "value": ""} for w in rv["what_worked"]]
                   + [{"section": T["failures"], "item": f["reason"], "value": f["attempts"]}
                      for f in rv["failure_reasons"]]
                   + [{"section": T["quality"], "item": k, "value": v} for k, v in rv["list_quality"].items()]
                   + [{"section": T["unsuitable"], "item": k, "value": v} for k, v in rv["unsuitable"].items()])
    _sheet(wb, "Review 复盘", review_rows, ["section", "item", "value"], bold)
    for key, dim in SECTIONS:
        rows = doc.get(key) or []
        if not rows:
            continue
        sh = _sheet(wb, f"{key.title()} {T[key].split(' / ')[-1]}" if key in T else key, rows, [dim, *COLS], bold)
        if key == "hours":
            chart = wb.add_chart({"type": "column"})
            for col, label in ((1, "attempts / 外呼"), (2, "answered / 接听")):
                chart.add_series({"name": label, "categories": [sh.name, 1, 0, len(rows), 0],
                                  "values": [sh.name, 1, col, len(rows), col]})
            chart.set_title({"name": T["hours"]})
            sh.insert_chart(len(rows) + 3, 1, chart)
    if doc.get("funnel"):
        _sheet(wb, "Funnel 漏斗", doc["funnel"], ["stage", "contacts", "rate_from_previous", "rate_from_dialled",
                                                 "drop_off"], bold)
    if doc.get("roi"):
        r = doc["roi"]
        _sheet(wb, "ROI 投入产出", [{"item": k, "value": v} for k, v in r.items() if k != "segments"],
               ["item", "value"], bold)
    if doc.get("heatmap"):
        _sheet(wb, "Slots 时段", doc["heatmap"], ["weekday", "hour", "attempts", "answered", "answer_rate",
                                                 "answer_ci", "conversion_rate", "conversion_ci"], bold)
    _sheet(wb, "Alerts 告警", doc["alerts"], ["at", "rule", "severity", "subject", "value", "threshold"], bold)
    wb.close()


def write_csv(doc: dict[str, Any], path: Path) -> None:
    """One long table: section, dimension value, then the KPI columns (UTF-8 with BOM for Excel)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["section", "key", *COLS])
        w.writerow(["totals", "", *[doc["totals"].get(c) for c in COLS]])
        for key, dim in SECTIONS:
            for r in doc.get(key) or []:
                w.writerow([key, r.get(dim), *[r.get(c) for c in COLS]])


def write(doc: dict[str, Any], path: Path, fmt: str, generated_at: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError("report.invalid_format", f"format must be one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        path.write_text(render(doc, generated_at), encoding="utf-8")
    elif fmt == "xlsx":
        write_xlsx(doc, path)
    elif fmt == "json":
        path.write_text(json.dumps({**doc, "generated_at": generated_at}, ensure_ascii=False, default=str),
                        encoding="utf-8")
    else:
        write_csv(doc, path)


@dataclass(frozen=True)
class ReportFile:
    data: bytes
    filename: str
    media_type: str


def produce(uow: UnitOfWork, now: float, fmt: str, *, day: str | None = None, campaign: Campaign | None = None,
            tz: str | None = None) -> ReportFile:
    """The daily report of ``day`` (YYYY-MM-DD, the tenant's time zone) or the report of
    ``campaign``, built now as one file; the download is written to the audit log (the caller
    commits). Every problem with the request is reported at once."""
    from waihu.service.analytics.report_data import build
    from waihu.service.tenants import audit

    problems = []
    if fmt not in FORMATS:
        problems.append(ErrorDetail("report.invalid_format", f"format must be one of {', '.join(FORMATS)}",
                                    field="format"))
    if (day is None) == (campaign is None):
        raise ValueError("a report is of one day or of one campaign")
    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError:
            problems.append(ErrorDetail("report.invalid_date", "the date must be YYYY-MM-DD", field="day"))
    if problems:
        raise ValidationError(problems[0].code if len(problems) == 1 else "report.invalid", "the report was not made",
                              problems)
    doc = build(uow, day=day) if day is not None else build(uow, campaign=campaign)
    stem = f"daily-{day}" if day is not None else f"campaign-{campaign.id if campaign else ''}"
    audit(uow, "report.download", "report", stem, now, format=fmt)
    generated = datetime.fromtimestamp(now, ZoneInfo(tz or doc["timezone"])).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{stem}.{fmt}"
        write(doc, path, fmt, generated)
        data = path.read_bytes()
    return ReportFile(data, f"{stem}.{fmt}", MEDIA_TYPES[fmt])
