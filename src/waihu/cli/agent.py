"""``waihu agent``: agents, the SIP phones they take calls on, their SIP accounts. / 座席、座席话机与 SIP 账号。"""

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


@app.command("sip-account")
def sip_account(
    code: str = typer.Argument(..., help="Agent code (工号). / 工号。"),
    remove: bool = typer.Option(False, "--remove", help="Remove the account. / 删除账号。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Issue (or replace) the SIP account the agent's softphone registers with; the password is
    shown this once. / 签发（或更换）座席软电话注册用的 SIP 账号；密码仅显示这一次。"""
    from waihu.service.directory import agent_by_code
    from waihu.service.sip_lines import issue_sip_account, remove_sip_account

    def act(uow: Any, now: float) -> dict[str, Any]:
        a = agent_by_code(uow, code)
        if remove:
            remove_sip_account(uow, now, a)
            return {"code": a.code, "username": None}
        return {"code": a.code, **issue_sip_account(uow, now, a)}

    doc = in_tenant(database_url, tenant, as_json, act)
    if as_json:
        print_json(doc)
    elif doc["username"] is None:
        out.print(f"agent / 座席 {doc['code']}: SIP account removed / SIP 账号已删除")
    else:
        out.print(f"agent / 座席 {doc['code']}: SIP user / 用户名 {doc['username']}  password / 密码 "
                  f"{doc['password']}  realm / 域 {doc['realm']}\n"
                  "the password is not shown again / 密码不会再次显示")
