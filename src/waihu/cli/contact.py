"""``waihu contact`` (consent, complaint, erase) and ``waihu explain``. / 联系人合规操作与外呼决策解释。"""

from __future__ import annotations

import typer
from rich.markup import escape

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.domain.errors import ValidationError
from waihu.service.dnc import block_contact
from waihu.service.explain import explain as explain_contact
from waihu.service.explain import find_contact
from waihu.service.privacy import erase_contact, parse_time, record_consent, revoke_consent

app = typer.Typer(help="Contact consent, complaints and erasure. / 联系人授权、投诉与删除。", no_args_is_help=True)
ContactArg = typer.Argument(..., help="Contact id, external id or phone number. / 联系人 ID、外部编号或号码。")


@app.command("consent")
def consent(
    contact: str = ContactArg,
    source: str = typer.Option(..., "--source", help="Where consent was given (web_form, call, ...). / 授权来源。"),
    scope: str = typer.Option("all", "--scope", help="A job type or 'all'. / 授权范围（业务类型或 all）。"),
    given: str | None = typer.Option(None, "--given", help="When (ISO-8601, default now). / 授权时间。"),
    expires: str | None = typer.Option(None, "--expires", help="Expiry (ISO-8601). / 到期时间。"),
    evidence: str | None = typer.Option(None, "--evidence", help="Evidence reference. / 证据编号。"),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke every consent instead. / 撤回授权。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Record (or revoke) consent evidence for a contact. / 记录（或撤回）联系人授权。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        now = p.clock.now()
        with p.uow(tid) as uow:
            if revoke:
                doc: dict[str, object] = {"revoked": revoke_consent(uow, contact, now, p.settings.default_region)}
            else:
                doc = {"consent_id": record_consent(
                    uow, contact, now, source=source, scope=scope, given_at=parse_time(given, "--given"),
                    expires_at=parse_time(expires, "--expires"), evidence=evidence,
                    default_region=p.settings.default_region)}
    print_json(doc) if as_json else out.print(doc)


@app.command("complaint")
def complaint(
    contact: str = ContactArg,
    source: str = typer.Option("complaint", "--source", help="complaint, ivr_opt_out, customer_request. / 来源。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Record a complaint or opt-out: the contact's numbers go on the DNC list. / 记录投诉或退订并加入免打扰。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            c = find_contact(uow, contact, p.settings.default_region)
            n = block_contact(uow, c.id, source, p.clock.now())
    print_json({"blocked_numbers": n}) if as_json else out.print(f"{n} numbers blocked / 已屏蔽 {n} 个号码")


@app.command("erase")
def erase(
    contact: str = ContactArg,
    yes: bool = typer.Option(False, "--yes", help="Confirm: this cannot be undone. / 确认（不可撤销）。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Delete a person's data, keep anonymised statistics. / 删除个人数据，保留匿名统计。"""
    with errors(as_json):
        if not yes:
            raise ValidationError("contact.erase_unconfirmed", "add --yes to erase the contact's personal data")
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = erase_contact(uow, contact, p.clock.now(), p.settings.default_region)
    print_json(doc) if as_json else out.print(f"erased / 已删除: {doc}")


def explain(
    contact: str = ContactArg,
    at: str | None = typer.Option(None, "--at", help="At this time (ISO-8601 with offset; default now). / 判断时间。"),
    campaign: str | None = typer.Option(None, "--campaign", help="Only this campaign. / 仅该任务。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Why a contact would or would not be dialled, and when next. / 解释联系人能否被呼叫及下次可呼时间。"""
    with errors(as_json):
        p = platform(database_url)
        when = parse_time(at, "--at")
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = explain_contact(uow, p.engine, contact, when if when is not None else p.clock.now(),
                                  campaign=campaign, default_region=p.settings.default_region)
    if as_json:
        print_json(doc)
        return
    out.print(f"{doc['number']}  ({doc['region'] or '-'}, {doc['timezone'] or '-'})  at / 时间 {doc['at']}")
    if not doc["campaigns"]:
        out.print("  not in any campaign / 未加入任何外呼任务")
    for c in doc["campaigns"]:
        verdict = {"allow": "ALLOW / 允许", "defer": "DEFER / 延后", "block": "BLOCK / 禁止"}[c["verdict"]]
        out.print(f"  {escape('[' + c['campaign'] + ']')} {verdict}  state / 状态 {c['contact_state']}, attempts / 次数 {c['attempts']}")
        for code, text in zip(c["reasons"], c["explanations"], strict=True):
            out.print(f"    - {code}: {text}")
        if c["verdict"] == "defer":
            out.print(f"    next allowed / 下次可呼: {c['allowed_from']}")
        elif c["verdict"] == "block":
            out.print("    never, unless the reason is lifted / 除非原因解除，否则不可呼叫")
