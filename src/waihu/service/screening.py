"""Fill a campaign's dial queue with every compliance rule applied, set-based, in the database.

One ``INSERT ... SELECT`` screens all due contacts of a campaign: the DNC lists (global, tenant,
campaign) are probed by blind index, region and consent by joins, the caps from one aggregate of
the tenant's recent CDRs, and the calling window per distinct callee time zone (computed here,
once per zone, by the same pure functions the engine uses, then applied as a ``CASE``). The
result is one ``dial_queue`` row per contact: ``ready``, ``defer`` (with the earliest time where
it can be computed here: window and daily cap; the engine's screen refines the rest at dial
time) or ``block``, with a bit mask of reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

from waihu.adapters.storage.models import TS
from waihu.adapters.storage.models_compliance import DNC_KEY_LEN
from waihu.domain.compliance import next_window_open, window_reason, zone
from waihu.domain.compliance_rules import DAY, Reason, Rules
from waihu.domain.timeutil import to_dt

BITS: dict[int, Reason] = {
    1: Reason.DNC, 2: Reason.REGION_EXCLUDED, 4: Reason.NO_CONSENT, 8: Reason.MAX_ATTEMPTS,
    16: Reason.OUTSIDE_WINDOW, 32: Reason.DAILY_CAP, 64: Reason.ROLLING_CAP, 128: Reason.MIN_GAP,
    256: Reason.MARKETED_RECENTLY, 512: Reason.HOLIDAY, 1024: Reason.LUNCH_BREAK, 2048: Reason.DNC,
}
BLOCK_BITS = 1 | 2 | 4 | 8  # never allowed (2048 is a temporary DNC entry: deferred)
_WINDOW_BIT = {Reason.OUTSIDE_WINDOW: 16, Reason.HOLIDAY: 512, Reason.LUNCH_BREAK: 1024}


@dataclass(frozen=True)
class ZoneFacts:
    name: str
    bits: int  # window reason bits at ``now``
    opens: float | None  # next window opening (>= now)
    day_start: float  # start of the callee's local day
    next_day_open: float | None  # first window opening on a later local day


def zone_facts(name: str, rules: Rules, now: float) -> ZoneFacts:
    tz = zone(name)
    w = window_reason(now, rules, tz)
    d: date = datetime.fromtimestamp(now, tz).date()
    start = datetime.combine(d, time(0), tz).timestamp()
    tomorrow = datetime.combine(d + timedelta(days=1), time(0), tz).timestamp()
    return ZoneFacts(name, _WINDOW_BIT[w] if w is not None else 0, next_window_open(now, rules, tz), start,
                     next_window_open(tomorrow, rules, tz))


def reasons_of(mask: int) -> list[str]:
    return sorted({BITS[b].value for b in BITS if mask & b})


def _zone_case(zones: list[ZoneFacts], attr: str, default: ZoneFacts, p: dict[str, Any], kind: str) -> str:
    parts = []
    for i, z in enumerate(zones):
        p[f"tz{i}"] = z.name
        val = getattr(z, attr)
        p[f"{kind}{i}"] = to_dt(val) if kind != "b" and val is not None else val
        parts.append(f"WHEN :tz{i} THEN :{kind}{i}")
    p[f"{kind}_def"] = to_dt(getattr(default, attr)) if kind != "b" and getattr(default, attr) is not None \
        else getattr(default, attr)
    if not parts:  # every callee in the tenant's own zone
        return f":{kind}_def"
    return f"CASE COALESCE(p.timezone, :tzdef) {' '.join(parts)} ELSE :{kind}_def END"


def fill_dial_queue(conn: Connection, tenant_id: str, campaign_id: str, job_type: str, rules: Rules,
                    now: float) -> dict[str, Any]:
    """Screen every due pending contact of the campaign into ``dial_queue``; returns counts."""
    sqlite = conn.dialect.name == "sqlite"
    p: dict[str, Any] = {"tid": tenant_id, "cid": campaign_id, "now": to_dt(now), "jt": job_type,
                         "tzdef": rules.timezone}
    names = [r[0] for r in conn.execute(text(
        "SELECT DISTINCT timezone FROM contact_phones WHERE tenant_id = :tid AND timezone IS NOT NULL"), p)]
    default = zone_facts(rules.timezone, rules, now)
    zones = [zone_facts(n, rules, now) for n in sorted(names) if n != rules.timezone and _known(n)]
    lookback = max(rules.marketed_days or 0, 2) * DAY
    p.update(since=to_dt(now - lookback), roll_lo=to_dt(now - rules.rolling_seconds),
             gap_lo=to_dt(now - rules.min_gap_seconds), mkt_lo=to_dt(now - (rules.marketed_days or 0) * DAY))
    # one small table of callee facts (blind index -> reason bits, local-day call counts per zone): the
    # DNC hits (every number of the tenant probes the small ``dnc_keys`` prefilter; only the few that
    # may be listed read ``dnc_entries``; CROSS JOIN keeps that order on SQLite), and the caps from
    # recent CDRs
    allz = [default, *zones]
    for i, z in enumerate(allz):
        p[f"ds{i}"] = to_dt(z.day_start)
    days = ", ".join(f"day{i} INTEGER" for i in range(len(allz)))
    zero = ", ".join(f"0 AS day{i}" for i in range(len(allz)))
    chain = "COALESCE(c.chain_id, c.id)"
    counts = ", ".join(f"COUNT(DISTINCT CASE WHEN c.dial_at >= :ds{i} THEN {chain} END) AS day{i}"
                       for i in range(len(allz)))
    cap_bits = ["0"]
    if rules.rolling_max is not None:
        p["roll_max"] = rules.rolling_max
        cap_bits.append(f"CASE WHEN COUNT(DISTINCT CASE WHEN c.dial_at > :roll_lo THEN {chain} END) >= :roll_max "
                        "THEN 64 ELSE 0 END")
    if rules.min_gap_seconds > 0:
        cap_bits.append("CASE WHEN MAX(c.dial_at) > :gap_lo THEN 128 ELSE 0 END")
    if rules.marketing and rules.marketed_days is not None:
        cap_bits.append("CASE WHEN MAX(CASE WHEN k.job_type = 'marketing' AND c.campaign_id <> :cid "
                        "AND c.dial_at > :mkt_lo THEN 1 ELSE 0 END) = 1 THEN 256 ELSE 0 END")
    conn.execute(text("DROP TABLE IF EXISTS screen_callee"))
    conn.execute(text(f"CREATE TEMPORARY TABLE screen_callee (phone_hash VARCHAR(64) PRIMARY KEY, bits INTEGER, "
                      f"{days}){' WITHOUT ROWID' if sqlite else ''}"))
    sums = ", ".join(f"SUM(day{i})" for i in range(len(allz)))
    conn.execute(_typed(f"""
        INSERT INTO screen_callee
        SELECT phone_hash, SUM(bits), {sums} FROM (
          SELECT p.phone_hash AS phone_hash, MIN(CASE WHEN d.expires_at IS NULL THEN 1 ELSE 2048 END) AS bits,
                 {zero}
          FROM contact_phones p CROSS JOIN dnc_keys dk CROSS JOIN dnc_entries d
          WHERE p.tenant_id = :tid AND dk.k = substr(p.phone_hash, 1, {DNC_KEY_LEN})
            AND d.phone_hash = p.phone_hash
            AND d.tenant_id || '' IN ('', :tid) AND d.campaign_id || '' IN ('', :cid)
            AND (d.expires_at IS NULL OR d.expires_at > :now)
          GROUP BY p.phone_hash
          UNION ALL
          SELECT c.phone_hash, {" + ".join(cap_bits)}, {counts}
          FROM cdrs c JOIN campaigns k ON k.id = c.campaign_id
          WHERE c.tenant_id = :tid AND c.dial_at >= :since AND c.dial_at <= :now
          GROUP BY c.phone_hash) u
        GROUP BY phone_hash""", p), p)
    terms = ["COALESCE(sc.bits, 0)"]
    if rules.excluded_regions:
        for i, reg in enumerate(sorted(rules.excluded_regions)):
            p[f"reg{i}"] = reg
        regs = ", ".join(f":reg{i}" for i in range(len(rules.excluded_regions)))
        terms.append(f"CASE WHEN p.region IN ({regs}) THEN 2 ELSE 0 END")
    if rules.require_consent:
        terms.append("""CASE WHEN EXISTS (SELECT 1 FROM consents k WHERE k.tenant_id = :tid
                 AND k.contact_id = cc.contact_id AND k.scope IN ('all', :jt) AND k.revoked_at IS NULL
                 AND k.given_at <= :now AND (k.expires_at IS NULL OR k.expires_at > :now)) THEN 0 ELSE 4 END""")
    if rules.max_attempts is not None:
        p["max_att"] = rules.max_attempts
        terms.append("CASE WHEN cc.attempts >= :max_att THEN 8 ELSE 0 END")
    if default.bits or any(z.bits for z in zones):
        terms.append(_zone_case(zones, "bits", default, p, "b"))
    if rules.max_per_day is not None:
        p["max_day"] = rules.max_per_day
        pick = " ".join(f"WHEN :tz{i} THEN sc.day{i + 1}" for i in range(len(zones)))
        day = f"CASE COALESCE(p.timezone, :tzdef) {pick} ELSE sc.day0 END" if zones else "sc.day0"
        terms.append(f"CASE WHEN ({day}) >= :max_day THEN 32 ELSE 0 END")
    opens = _zone_case(zones, "opens", default, p, "o")
    tomorrow = _zone_case(zones, "next_day_open", default, p, "n")
    join = ("campaign_contacts cc CROSS JOIN contact_phones p" if sqlite
            else "campaign_contacts cc JOIN contact_phones p ON p.contact_id = cc.contact_id")
    # the mask once per row; ``status`` is a generated column of the mask; ``until`` (for deferred
    # rows) from the day-cap and window terms alone, so no expensive term is evaluated twice
    day_cap = terms[-1] if rules.max_per_day is not None else "0"
    window = _zone_case(zones, "bits", default, p, "b")
    sql = f"""
        INSERT INTO dial_queue (tenant_id, campaign_id, contact_id, reason_mask, until)
        SELECT :tid_v, :cid_v, cc.contact_id, {" + ".join(terms)},
               CASE WHEN {day_cap} <> 0 THEN {tomorrow} WHEN {window} <> 0 THEN {opens} ELSE NULL END
        FROM {join} LEFT JOIN screen_callee sc ON sc.phone_hash = p.phone_hash
        WHERE p.tenant_id = :tid AND p.rank = 0 AND cc.contact_id = p.contact_id AND cc.tenant_id = :tid
          AND cc.campaign_id = :cid AND cc.state = 'pending' AND cc.next_attempt_at <= :now"""
    p.update(tid_v=tenant_id, cid_v=campaign_id)  # own names: PostgreSQL types each parameter once
    conn.execute(text("DELETE FROM dial_queue WHERE tenant_id = :tid AND campaign_id = :cid"), p)
    conn.execute(_typed(sql, p), p)
    total = ready = blocked = 0
    by_reason: dict[str, int] = {}
    for status, mask, n in conn.execute(text("""SELECT status, reason_mask, COUNT(*) FROM dial_queue
            WHERE campaign_id = :cid AND tenant_id = :tid GROUP BY status, reason_mask"""), p):
        total += n
        ready += n if status == "ready" else 0
        blocked += n if status == "block" else 0
        for code in reasons_of(mask):
            by_reason[code] = by_reason.get(code, 0) + int(n)
    conn.execute(text("DROP TABLE IF EXISTS screen_callee"))
    return {"screened": total, "ready": ready, "blocked": blocked, "deferred": total - ready - blocked,
            "by_reason": dict(sorted(by_reason.items()))}


def _typed(sql: str, p: dict[str, Any]) -> TextClause:
    """``text(sql)`` with the datetime parameters it uses typed (SQLite stores them as text)."""
    names = set(re.findall(r":(\w+)", sql))
    return text(sql).bindparams(*[bindparam(k, type_=TS) for k, v in p.items()
                                  if k in names and isinstance(v, datetime)])


def _known(name: str) -> bool:
    try:
        zone(name)
    except Exception:
        return False
    return True
