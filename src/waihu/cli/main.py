"""The ``waihu`` command line (Typer + Rich). Help is given in English and Chinese."""

from __future__ import annotations

import typer

from waihu.cli import (
    agent,
    bench,
    call,
    callerid,
    campaign,
    cdr,
    compliance,
    contact,
    db,
    demo,
    dnc,
    importing,
    report,
    run,
    serve,
    trunks,
)

app = typer.Typer(
    name="waihu",
    help="waihu: open-source outbound contact-center platform. / waihu 开源外呼平台。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(importing.app, name="import")
app.add_typer(campaign.app, name="campaign")
app.add_typer(cdr.app, name="cdr")
app.add_typer(bench.app, name="bench")
app.add_typer(dnc.app, name="dnc")
app.add_typer(contact.app, name="contact")
app.add_typer(compliance.app, name="compliance")
app.command("explain")(contact.explain)
app.command("demo")(demo.demo)
app.add_typer(trunks.app, name="trunks")
app.add_typer(callerid.app, name="callerid")
app.add_typer(call.app, name="call")
app.command("serve")(serve.serve)
app.command("run")(run.run)
app.add_typer(serve.tenant_app, name="tenant")
app.add_typer(serve.user_app, name="user")
app.add_typer(report.app, name="report")
app.add_typer(agent.app, name="agent")


def main() -> None:
    app()
