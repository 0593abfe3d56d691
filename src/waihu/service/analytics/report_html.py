"""Reports as one self-contained HTML file: plotly.js is embedded (deployments are offline)."""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

T = {  # bilingual labels
    "daily": "Daily report / 日报",
    "campaign": "Campaign report / 任务报告",
    "totals": "Key figures / 关键指标",
    "review": "Summary review / 总结复盘",
    "worked": "What worked / 有效做法",
    "failures": "Failure reasons / 失败原因",
    "quality": "List quality / 名单质量",
    "unsuitable": "Unsuitable for phone contact / 不适合电话联系",
    "agents": "Agent leaderboard / 座席排行榜",
    "hours": "By hour / 分时段",
    "outcomes": "Outcomes / 呼叫结果",
    "tags": "By tag / 按标签",
    "scripts": "By script version / 按话术版本",
    "funnel": "Funnel / 转化漏斗",
    "roi": "ROI / 投入产出",
    "heatmap": "Answer rate by weekday x hour / 星期×小时接听率",
    "alerts": "Alerts / 告警",
    "dates": "By date / 按日期",
    "campaigns": "By campaign / 按任务",
    "none": "None / 无",
}
KPI_ROWS = (
    "attempts",
    "answered",
    "contacts_dialled",
    "contacts_answered",
    "connect_rate",
    "abandon_rate",
    "aht_seconds",
    "avg_talk_seconds",
    "avg_wrap_seconds",
    "talk_occupancy",
    "utilisation",
    "conversions",
    "conversion_rate",
    "revenue",
    "complaint_rate",
)
CSS = """body{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f2f4f7}h1{font-size:22px}h2{font-size:17px;margin-top:28px}.chart{width:100%;max-width:1000px}"""


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}"
    return html.escape(str(v))


def table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return f"<p>{T['none']}</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fig(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(height=360, margin={"l": 50, "r": 20, "t": 40, "b": 40})
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False}))


def charts(doc: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    h = doc["hours"]
    if h:
        f = go.Figure(
            [
                go.Bar(name="attempts / 外呼", x=[r["hour"] for r in h], y=[r["attempts"] for r in h]),
                go.Bar(name="answered / 接听", x=[r["hour"] for r in h], y=[r["answered"] for r in h]),
            ]
        )
        f.update_layout(title=T["hours"], barmode="group", xaxis_title="hour / 小时")
        out["hours"] = _fig(f, "chart-hours")
    o = doc["outcomes"]
    if o:
        out["outcomes"] = _fig(
            go.Figure(
                [go.Pie(labels=[r["outcome"] for r in o], values=[r["attempts"] for r in o])],
                layout={"title": T["outcomes"]},
            ),
            "chart-outcomes",
        )
    a = [r for r in doc["agents"] if r["connected"] > 0][:20]
    if a:
        f = go.Figure(
            [
                go.Bar(name="conversions / 成交", x=[str(r["agent_code"]) for r in a], y=[r["conversions"] for r in a]),
                go.Bar(name="connected / 接通", x=[str(r["agent_code"]) for r in a], y=[r["connected"] for r in a]),
            ]
        )
        f.update_layout(title=T["agents"], barmode="group")
        out["agents"] = _fig(f, "chart-agents")
    if doc.get("funnel"):
        st = doc["funnel"]
        out["funnel"] = _fig(
            go.Figure(
                [go.Funnel(y=[s["stage"] for s in st], x=[s["contacts"] for s in st])], layout={"title": T["funnel"]}
            ),
            "chart-funnel",
        )
    if doc.get("heatmap"):
        z = [[None] * 24 for _ in range(7)]
        for c in doc["heatmap"]:
            z[c["weekday"] - 1][c["hour"]] = c["answer_rate"]
        f = go.Figure(
            [
                go.Heatmap(
                    z=z,
                    x=list(range(24)),
                    y=["Mon/一", "Tue/二", "Wed/三", "Thu/四", "Fri/五", "Sat/六", "Sun/日"],
                    colorscale="Blues",
                )
            ]
        )
        f.update_layout(title=T["heatmap"])
        out["heatmap"] = _fig(f, "chart-heatmap")
    return out


def render(doc: dict[str, Any], generated_at: str) -> str:
    title = T[doc["kind"]] + " — " + html.escape(str(doc["date"] or doc["campaign"]))
    ch = charts(doc)
    rv = doc["review"]
    tot = doc["totals"]
    parts = [
        f"<h1>{title}</h1><p>time zone / 时区: {html.escape(doc['timezone'])} · generated / 生成于 "
        f"{html.escape(generated_at)} · currency / 币种: {html.escape(doc['currency'])}</p>",
        f"<h2>{T['totals']}</h2>",
        table([{"metric / 指标": k, "value / 值": tot.get(k)} for k in KPI_ROWS], ["metric / 指标", "value / 值"]),
        f"<h2>{T['review']}</h2><h3>{T['worked']}</h3><ul>"
        + "".join(f"<li>{html.escape(w['en'])}<br>{html.escape(w['zh'])}</li>" for w in rv["what_worked"])
        + "</ul>",
        f"<h3>{T['failures']}</h3>",
        table(rv["failure_reasons"], ["reason", "attempts", "share"]),
        f"<h3>{T['quality']}</h3>",
        table(
            [{k: v for k, v in rv["list_quality"].items() if k != "rejected_by_code"}],
            ["files", "imported", "duplicates", "rejected", "invalid_numbers"],
        ),
        table([{"code": k, "rows": v} for k, v in rv["list_quality"]["rejected_by_code"].items()], ["code", "rows"]),
        f"<h3>{T['unsuitable']}</h3>",
        table([{"reason": k, "count": v} for k, v in rv["unsuitable"].items()], ["reason", "count"]),
    ]
    for key in ("hours", "outcomes"):
        parts += [f"<h2>{T[key]}</h2>", f'<div class="chart">{ch.get(key, "")}</div>']
    cols = [
        "attempts",
        "answered",
        "connected",
        "connect_rate",
        "abandon_rate",
        "aht_seconds",
        "talk_occupancy",
        "conversions",
        "conversion_rate",
        "complaint_rate",
    ]
    parts += [
        f"<h2>{T['agents']}</h2>",
        f'<div class="chart">{ch.get("agents", "")}</div>',
        table(doc["agents"], ["agent_code", *cols]),
        f"<h2>{T['hours']}</h2>",
        table(doc["hours"], ["hour", *cols]),
    ]
    for key, dim in (("dates", "date"), ("campaigns", "campaign"), ("tags", "tags"), ("scripts", "script")):
        if doc.get(key):
            parts += [f"<h2>{T[key]}</h2>", table(doc[key], [dim, *cols])]
    if doc.get("funnel"):
        parts += [
            f"<h2>{T['funnel']}</h2>",
            f'<div class="chart">{ch["funnel"]}</div>',
            table(
                [{**s, "drop_off": json.dumps(s["drop_off"], ensure_ascii=False)} for s in doc["funnel"]],
                ["stage", "contacts", "rate_from_previous", "rate_from_dialled", "drop_off"],
            ),
        ]
    if doc.get("roi"):
        r = doc["roi"]
        parts += [
            f"<h2>{T['roi']}</h2>",
            table(
                [r],
                [
                    "currency",
                    "labour",
                    "telecom",
                    "system",
                    "total_cost",
                    "conversions",
                    "cac",
                    "ltv",
                    "ltv_cac",
                    "meets_threshold",
                ],
            ),
        ]
    if "heatmap" in ch:
        parts += [f"<h2>{T['heatmap']}</h2>", f'<div class="chart">{ch["heatmap"]}</div>']
    parts += [
        f"<h2>{T['alerts']}</h2>",
        table(doc["alerts"], ["at", "rule", "severity", "subject", "value", "threshold"]),
    ]
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>' + "\n".join(parts) + "</body></html>"
    )
