"""Table-driven tests of the compliance decision and of rule validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from waihu.domain.compliance import Attempt, Candidate, Verdict, decide
from waihu.domain.compliance_rules import build_rules
from waihu.domain.errors import ValidationError


def sh(text: str) -> float:
    """A Shanghai local time 'YYYY-MM-DD HH:MM' as POSIX seconds."""
    return datetime.fromisoformat(text.replace(" ", "T") + "+08:00").timestamp()


MON = "2026-01-05"
RULES: dict[str, Any] = {"holidays": ["2026-01-06"], "workdays": ["2026-01-10"], "weekdays": [1, 2, 3, 4, 5],
                         "lunch_break": "12:00-13:00", "rolling_max": 2, "rolling_minutes": 10,
                         "min_gap_seconds": 120, "marketed_days": 30, "max_attempts": 4,
                         "excluded_regions": ["西藏"]}


def hist(*times: str, chain: str | None = None, campaign: str = "c1", marketing: bool = True) -> tuple[Attempt, ...]:
    return tuple(Attempt(sh(t), chain, campaign, marketing, f"call-{t}") for t in times)


CASES: list[tuple[str, dict[str, Any], str, str, tuple[str, ...], str | None]] = [
    # (name, candidate overrides, at, verdict, reasons, until)
    ("inside window", {}, f"{MON} 10:00", "allow", (), f"{MON} 10:00"),
    ("window opens at 09:00 sharp", {}, f"{MON} 09:00", "allow", (), f"{MON} 09:00"),
    ("before 09:00", {}, f"{MON} 08:59", "defer", ("compliance.outside_calling_window",), f"{MON} 09:00"),
    ("21:00 is outside", {}, f"{MON} 21:00", "defer", ("compliance.outside_calling_window",), "2026-01-07 09:00"),
    ("holiday skips to next day", {}, "2026-01-06 10:00", "defer", ("compliance.holiday",), "2026-01-07 09:00"),
    ("saturday skips to monday", {}, "2026-01-17 10:00", "defer", ("compliance.outside_calling_window",),
     "2026-01-19 09:00"),
    ("make-up workday on saturday", {}, "2026-01-10 10:00", "allow", (), "2026-01-10 10:00"),
    ("lunch break", {}, f"{MON} 12:30", "defer", ("compliance.lunch_break",), f"{MON} 13:00"),
    ("daily cap (2 for marketing)", {"history": hist(f"{MON} 09:10", f"{MON} 09:40")}, f"{MON} 11:00", "defer",
     ("compliance.daily_cap",), "2026-01-07 09:00"),
    ("a retry chain counts once", {"history": hist(f"{MON} 09:10", f"{MON} 09:10", chain="k")
                                   + hist(f"{MON} 09:11", chain="k")}, f"{MON} 11:00", "allow", (), f"{MON} 11:00"),
    ("rolling cap", {"history": hist(f"{MON} 09:58", f"{MON} 09:55", campaign="c2", marketing=False)},
     f"{MON} 10:00", "defer", ("compliance.daily_cap", "compliance.rolling_cap"),
     "2026-01-07 09:00"),
    ("min gap", {"history": hist(f"{MON} 09:59")}, f"{MON} 10:00", "defer", ("compliance.min_gap",),
     f"{MON} 10:01"),
    ("marketed recently by another campaign", {"history": hist("2025-12-20 10:00", campaign="other")},
     f"{MON} 10:00", "defer", ("compliance.marketed_recently",), "2026-01-19 10:00"),
    ("permanent DNC blocks", {"dnc_until": float("inf")}, f"{MON} 10:00", "block", ("compliance.dnc",), None),
    ("temporary DNC defers", {"dnc_until": sh(f"{MON} 15:00")}, f"{MON} 10:00", "defer", ("compliance.dnc",),
     f"{MON} 15:00"),
    ("expired DNC allows", {"dnc_until": sh(f"{MON} 09:00")}, f"{MON} 10:00", "allow", (), f"{MON} 10:00"),
    ("region excluded", {"region": "西藏"}, f"{MON} 10:00", "block", ("compliance.region_excluded",), None),
    ("max attempts", {"attempts": 4}, f"{MON} 10:00", "block", ("compliance.max_attempts",), None),
    ("all reasons at once", {"attempts": 4, "dnc_until": float("inf"), "region": "西藏"}, f"{MON} 22:00", "block",
     ("compliance.outside_calling_window", "compliance.max_attempts", "compliance.dnc",
      "compliance.region_excluded"), None),
    ("callee time zone", {"timezone": "America/New_York"}, f"{MON} 10:00", "defer",
     ("compliance.outside_calling_window",), f"{MON} 22:00"),
    ("unknown zone falls back to the rules' zone", {"timezone": "Mars/Base"}, f"{MON} 10:00", "allow", (),
     f"{MON} 10:00"),
]


@pytest.mark.parametrize(("name", "over", "at", "verdict", "reasons", "until"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, over: dict[str, Any], at: str, verdict: str, reasons: tuple[str, ...],
                        until: str | None) -> None:
    rules = build_rules({}, RULES, "marketing")
    d = decide(Candidate(phone_hash="h", campaign_id="c1", **over), rules, sh(at))
    assert d.verdict is Verdict(verdict)
    assert d.reasons == reasons
    assert d.until == (sh(until) if until is not None else None)


def test_consent_required() -> None:
    rules = build_rules({}, {"require_consent": True}, "marketing")
    assert decide(Candidate("h", "c1"), rules, sh(f"{MON} 10:00")).reasons == ("compliance.no_consent",)
    assert decide(Candidate("h", "c1", consent=True), rules, sh(f"{MON} 10:00")).allow


def test_layers_campaign_over_job_type_over_tenant() -> None:
    tenant = {"windows": ["08:00-20:00"], "job_types": {"collection": {"windows": ["10:00-18:00"]}}}
    assert build_rules(tenant, None, "survey").windows == ((480, 1200),)
    assert build_rules(tenant, None, "collection").windows == ((600, 1080),)
    assert build_rules(tenant, {"windows": ["11:00-12:00"]}, "collection").windows == ((660, 720),)
    assert build_rules(tenant, None, "marketing").max_per_day == 2
    assert build_rules({"max_per_day": 3}, None, "marketing").max_per_day == 3


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"windows": ["25:00-26:00"]}, "compliance.invalid_time", "tenant.windows"),
    ({"windows": ["10:00-09:00"]}, "compliance.invalid_window", "tenant.windows"),
    ({"windows": "9-21"}, "compliance.invalid_time", "tenant.windows"),
    ({"max_per_day": -1}, "compliance.invalid_cap", "tenant.max_per_day"),
    ({"rolling_max": 0}, "compliance.invalid_cap", "tenant.rolling_max"),
    ({"min_gap_seconds": -5}, "compliance.invalid_cap", "tenant.min_gap_seconds"),
    ({"timezone": "Mars/Base"}, "compliance.unknown_timezone", "tenant.timezone"),
    ({"holidays": ["2026-02-30"]}, "compliance.invalid_date", "tenant.holidays"),
    ({"weekdays": [0, 8]}, "compliance.invalid_weekdays", "tenant.weekdays"),
    ({"retention_days": 30}, "compliance.invalid_cap", "tenant.retention_days"),
    ({"lunch_brake": "12:00-13:00"}, "compliance.unknown_setting", "tenant.lunch_brake"),
    ({"job_types": {"marketing": {"max_per_day": "two"}}}, "compliance.invalid_cap",
     "tenant.job_types.marketing.max_per_day"),
]


@pytest.mark.parametrize(("cfg", "code", "field"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_rules_are_rejected_with_details(cfg: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        build_rules(cfg, None, "marketing")
    assert e.value.code == "compliance.invalid_rules"
    assert (code, field) in {(d.code, d.field) for d in e.value.details}


def test_lunch_break_covering_the_window_is_rejected() -> None:
    with pytest.raises(ValidationError) as e:
        build_rules({"windows": ["12:00-13:00"], "lunch_break": "11:00-14:00"}, None, "other")
    assert e.value.details[0].field == "lunch_break"
