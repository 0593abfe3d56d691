"""``waihu compliance``: the tenant's calling windows, holidays and caps. / 租户合规规则。"""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id
from waihu.domain.errors import ValidationError
from waihu.service.compliance_settings import set_tenant_rules, tenant_rules

app = typer.Typer(help="Compliance rules of the tenant. / 租户合规规则（外呼时段、节假日、频次）。", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Show the tenant's rules (defaults apply to what is not set). / 显示租户规则。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = tenant_rules(uow)
    print_json({"compliance": doc}) if as_json else out.print(yaml.safe_dump(doc, allow_unicode=True) or "{}")


@app.command("set")
def set_(
    file: Path = typer.Argument(..., help="YAML or JSON file with the rules. / 规则文件（YAML 或 JSON）。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Replace the tenant's rules; bad rules change nothing. / 替换租户规则（有错误则不做任何修改）。"""
    with errors(as_json):
        try:
            cfg = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ValidationError("compliance.unreadable", f"cannot read the rules file: {type(e).__name__}") from None
        if not isinstance(cfg, dict):
            raise ValidationError("compliance.invalid_config", "the rules file must hold a mapping")
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            set_tenant_rules(uow, cfg, p.clock.now())
    print_json({"compliance": cfg}) if as_json else out.print("rules saved / 规则已保存")


@app.command("rotate-key")
def rotate_key(as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """Rotate the tenant's data key and re-seal its personal data. / 轮换租户数据密钥并重新加密个人数据。"""
    from waihu.service.keys import rotate_tenant_key

    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = rotate_tenant_key(uow, p.clock.now())
    print_json(doc) if as_json else out.print(doc)


@app.command("purge")
def purge_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only, delete nothing. / 只统计，不删除。"),
    all_tenants: bool = typer.Option(False, "--all-tenants", help="Every tenant. / 所有租户。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Delete records past the tenant's retention (waihu serve does it every 6 hours). / 删除超过保留期限的记录。"""
    from waihu.service.retention import purge, purge_all

    with errors(as_json):
        p = platform(database_url)
        if all_tenants:
            docs = purge_all(p, p.clock.now(), dry_run=dry_run)
        else:
            tid = tenant_id(p, tenant)
            with p.uow(tid, actor="local-operator") as uow:
                docs = [purge(uow, p.clock.now(), dry_run=dry_run)]
    print_json({"tenants": docs}) if as_json else out.print(docs)
