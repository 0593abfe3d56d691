"""``waihu bench screening``: fill a campaign's dial queue for N contacts against an M-entry DNC list.

Generation (not timed) writes a tenant with N contacts in one marketing campaign, a recent CDR
history (so the caps bite), consent evidence and M DNC entries, in bulk: on SQLite through one
raw connection in large sorted batches (DNC rows in blind-index order, so the WITHOUT ROWID
B-tree only ever appends). The timed part is ``fill_dial_queue``: one set-based screening of
every contact with every rule (DNC global/tenant/campaign with expiry, region, consent,
max attempts, calling window per time zone, daily and rolling caps, minimum gap, marketed
recently).
"""

from __future__ import annotations

import random
import resource
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from waihu.adapters.storage.compliance_repo import add_dnc_keys
from waihu.adapters.storage.models import CampaignContact, Cdr, Contact, ContactPhone
from waihu.adapters.storage.models_compliance import DNC_KEY_LEN, Consent, DncEntry
from waihu.bootstrap import Platform
from waihu.domain.compliance_rules import build_rules
from waihu.domain.errors import ValidationError
from waihu.domain.timeutil import to_dt
from waihu.service.campaigns import create_campaign, transition
from waihu.service.screening import fill_dial_queue
from waihu.service.tenants import ensure_tenant

NOW = datetime.fromisoformat("2026-01-05T10:00:00+08:00").timestamp()  # a Monday morning, Shanghai
REGIONS = ["广东", "浙江", "江苏", "北京", "上海", "四川", "湖北", "山东", "河南", "西藏"]
RULES = {"rolling_max": 3, "rolling_minutes": 5, "min_gap_seconds": 60, "marketed_days": 30, "max_attempts": 5,
         "excluded_regions": ["西藏"], "require_consent": True}
CHUNK = 100_000


def _fmt(ts: float | None) -> str | None:
    return None if ts is None else f"{to_dt(ts):%Y-%m-%d %H:%M:%S.%f}"


class Loader:
    """Bulk rows into the database: raw sqlite3 on SQLite, Core executemany elsewhere."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        url = make_url(platform.settings.database_url)
        self.path = url.database if url.get_backend_name() == "sqlite" else None
        self.raw: sqlite3.Connection | None = None
        if self.path:
            platform.engine.dispose()
            self.raw = sqlite3.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-200000", "secure_delete=OFF"):
                self.raw.execute(f"PRAGMA {pragma}")
            self.raw.execute("BEGIN")

    def rows(self, table: Any, cols: list[str], data: list[tuple[Any, ...]]) -> None:
        if not data:
            return
        if self.raw is not None:
            marks = ", ".join("?" * len(cols))
            self.raw.executemany(f"INSERT INTO {table.__tablename__} ({', '.join(cols)}) VALUES ({marks})", data)
            return
        with self.platform.engine.begin() as conn:
            dicts = [dict(zip(cols, r, strict=True)) for r in data]
            for d in dicts:
                for k, v in d.items():
                    if isinstance(v, str) and k.endswith("_at") and v[:2] == "20":
                        d[k] = datetime.fromisoformat(v + "+00:00")
            conn.execute(insert(table), dicts)

    def keys(self, hashes: Iterable[str]) -> None:
        """The ``dnc_keys`` prefilter of these DNC rows (as every DNC writer keeps it)."""
        if self.raw is not None:
            self.raw.executemany("INSERT OR IGNORE INTO dnc_keys (k) VALUES (?)",
                                 sorted({(h[:DNC_KEY_LEN],) for h in hashes}))
            return
        with self.platform.engine.begin() as conn:
            add_dnc_keys(conn, hashes)

    def close(self) -> None:
        if self.raw is not None:
            self.raw.execute("COMMIT")
            self.raw.execute("PRAGMA journal_mode=WAL")
            self.raw.execute("ANALYZE")
            self.raw.close()


def _contacts(p: Platform, ld: Loader, tid: str, cid: str, old_cid: str, n: int, rng: random.Random) -> list[str]:
    """N contacts, their primary phones, campaign rows, CDRs and consents. Returns hashes of a 3% sample."""
    codec, now_s, due = p.codec, _fmt(NOW - 86400), _fmt(NOW - 3600)
    listed: list[str] = []
    for lo in range(0, n, CHUNK):
        contacts, phones, members, cdrs, consents = [], [], [], [], []
        for i in range(lo, min(n, lo + CHUNK)):
            e164 = f"+8613{(i * 7919 + 12345) % 10**9:09d}"
            h = codec.phone_hash(e164)
            cid_i = f"c{i:031d}"
            tz = "Asia/Shanghai" if i % 100 else "America/New_York"
            contacts.append((cid_i, tid, "{}", "{}", "[]", 0, 0, now_s, now_s))
            phones.append((f"p{i:031d}", tid, cid_i, 0, codec.seal(tid, e164), h, "mobile",
                           REGIONS[i % len(REGIONS)] if i % 97 else "西藏", None, None, tz))
            members.append((f"m{i:031d}", tid, cid, cid_i, "pending", 0, i + 1, 6 if i % 211 == 0 else i % 3, due,
                            now_s, now_s))
            if i % 10 == 0:  # a tenth were called this morning by another campaign
                for k in range(1 + i % 3):
                    at = NOW - 600 * (k + 1) - (i % 7) * 30
                    cdrs.append((f"r{i:027d}{k:04d}", tid, old_cid, cid_i, f"p{i:031d}", h, k + 1, None,
                                 "progressive", _fmt(at), _fmt(at + 30), "no_answer", 0))
            if i % 20:
                consents.append((f"k{i:031d}", tid, cid_i, "web_form", "marketing" if i % 3 else "all", now_s))
            if rng.random() < 0.03:
                listed.append(h)
        ld.rows(Contact, ["id", "tenant_id", "fields", "attributes", "tags", "total_attempts", "total_connects",
                          "created_at", "updated_at"], contacts)
        ld.rows(ContactPhone, ["id", "tenant_id", "contact_id", "rank", "phone_sealed", "phone_hash", "kind",
                               "region", "city", "carrier", "timezone"], phones)
        ld.rows(CampaignContact, ["id", "tenant_id", "campaign_id", "contact_id", "state", "priority", "seq",
                                  "attempts", "next_attempt_at", "added_at", "updated_at"], members)
        ld.rows(Cdr, ["id", "tenant_id", "campaign_id", "contact_id", "phone_id", "phone_hash", "attempt", "chain_id",
                      "mode", "dial_at", "end_at", "outcome", "talk_seconds"], cdrs)
        ld.rows(Consent, ["id", "tenant_id", "contact_id", "source", "scope", "given_at"], consents)
    return listed


def _dnc_rows(m: int, listed: list[str], tid: str, cid: str, rng: random.Random) -> Iterator[list[tuple[Any, ...]]]:
    """M DNC rows in primary-key order, bucket by bucket (first three hex digits of the hash)."""
    sources = ["complaint", "ivr_opt_out", "customer_request", "regulator", "carrier"]
    created = _fmt(NOW - 7 * 86400)
    mine: dict[str, list[str]] = {}
    for h in listed[:m]:
        mine.setdefault(h[:3], []).append(h)
    rest = m - min(len(listed), m)
    buckets = 4096
    per, extra = divmod(rest, buckets)
    for b in range(buckets):
        prefix = f"{b:03x}"
        k = per + (1 if b < extra else 0)
        raw = rng.randbytes(32 * k).hex()
        rows: list[tuple[Any, ...]] = []
        for j in range(k):
            scope = j % 10
            rows.append((prefix + raw[64 * j + 3:64 * j + 64], "" if scope < 3 else tid, cid if scope == 9 else "",
                         sources[j % 5], None, created))
        for j, h in enumerate(mine.get(prefix, [])):
            temp = j % 10 == 0  # a tenth are temporary blocks (1 to 120 hours)
            exp = _fmt(NOW + 3600 * (1 + j % 120)) if temp else None
            rows.append((h, tid if j % 4 else "", cid if j % 7 == 0 else "", sources[j % 5], exp, created))
        rows.sort()
        dedup = [r for i, r in enumerate(rows) if i == 0 or r[:3] != rows[i - 1][:3]]
        yield dedup


def run_screening_bench(p: Platform, contacts: int, dnc: int, seed: int = 1) -> dict[str, Any]:
    if contacts < 1 or dnc < 0:
        raise ValidationError("bench.invalid_size", "contacts must be >= 1 and dnc >= 0")
    rng = random.Random(seed)
    with p.uow("") as uow:
        tid = ensure_tenant(uow, f"bench-screening-{seed}-{int(time.perf_counter_ns())}", NOW)
        old = create_campaign(uow, "earlier-marketing", NOW, job_type="marketing")
        c = create_campaign(uow, "screening", NOW, job_type="marketing", options={"compliance": RULES})
        transition(uow, c, "start", NOW)
        cid, old_cid = c.id, old.id
        uow.commit()
    rules = build_rules({}, RULES, "marketing")
    ld = Loader(p)
    listed = _contacts(p, ld, tid, cid, old_cid, contacts, rng)
    written = 0
    for rows in _dnc_rows(dnc, listed, tid, cid, rng):
        ld.rows(DncEntry, ["phone_hash", "tenant_id", "campaign_id", "source", "expires_at", "created_at"], rows)
        ld.keys(r[0] for r in rows)
        written += len(rows)
    ld.close()
    with p.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA cache_size=-262144"))
            conn.execute(text("PRAGMA temp_store=MEMORY"))
            conn.execute(text("PRAGMA secure_delete=OFF"))  # the queue holds no personal data
        conn.commit()
        t0, c0 = time.perf_counter(), time.process_time()
        with conn.begin():
            res = fill_dial_queue(conn, tid, cid, "marketing", rules, NOW)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"contacts": contacts, "dnc": written, "seconds": round(seconds, 3),
            "decisions_per_second": round(res["screened"] / seconds if seconds else 0.0, 1),
            "peak_rss_mb": round(rss, 1), "cpu_seconds": round(cpu, 3), "ready": res["ready"],
            "deferred": res["deferred"],
            "blocked": res["blocked"], "blocked_by_reason": res["by_reason"], "database": p.engine.dialect.name}
