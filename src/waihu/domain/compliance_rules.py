"""Compliance rule configuration: reason codes, the rule value types and their validation.

Rules come in layers, each a plain dict (JSON in the database): built-in defaults, the
tenant's ``settings["compliance"]``, the tenant's per-job-type overrides
(``settings["compliance"]["job_types"][job_type]``) and the campaign's
``options["compliance"]``. A later layer overrides keys of an earlier one. ``build_rules``
validates every layer and raises one ``ValidationError`` listing every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from waihu.domain.errors import ErrorDetail, ValidationError


class Reason(StrEnum):
    """Stable reason codes for a held-back dial (documented in docs/compliance.md)."""

    OUTSIDE_WINDOW = "compliance.outside_calling_window"
    HOLIDAY = "compliance.holiday"
    LUNCH_BREAK = "compliance.lunch_break"
    DAILY_CAP = "compliance.daily_cap"
    ROLLING_CAP = "compliance.rolling_cap"
    MIN_GAP = "compliance.min_gap"
    MARKETED_RECENTLY = "compliance.marketed_recently"
    MAX_ATTEMPTS = "compliance.max_attempts"
    DNC = "compliance.dnc"
    REGION_EXCLUDED = "compliance.region_excluded"
    NO_CONSENT = "compliance.no_consent"
    ERASED = "compliance.erased"  # the person's data was erased while a dialer held the number


DAY = 86400.0
_HHMM = re.compile(r"^(\d{2}):(\d{2})$")
KNOWN_KEYS = {"timezone", "windows", "weekdays", "holidays", "workdays", "lunch_break", "max_per_day",
              "rolling_max", "rolling_minutes", "min_gap_seconds", "marketed_days", "max_attempts",
              "excluded_regions", "require_consent", "retention_days", "job_types"}
# China: 09:00-21:00 every day; 2 marketing calls per callee and local day (industry guidance)
DEFAULTS: dict[str, Any] = {
    "timezone": "Asia/Shanghai", "windows": ["09:00-21:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "holidays": [], "workdays": [], "lunch_break": None, "max_per_day": 3, "rolling_max": None,
    "rolling_minutes": 5, "min_gap_seconds": 0, "marketed_days": None, "max_attempts": None,
    "excluded_regions": [], "require_consent": False,
    "retention_days": 365,  # CDRs, recordings, consent evidence: kept at least this long (>= 180)
}
JOB_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {"marketing": {"max_per_day": 2}}


@dataclass(frozen=True)
class Rules:
    """Every rule that applies to one campaign's dials (all times in the callee's local time)."""

    timezone: str = "Asia/Shanghai"  # used when the number's own time zone is unknown
    windows: tuple[tuple[int, int], ...] = ((540, 1260),)  # [start, end) minutes of the day
    weekdays: frozenset[int] = frozenset(range(1, 8))  # ISO weekdays 1 = Monday
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up workdays (调休): callable even on a weekend
    lunch_break: tuple[int, int] | None = None
    max_per_day: int | None = 3
    rolling_max: int | None = None
    rolling_seconds: float = 300.0
    min_gap_seconds: float = 0.0
    marketed_days: int | None = None
    max_attempts: int | None = None
    excluded_regions: frozenset[str] = frozenset()
    require_consent: bool = False
    retention_days: int = 365
    marketing: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _minutes(text: Any, where: str, problems: list[ErrorDetail]) -> int | None:
    m = _HHMM.match(text) if isinstance(text, str) else None
    if m is None or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2]) != 0):
        problems.append(ErrorDetail("compliance.invalid_time", f"{text!r} is not a time HH:MM (00:00-24:00)",
                                    field=where))
        return None
    return int(m[1]) * 60 + int(m[2])


def _span(text: Any, where: str, problems: list[ErrorDetail]) -> tuple[int, int] | None:
    if not isinstance(text, str) or text.count("-") != 1:
        problems.append(ErrorDetail("compliance.invalid_window", f"{text!r} is not a window HH:MM-HH:MM",
                                    field=where))
        return None
    a, b = (_minutes(x.strip(), where, problems) for x in text.split("-"))
    if a is None or b is None:
        return None
    if a >= b:
        problems.append(ErrorDetail("compliance.invalid_window", f"window {text!r} ends before it starts",
                                    field=where))
        return None
    return a, b


def _dates(raw: Any, where: str, problems: list[ErrorDetail]) -> frozenset[date]:
    out: set[date] = set()
    for v in raw if isinstance(raw, list) else [raw]:
        try:
            out.add(date.fromisoformat(str(v)))
        except ValueError:
            problems.append(ErrorDetail("compliance.invalid_date", f"{v!r} is not a date YYYY-MM-DD", field=where))
    return frozenset(out)


def _count(v: Any, where: str, problems: list[ErrorDetail], *, minimum: int = 0) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        problems.append(ErrorDetail("compliance.invalid_cap", f"{where} must be an integer >= {minimum}",
                                    field=where))
        return None
    return v


def check_timezone(name: Any, where: str, problems: list[ErrorDetail]) -> bool:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(ErrorDetail("compliance.unknown_timezone", f"unknown time zone {name!r}", field=where))
        return False
    return True


def subtract(windows: tuple[tuple[int, int], ...], gap: tuple[int, int] | None) -> tuple[tuple[int, int], ...]:
    if gap is None:
        return windows
    out: list[tuple[int, int]] = []
    for a, b in windows:
        if gap[1] <= a or gap[0] >= b:
            out.append((a, b))
            continue
        if a < gap[0]:
            out.append((a, gap[0]))
        if gap[1] < b:
            out.append((gap[1], b))
    return tuple(out)


def merged(*layers: dict[str, Any] | None, job_type: str = "other") -> dict[str, Any]:
    """Defaults <- tenant <- tenant per job type <- campaign (the campaign layer may not hold job_types)."""
    cfg = dict(DEFAULTS)
    cfg.update(JOB_TYPE_DEFAULTS.get(job_type, {}))
    tenant = layers[0] if layers else None
    if tenant:
        cfg.update({k: v for k, v in tenant.items() if k != "job_types"})
        cfg.update((tenant.get("job_types") or {}).get(job_type, {}))
    for layer in layers[1:]:
        cfg.update(layer or {})
    return cfg


def validate_layer(raw: Any, where: str) -> list[ErrorDetail]:
    """Problems in one configuration layer (a tenant's or a campaign's compliance dict)."""
    problems: list[ErrorDetail] = []
    if not isinstance(raw, dict):
        return [ErrorDetail("compliance.invalid_config", "compliance settings must be a mapping", field=where)]
    for k in sorted(set(raw) - KNOWN_KEYS):
        problems.append(ErrorDetail("compliance.unknown_setting", f"unknown setting {k!r}", field=f"{where}.{k}"))
    for jt, sub in (raw.get("job_types") or {}).items():
        problems += validate_layer(sub, f"{where}.job_types.{jt}")
        if isinstance(sub, dict) and "job_types" in sub:
            problems.append(ErrorDetail("compliance.invalid_config", "job types do not nest",
                                        field=f"{where}.job_types.{jt}"))
    _parse({k: v for k, v in raw.items() if k != "job_types"}, where, problems)
    return problems


def _parse(cfg: dict[str, Any], where: str, problems: list[ErrorDetail]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "timezone" in cfg and check_timezone(cfg["timezone"], f"{where}.timezone", problems):
        out["timezone"] = str(cfg["timezone"])
    if "windows" in cfg:
        raw = cfg["windows"] if isinstance(cfg["windows"], list) else [cfg["windows"]]
        spans = [_span(w, f"{where}.windows", problems) for w in raw]
        if not raw:
            problems.append(ErrorDetail("compliance.invalid_window", "at least one window", field=f"{where}.windows"))
        out["windows"] = tuple(sorted(s for s in spans if s is not None))
    if "weekdays" in cfg:
        days = cfg["weekdays"]
        if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
            problems.append(ErrorDetail("compliance.invalid_weekdays", "weekdays are a non-empty list of 1..7",
                                        field=f"{where}.weekdays"))
        else:
            out["weekdays"] = frozenset(days)
    for key in ("holidays", "workdays"):
        if key in cfg:
            out[key] = _dates(cfg[key], f"{where}.{key}", problems)
    if cfg.get("lunch_break") is not None:
        out["lunch_break"] = _span(cfg["lunch_break"], f"{where}.lunch_break", problems)
    for key, minimum in (("max_per_day", 1), ("rolling_max", 1), ("rolling_minutes", 1), ("min_gap_seconds", 0),
                         ("marketed_days", 1), ("max_attempts", 1), ("retention_days", 180)):
        if key in cfg:
            out[key] = _count(cfg[key], f"{where}.{key}", problems, minimum=minimum)
    if "excluded_regions" in cfg:
        regs = cfg["excluded_regions"]
        if not isinstance(regs, list) or any(not isinstance(r, str) or not r.strip() for r in regs):
            problems.append(ErrorDetail("compliance.invalid_region", "regions are a list of names",
                                        field=f"{where}.excluded_regions"))
        else:
            out["excluded_regions"] = frozenset(r.strip() for r in regs)
    if "require_consent" in cfg and not isinstance(cfg["require_consent"], bool):
        problems.append(ErrorDetail("compliance.invalid_config", "require_consent is true or false",
                                    field=f"{where}.require_consent"))
    return out


def build_rules(tenant: dict[str, Any] | None, campaign: dict[str, Any] | None, job_type: str) -> Rules:
    """The rules for one campaign; raises ``ValidationError`` (with every problem) on bad config."""
    problems = validate_layer(tenant or {}, "tenant") + validate_layer(campaign or {}, "campaign")
    if campaign and "job_types" in campaign:
        problems.append(ErrorDetail("compliance.invalid_config", "job types belong to the tenant settings",
                                    field="campaign.job_types"))
    if problems:
        raise ValidationError("compliance.invalid_rules", "invalid compliance rules", problems)
    cfg = merged(tenant, campaign, job_type=job_type)
    p = _parse({k: v for k, v in cfg.items() if k != "job_types"}, "rules", problems)
    windows = subtract(p["windows"], p.get("lunch_break"))
    if not windows:
        problems.append(ErrorDetail("compliance.invalid_window", "the lunch break covers every window",
                                    field="lunch_break"))
    if problems:
        raise ValidationError("compliance.invalid_rules", "invalid compliance rules", problems)
    return Rules(timezone=p["timezone"], windows=windows, weekdays=p["weekdays"], holidays=p["holidays"],
                 workdays=p["workdays"], lunch_break=p.get("lunch_break"), max_per_day=p["max_per_day"],
                 rolling_max=p["rolling_max"], rolling_seconds=float(p["rolling_minutes"]) * 60.0,
                 min_gap_seconds=float(p["min_gap_seconds"]), marketed_days=p["marketed_days"],
                 max_attempts=p["max_attempts"], excluded_regions=p["excluded_regions"],
                 require_consent=bool(cfg["require_consent"]), retention_days=p["retention_days"] or 365,
                 marketing=job_type == "marketing")
