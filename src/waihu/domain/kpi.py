"""The one table of KPI definitions. Service code computes the counts in the database and
derives every rate here, so the CLI, the API and reports agree (see docs/analytics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from waihu.domain.metrics import abandon_rate, connect_rate, ratio, talk_occupancy


@dataclass(frozen=True)
class KpiDef:
    name: str
    label_en: str
    label_zh: str
    formula: str


KPIS: tuple[KpiDef, ...] = (
    KpiDef("attempts", "Attempts", "外呼次数", "count of CDRs (one per dial attempt)"),
    KpiDef("answered", "Answered", "接听", "CDRs with outcome connected or abandoned (a person answered)"),
    KpiDef("connected", "Connected", "接通座席", "CDRs with outcome connected (bridged to an agent)"),
    KpiDef("abandoned", "Abandoned", "放弃", "CDRs with outcome abandoned"),
    KpiDef("contacts_dialled", "Contacts dialled", "拨打客户数", "distinct contacts with at least one CDR"),
    KpiDef("contacts_answered", "Contacts answered", "接通客户数", "distinct contacts answered at least once"),
    KpiDef("connect_rate", "Connect rate", "接通率",
           "contacts_answered / contacts_dialled (a retry chain counts once)"),
    KpiDef("answer_rate", "Answer rate per attempt", "单次接听率", "answered / attempts"),
    KpiDef("abandon_rate", "Abandon rate", "放弃率", "abandoned / answered"),
    KpiDef("talk_seconds", "Talk time", "通话时长", "sum of CDR talk seconds"),
    KpiDef("wrap_seconds", "Wrap-up time", "话后处理时长", "sum of (disposition set_at - CDR end_at)"),
    KpiDef("avg_talk_seconds", "Average talk", "平均通话", "talk_seconds / connected"),
    KpiDef("avg_wrap_seconds", "Average wrap-up", "平均话后", "wrap_seconds / dispositions"),
    KpiDef("aht_seconds", "Average handle time", "平均处理时长", "(talk_seconds + wrap_seconds) / connected"),
    KpiDef("logged_seconds", "Logged-in time", "签入时长", "sum of agent_sessions (logout - login)"),
    KpiDef("talk_occupancy", "Talk occupancy", "通话占用率",
           "talk_seconds / logged_seconds (dialer view; not Erlang's occupancy, which counts wrap-up)"),
    KpiDef("utilisation", "Utilisation", "利用率", "(talk_seconds + wrap_seconds) / logged_seconds"),
    KpiDef("dispositions", "Dispositions", "小结数", "dispositions recorded"),
    KpiDef("conversions", "Conversions", "成交数", "dispositions whose code has success = true"),
    KpiDef("conversion_rate", "Conversion rate", "成交率", "conversions / connected"),
    KpiDef("revenue", "Revenue", "收入", "conversions x average order value (analytics settings)"),
    KpiDef("complaints", "Complaints", "投诉数", "dispositions whose code is a complaint code (settings)"),
    KpiDef("complaint_rate", "Complaint rate", "投诉率", "complaints / connected"),
)

COUNTS = ("attempts", "answered", "connected", "abandoned", "contacts_dialled", "contacts_answered",
          "dispositions", "conversions", "complaints")


def derive(c: dict[str, Any], average_order: Decimal) -> dict[str, Any]:
    """All KPIs from the raw sums of one group: ``c`` holds COUNTS plus talk, wrap and logged seconds."""
    talk = float(c.get("talk_seconds") or 0)
    wrap = float(c.get("wrap_seconds") or 0)
    logged = float(c.get("logged_seconds") or 0)
    n = {k: int(c.get(k) or 0) for k in COUNTS}
    conn = n["connected"]
    out: dict[str, Any] = dict(n)
    out.update(
        connect_rate=round(connect_rate(n["contacts_answered"], n["contacts_dialled"]), 6),
        answer_rate=round(ratio(n["answered"], n["attempts"]), 6),
        abandon_rate=round(abandon_rate(n["abandoned"], n["answered"]), 6),
        talk_seconds=round(talk, 3),
        wrap_seconds=round(wrap, 3),
        avg_talk_seconds=round(ratio(talk, conn), 3),
        avg_wrap_seconds=round(ratio(wrap, n["dispositions"]), 3),
        aht_seconds=round(ratio(talk + wrap, conn), 3),
        logged_seconds=round(logged, 3),
        talk_occupancy=round(min(1.0, talk_occupancy(talk, logged)), 6),
        utilisation=round(min(1.0, ratio(talk + wrap, logged)), 6),
        conversion_rate=round(ratio(n["conversions"], conn), 6),
        revenue=str((average_order * n["conversions"]).quantize(Decimal("0.01"))),
        complaint_rate=round(ratio(n["complaints"], conn), 6),
    )
    return out
