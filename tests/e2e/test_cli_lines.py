"""``waihu trunks`` and ``waihu callerid`` end to end on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import last_json


def test_trunks_add_list_status(waihu) -> None:  # type: ignore[no-untyped-def]
    doc = last_json(waihu("trunks", "add", "A", "--capacity", "100", "--cps", "10", "--cost-per-minute", "0.06",
                          "--business", "insurance,care", "--threshold", "line_loss=0.4", "--json").stdout)
    assert doc["business"] == ["care", "insurance"] and doc["thresholds"] == {"line_loss": 0.4}
    waihu("trunks", "add", "S", "--capacity", "20", "--cps", "2", "--role", "backup", "--platform")
    bad = waihu("trunks", "add", "A", "--capacity", "1", "--cps", "1", "--json", check=False)
    assert bad.returncode != 0 and last_json(bad.stdout)["error"]["code"] == "trunk.duplicate_name"
    listed = last_json(waihu("trunks", "list", "--json").stdout)["trunks"]
    assert [(t["name"], t["owner"], t["role"]) for t in listed] == [("A", "tenant", "primary"),
                                                                   ("S", "platform", "backup")]
    status = last_json(waihu("trunks", "status", "--json").stdout)["trunks"]
    assert [t["windows"]["5m"]["attempts"] for t in status] == [0, 0]
    table = waihu("trunks", "status").stdout
    assert "trunk status" in table and "ASR" in table


def test_callerid_import_mark_list(waihu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "ids.csv"
    f.write_text("number,province,type,max_concurrent\n13700000001,浙江,mobile,5\n12345,浙江,mobile,1\n",
                 encoding="utf-8")
    bad = waihu("callerid", "import", str(f), "--json", check=False)
    assert bad.returncode != 0
    err = last_json(bad.stdout)["error"]
    assert err["code"] == "caller_id.invalid" and err["details"][0]["row"] == 3
    assert last_json(waihu("callerid", "list", "--json").stdout)["caller_ids"] == [], "nothing half-applied"
    f.write_text("number,province,type,max_concurrent\n13700000001,浙江,mobile,5\n", encoding="utf-8")
    waihu("callerid", "import", str(f))
    marked = last_json(waihu("callerid", "mark", "13700000001", "--json").stdout)["caller_ids"][0]
    assert (marked["status"], marked["spam_marks"], marked["province"]) == ("reduced", 1, "浙江")
    missing = waihu("callerid", "mark", "13900000000", "--json", check=False)
    assert last_json(missing.stdout)["error"]["code"] == "caller_id.not_found"


def test_demo_routes_through_the_tenants_trunks_and_records_why(waihu, db_url: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    waihu("trunks", "add", "T1", "--capacity", "50", "--cps", "10", "--tenant", "demo", "--cost-per-attempt", "0.02")
    waihu("trunks", "add", "T2", "--capacity", "50", "--cps", "10", "--tenant", "demo", "--cost-per-attempt", "0.05")
    demo = last_json(waihu("demo", "--agents", "4", "--contacts", "80", "--seed", "2", "--json").stdout)
    assert demo["cdrs"] == demo["attempts"] > 0
    # the pre-check's skips are counted, and their saving priced at the cheaper line
    skipped = sum(n for r, n in demo["held_by_reason"].items() if r.startswith("number_status."))
    assert skipped > 0 and demo["number_status"] == {"skipped": skipped, "saved_cost": round(skipped * 0.02, 4)}
    e = create_engine(db_url)
    with e.connect() as c:
        rows = c.execute(text("SELECT id, trunk_id, route_reason FROM cdrs WHERE campaign_id = :c"),
                         {"c": demo["campaign_id"]}).all()
    e.dispose()
    assert rows and all(r[1] for r in rows), "every attempt went out on a trunk"
    assert all(r[2] for r in rows), "every routing decision records why"
    trace = last_json(waihu("call", "trace", rows[0][0], "--tenant", "demo", "--json").stdout)
    assert trace["messages"][0]["message"] == "INVITE"


def test_platform_trunk_and_caller_id_assigned_to_another_tenant(waihu) -> None:  # type: ignore[no-untyped-def]
    waihu("trunks", "add", "P1", "--capacity", "10", "--cps", "5", "--platform", "--tenant", "acme")
    waihu("callerid", "add", "13700000001", "--platform", "--tenant", "acme")
    assert last_json(waihu("trunks", "list", "--tenant", "beta", "--json").stdout)["trunks"] == []
    doc = last_json(waihu("trunks", "assign", "P1", "--tenant", "beta", "--json").stdout)
    assert doc["name"] == "P1" and doc["assigned"] is True
    assert last_json(waihu("callerid", "assign", "13700000001", "--tenant", "beta", "--json").stdout)["assigned"]
    listed = last_json(waihu("trunks", "list", "--tenant", "beta", "--json").stdout)["trunks"]
    assert [t["name"] for t in listed] == ["P1"]
    waihu("trunks", "assign", "P1", "--tenant", "beta", "--remove")
    assert last_json(waihu("trunks", "list", "--tenant", "beta", "--json").stdout)["trunks"] == []
    bad = waihu("trunks", "assign", "NOPE", "--tenant", "beta", "--json", check=False)
    assert bad.returncode != 0 and last_json(bad.stdout)["error"]["code"] == "trunk.not_found"


def test_trunks_and_agents_get_sip_addresses(waihu) -> None:  # type: ignore[no-untyped-def]
    doc = last_json(waihu("trunks", "add", "ct", "--capacity", "30", "--cps", "5", "--sip", "sip:gw1@198.51.100.7",
                          "--sip-password", "s3cret-pw", "--sip-register", "--json").stdout)
    assert doc["sip"] == {"uri": "sip:gw1@198.51.100.7:5060", "registration": True, "pai": False,
                          "options_interval": 30.0, "password_set": True}
    listed = waihu("trunks", "list", "--json").stdout
    assert "sip:gw1@198.51.100.7:5060" in listed and "s3cret-pw" not in listed
    bad = waihu("trunks", "sip", "ct", "sip:198.51.100.8", "--sip-register", "--json", check=False)
    err = last_json(bad.stdout)["error"]
    assert bad.returncode != 0 and err["code"] == "trunk.invalid_sip" and err["details"][0]["field"] == "sip"
    assert last_json(waihu("trunks", "list", "--json").stdout)["trunks"][0]["sip"]["registration"], "unchanged"
    removed = last_json(waihu("trunks", "sip", "ct", "--remove", "--json").stdout)
    assert removed["sip"] is None
    agent = last_json(waihu("agent", "add", "1001", "--name", "李", "--phone", "sip:1001@10.0.0.5", "--json").stdout)
    assert agent["phone"] == "sip:1001@10.0.0.5:5060" and agent["name"] == "李"
    wrong = waihu("agent", "phone", "1001", "10.0.0.5", "--json", check=False)
    assert last_json(wrong.stdout)["error"]["code"] == "agent.invalid_phone"
    assert last_json(waihu("agent", "phone", "1001", "--remove", "--json").stdout)["phone"] is None
    missing = waihu("agent", "phone", "9999", "sip:9@10.0.0.5", "--json", check=False)
    assert last_json(missing.stdout)["error"]["code"] == "agent.not_found"
    issued = last_json(waihu("agent", "sip-account", "1001", "--json").stdout)
    assert issued["username"].startswith("1001.") and issued["realm"] == "waihu" and len(issued["password"]) >= 20
    again = last_json(waihu("agent", "sip-account", "1001", "--json").stdout)
    assert again["username"] != issued["username"], "a new account replaces the old one"
    assert last_json(waihu("agent", "sip-account", "1001", "--remove", "--json").stdout)["username"] is None
    tcp = last_json(waihu("trunks", "sip", "ct", "sip:gw1@198.51.100.7:5061;transport=tcp", "--json").stdout)
    assert tcp["sip"]["uri"] == "sip:gw1@198.51.100.7:5061;transport=tcp"
