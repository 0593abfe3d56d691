"""``waihu agent``: agents and the SIP phones they take calls on. / 座席与座席话机。"""

from __future__ import annotations

from typing import Any

import typer

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, in_tenant, out, print_json

app = typer.Typer(help="Agents. / 座席。", no_args_is_help=True)
PHONE_HELP = "SIP phone sip:ext@host[:port], called when the agent logs in over SIP trunks. / 座席话机 SIP 地址。"


def _show(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(doc)
    else:
        out.print(f"agent / 座席 {doc['code']} ({doc['id']}): phone / 话机 {doc['phone'] or '-'}")


@app.command("add")
def add(
    code: str = typer.Argument(..., help="Agent code (工号). / 工号。"),
    name: str | None = typer.Option(None, "--name", help="Display name (default: the code). / 姓名。"),
    group: list[str] = typer.Option([], "--group", help="Skill group, once per group. / 技能组，可多次。"),
    phone: str | None = typer.Option(None, "--phone", help=PHONE_HELP),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Create an agent. / 创建座席。"""
    from waihu.service.directory import agent_dict, create_agent

    _show(in_tenant(database_url, tenant, as_json, lambda uow, now: agent_dict(
        create_agent(uow, code, name or code, group, now, phone=phone))), as_json)


@app.command("phone")
def phone(
    code: str = typer.Argument(..., help="Agent code (工号). / 工号。"),
    uri: str | None = typer.Argument(None, help=PHONE_HELP),
    remove: bool = typer.Option(False, "--remove", help="Take the phone away. / 移除话机。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Set or remove an agent's SIP phone. / 设置或移除座席话机。"""
    from waihu.domain.errors import ValidationError
    from waihu.service.directory import agent_by_code, agent_dict
    from waihu.service.sip_lines import set_agent_phone

    def act(uow: Any, now: float) -> dict[str, Any]:
        if (uri is None) != remove:
            raise ValidationError.of_field("agent.invalid_phone", "give a SIP address or --remove", "phone")
        a = agent_by_code(uow, code)
        set_agent_phone(uow, now, a, uri)
        return agent_dict(a)

    _show(in_tenant(database_url, tenant, as_json, act), as_json)
