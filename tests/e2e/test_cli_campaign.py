"""Campaign lifecycle through the CLI: create, import, start, run on the simulated network, export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.e2e.conftest import last_json

NUMBERS = [f"1391234{n:04d}" for n in range(40)]


def test_campaign_flow(waihu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "list.csv"
    f.write_text("name,phone,priority\n" + "".join(f"C{i},{n},{i % 3}\n" for i, n in enumerate(NUMBERS)),
                 encoding="utf-8")
    made = last_json(waihu("campaign", "create", "autumn", "--job-type", "care", "--retry", "no_answer=600:2",
                           "--json").stdout)
    assert made["state"] == "draft" and made["retry_policy"]["no_answer"] == {"delay_seconds": 600.0,
                                                                              "max_attempts": 2}
    p = waihu("campaign", "pause", "autumn", "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "campaign.illegal_transition"
    p = waihu("campaign", "run", "autumn", "--json", check=False)
    assert p.returncode != 0 and last_json(p.stdout)["error"]["code"] == "campaign.not_running"
    assert last_json(waihu("import", "contacts", str(f), "--campaign", "autumn", "--json").stdout)["imported"] == 40
    assert last_json(waihu("campaign", "start", "autumn", "--json").stdout)["state"] == "running"
    done = last_json(waihu("campaign", "run", "autumn", "--agents", "3", "--seed", "5", "--json").stdout)
    assert done["state"] == "completed" and done["contacts_pending"] == 0
    assert done["contacts_finished"] + done["contacts_exhausted"] == 40
    assert done["attempts"] == done["cdrs"] > 0
    status = last_json(waihu("campaign", "status", "autumn", "--json").stdout)
    assert status["cdrs"] == done["cdrs"] and status["state"] == "completed"
    listed = last_json(waihu("campaign", "list", "--json").stdout)["campaigns"]
    assert [c["name"] for c in listed] == ["autumn"]
    out = waihu("cdr", "export", "--campaign", "autumn").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == done["cdrs"]
    assert all("****" in r["phone"] for r in rows), "numbers are masked by default"
    assert not any(n in out for n in NUMBERS)
    connected = [r for r in rows if r["outcome"] == "connected"]
    assert connected and all(r["disposition"] for r in connected), "connected calls carry their disposition"
    full = waihu("cdr", "export", "--campaign", "autumn", "--unmasked").stdout
    assert any(n in full for n in NUMBERS)
    # more contacts later, the same seed again: a run of its own, nothing collides with the first
    more = tmp_path / "more.csv"
    more.write_text("phone\n13912349990\n13912349991\n", encoding="utf-8")
    assert last_json(waihu("import", "contacts", str(more), "--campaign", "autumn", "--json").stdout)["imported"] == 2
    assert last_json(waihu("campaign", "start", "autumn", "--json").stdout)["state"] == "running"
    again = last_json(waihu("campaign", "run", "autumn", "--agents", "3", "--seed", "5", "--json").stdout)
    assert again["state"] == "completed" and again["contacts_pending"] == 0 and again["cdrs"] > done["cdrs"]


def test_predictive_campaign_pacing_log_and_cdr_abandon_rate(waihu, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    demo = last_json(waihu("demo", "--agents", "6", "--contacts", "300", "--mode", "predictive", "--seed", "4",
                           "--json").stdout)
    log = last_json(waihu("campaign", "pacing-log", demo["campaign"], "--tenant", "demo", "--limit", "500",
                          "--json").stdout)["decisions"]
    assert log and sum(d["placed"] for d in log) > 0
    assert all({"ready", "ringing", "tau"} <= set(d["inputs"]) for d in log if d["inputs"].get("safe") is None)
    assert [d["at"] for d in log] == sorted(d["at"] for d in log)
    # the campaign's abandon rate is abandoned / answered by a person, counted from its CDRs
    e = create_engine(db_url)
    with e.connect() as c:
        rows = dict(c.execute(text("SELECT outcome, count(*) FROM cdrs WHERE campaign_id = :c GROUP BY outcome"),
                              {"c": demo["campaign_id"]}).all())
    e.dispose()
    answered = rows.get("connected", 0) + rows.get("abandoned", 0)
    assert demo["answered"] == answered and demo["abandoned"] == rows.get("abandoned", 0)
    assert abs(demo["abandon_rate"] - rows.get("abandoned", 0) / answered) < 1e-6
