"""``waihu run``: a campaign dialled over a SIPp carrier with SIPp agent phones, from the command line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.e2e.conftest import last_json, run_waihu
from tests.integration.sip.conftest import free_port

Start = Callable[..., Any]
DIGITS = "01234589"  # carrier_mixed.xml: 0-3 answer, 4-5 busy, 8 not found, 9 decline (no 6-7: ring out)
OUTCOME = {**dict.fromkeys("0123", "connected"), **dict.fromkeys("45", "busy"), "8": "invalid_number",
           "9": "rejected"}


def test_waihu_run_dials_a_campaign_over_sip(db_url: str, sipp: Start, tmp_path: Path) -> None:
    numbers = [f"1390000{k:03d}{DIGITS[k % len(DIGITS)]}" for k in range(16)]
    csv = tmp_path / "list.csv"
    csv.write_text("姓名,手机号\n" + "".join(f"客户{k},{n}\n" for k, n in enumerate(numbers)), encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text('windows: ["00:00-24:00"]\n')  # the test runs at any hour of the day

    def waihu(*args: str, check: bool = True) -> Any:
        return run_waihu(*args, "--tenant", "sipco", db=db_url, check=check, timeout=120)

    waihu("compliance", "set", str(rules))
    waihu("campaign", "create", "over-sip", "--mode", "progressive", "--retry", "busy=60:1",
          "--retry", "rejected=60:1")
    waihu("import", "contacts", str(csv), "--campaign", "over-sip")
    carrier_log = tmp_path / "carrier.log"
    carrier = sipp("carrier_mixed.xml", calls=len(numbers), subs={"RING_MS": "100", "TALK_MS": "300"},
                   extra=("-trace_logs", "-log_file", str(carrier_log)))
    phone = sipp("agent_session.xml", calls=2)
    args = ["run", "over-sip", "--trunk", f"carrier=sip:127.0.0.1:{carrier.port}",
            "--agent", f"A1=sip:1001@127.0.0.1:{phone.port}", "--agent", f"A2=sip:1002@127.0.0.1:{phone.port}",
            "--listen", f"127.0.0.1:{free_port()}", "--options-interval", "0", "--wrap-seconds", "0.2",
            "--max-seconds", "60", "--json"]
    not_running = waihu(*args, check=False)
    assert not_running.returncode != 0 and last_json(not_running.stdout)["error"]["code"] == "campaign.not_running"
    waihu("campaign", "start", "over-sip")
    bad = waihu("run", "over-sip", "--trunk", "carrier", "--agent", "A1=nosip", "--json", check=False)
    assert bad.returncode != 0
    assert {d["field"] for d in last_json(bad.stdout)["error"]["details"]} == {"trunk"}
    doc = last_json(waihu(*args).stdout)
    assert doc["ended"] == "drained", doc
    assert doc["agents_logged_in"] == ["A1", "A2"] and doc["agents_created"] == ["A1", "A2"]
    want = Counter(OUTCOME[n[-1]] for n in numbers)
    assert doc["cdrs"] == len(numbers) and doc["outcomes"] == dict(sorted(want.items()))
    assert doc["signaling_logs"] == len(numbers)
    assert carrier.wait() == 0, carrier.output()
    assert phone.wait() == 0, phone.output()
    sipp_saw = Counter(line.split()[2] for line in carrier_log.read_text().splitlines() if line.strip())
    assert sipp_saw["bridged"] == want["connected"] and sipp_saw["486"] == want["busy"]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        busy = conn.execute(text("SELECT id FROM cdrs WHERE outcome = 'busy'")).scalars().first()
    engine.dispose()
    trace = last_json(waihu("call", "trace", str(busy), "--json").stdout)
    assert [m["message"] for m in trace["messages"]][:1] == ["INVITE"]
    assert "486 INVITE" in [m["message"] for m in trace["messages"]]
