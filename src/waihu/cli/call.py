"""``waihu call``: one call attempt. / 单次呼叫。"""

from __future__ import annotations

import typer
from rich.table import Table

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.service.lines_runtime import call_trace

app = typer.Typer(help="Call attempts. / 呼叫记录。", no_args_is_help=True)


@app.command("trace")
def trace(call_id: str = typer.Argument(..., help="The call id of a CDR. / 话单的呼叫编号。"),
          as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """The signaling behind one attempt (SIP requests and responses). / 单次呼叫的信令过程。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = call_trace(uow, call_id)
    if as_json:
        print_json(doc)
        return
    t = Table(title=f"call {doc['call_id']} on trunk {doc['trunk_id'] or '-'} / 信令")
    t.add_column("t (s)", justify="right")
    t.add_column("")
    t.add_column("message / 消息")
    for m in doc["messages"]:
        t.add_row(f"{m['t']:.3f}", "→" if m["direction"] == "sent" else "←", m["message"])
    out.print(t)
