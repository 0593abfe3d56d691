"""``waihu trunks``: carrier lines, their live quality and usage. / 线路（中继）管理与实时质量。"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.live import Live
from rich.table import Table

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, in_tenant, out, platform, print_json, tenant_id
from waihu.domain.errors import ValidationError
from waihu.service.lines import add_trunk, assign_platform_trunk, trunk_doc, trunk_status, visible_trunks

app = typer.Typer(help="Carrier lines (trunks). / 线路（中继）。", no_args_is_help=True)

SIP_HELP = ("SIP address sip:[user[:password]@]host[:port][;transport=udp|tcp]. / SIP 地址。")
SipPasswordOpt = typer.Option(None, "--sip-password", envvar="WAIHU_SIP_PASSWORD", show_envvar=True,
                              help="Digest password (better from the environment than in --sip). / 鉴权密码。")
SipRegisterOpt = typer.Option(False, "--sip-register", help="Keep a registration with the carrier. / 向运营商注册。")
SipPaiOpt = typer.Option(False, "--sip-pai", help="Send the caller ID in P-Asserted-Identity too. / "
                         "同时在 P-Asserted-Identity 中携带主叫号码。")
SipOptionsOpt = typer.Option(30.0, "--sip-options-interval", min=0.0, max=3600.0,
                             help="Seconds between OPTIONS probes (0: none). / OPTIONS 探测间隔秒数（0 为不探测）。")


def _thresholds(items: list[str]) -> dict[str, Any]:
    out_: dict[str, Any] = {}
    for item in items:
        k, sep, v = item.partition("=")
        try:
            out_[k.strip()] = json.loads(v) if sep else None
        except json.JSONDecodeError:
            raise ValidationError("trunk.invalid_threshold", f"expected NAME=NUMBER, got {item!r}") from None
        if not isinstance(out_[k.strip()], int | float):
            raise ValidationError("trunk.invalid_threshold", f"expected NAME=NUMBER, got {item!r}")
    return out_


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Trunk name. / 线路名称。"),
    capacity: int = typer.Option(..., "--capacity", help="Concurrent calls. / 并发数。"),
    cps: float = typer.Option(..., "--cps", help="Calls per second. / 每秒呼叫数。"),
    cost_per_minute: float = typer.Option(0.0, "--cost-per-minute", help="Price per billed minute. / 每分钟费用。"),
    billing_increment: int = typer.Option(60, "--billing-increment", help="Billing increment, seconds. / 计费单位（秒）。"),
    cost_per_attempt: float = typer.Option(0.0, "--cost-per-attempt", help="Price per attempt. / 每次呼叫费用。"),
    regions: str = typer.Option("*", "--regions", help="Covered regions, comma-separated or *. / 覆盖地区。"),
    business: str = typer.Option("*", "--business",
                                 help="Registered business types, comma-separated or *. / 报备业务类型。"),
    priority: int = typer.Option(0, "--priority", help="Higher first. / 优先级。"),
    role: str = typer.Option("primary", "--role", help="primary, backup or temporary. / 主用、备用或临时。"),
    owned_by_platform: bool = typer.Option(False, "--platform",
                                           help="Owned by the platform, assigned to the tenant. / 平台线路并分配给租户。"),
    threshold: list[str] = typer.Option([], "--threshold",
                                        help="Breaker setting NAME=NUMBER, e.g. line_loss=0.3. / 熔断阈值。"),
    sip: str | None = typer.Option(None, "--sip", help=SIP_HELP),
    sip_password: str | None = SipPasswordOpt,
    sip_register: bool = SipRegisterOpt, sip_pai: bool = SipPaiOpt, sip_options: float = SipOptionsOpt,
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Register a trunk (with --sip, a carrier line that `waihu serve --sip-listen` dials over SIP).
    / 登记一条线路（带 --sip 时为经 SIP 拨打的真实线路）。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            doc = add_trunk(uow, p.clock.now(), name=name, capacity=capacity, cps=cps,
                            cost_per_minute=cost_per_minute, billing_increment=billing_increment,
                            cost_per_attempt=cost_per_attempt, regions=regions, business=business,
                            priority=priority, role=role, platform=owned_by_platform,
                            thresholds=_thresholds(threshold), sip=sip, sip_register=sip_register, sip_pai=sip_pai,
                            sip_options_interval=sip_options, sip_password=sip_password)
            uow.commit()
    if as_json:
        print_json(doc)
    else:
        out.print(f"trunk {doc['name']} added / 已添加线路")


@app.command("sip")
def set_sip(
    name: str = typer.Argument(..., help="Trunk name. / 线路名称。"),
    uri: str | None = typer.Argument(None, help=SIP_HELP),
    remove: bool = typer.Option(False, "--remove", help="Take the SIP address away (a simulated line again). / "
                                "移除 SIP 地址。"),
    owned_by_platform: bool = typer.Option(False, "--platform", help="A platform trunk. / 平台线路。"),
    sip_password: str | None = SipPasswordOpt,
    sip_register: bool = SipRegisterOpt, sip_pai: bool = SipPaiOpt, sip_options: float = SipOptionsOpt,
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Set or remove the SIP address of a trunk; a running `waihu serve` dials over it within seconds.
    / 设置或移除线路的 SIP 地址。"""
    from waihu.service.lines import find_trunk
    from waihu.service.sip_lines import set_trunk_sip

    def act(uow: Any, now: float) -> dict[str, Any]:
        if (uri is None) != remove:
            raise ValidationError.of_field("trunk.invalid_sip", "give a SIP address or --remove", "sip")
        row = find_trunk(uow, name=name)
        set_trunk_sip(uow, now, row, uri, register=sip_register, pai=sip_pai, options_interval=sip_options,
                      password=sip_password, platform=owned_by_platform)
        return trunk_doc(row)

    doc = in_tenant(database_url, tenant, as_json, act)
    if as_json:
        print_json(doc)
    else:
        sip_ = doc["sip"]
        out.print(f"trunk {doc['name']}: {sip_['uri'] if sip_ else 'no SIP address / 无 SIP 地址'}")


@app.command("assign")
def assign(
    name: str = typer.Argument(..., help="A platform trunk's name. / 平台线路名称。"),
    remove: bool = typer.Option(False, "--remove", help="Take it back from the tenant. / 从租户收回。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Assign a platform trunk to a tenant (resell it), or take it back. / 将平台线路分配给租户或收回。"""
    doc = in_tenant(database_url, tenant, as_json,
                    lambda uow, now: assign_platform_trunk(uow, now, name, remove=remove))
    if as_json:
        print_json(doc)
    else:
        out.print(f"trunk {doc['name']} {'taken back / 已收回' if remove else 'assigned / 已分配'}")


@app.command("list")
def list_(as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt) -> None:
    """The trunks this tenant may use. / 本租户可用的线路。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)
        with p.uow(tid) as uow:
            docs = [trunk_doc(r) for r in visible_trunks(uow)]
    if as_json:
        print_json({"trunks": docs})
        return
    t = Table(title="trunks / 线路")
    for col in ("name", "owner", "role", "capacity", "cps", "cost/min", "regions", "business", "priority", "sip"):
        t.add_column(col)
    for d in docs:
        t.add_row(d["name"], d["owner"], d["role"], str(d["capacity"]), f"{d['cps']:g}",
                  f"{d['cost_per_minute']:g}/{d['billing_increment']}s", ",".join(d["regions"]),
                  ",".join(d["business"]), str(d["priority"]), d["sip"]["uri"] if d["sip"] else "-")
    out.print(t)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _table(docs: list[dict[str, Any]]) -> Table:
    t = Table(title="trunk status / 线路实时质量 (5 min | 1 h | today)")
    for col in ("trunk", "attempts", "ASR", "ACD s", "PDD s", "line loss", "top losses (5 min)", "alarm",
                "today: min / cost"):
        t.add_column(col)
    for d in docs:
        w = d["windows"]
        five = w["5m"]
        top = sorted(five["loss_rates"].items(), key=lambda kv: -kv[1])[:3]
        t.add_row(
            d["name"], " | ".join(str(w[k]["attempts"]) for k in ("5m", "1h", "today")),
            " | ".join(_pct(w[k]["asr"]) for k in ("5m", "1h", "today")),
            "-" if five["acd"] is None else f"{five['acd']:.0f}", "-" if five["pdd"] is None else f"{five['pdd']:.1f}",
            " | ".join(_pct(w[k]["line_loss_rate"]) for k in ("5m", "1h", "today")),
            ", ".join(f"{k} {_pct(v)}" for k, v in top) or "-", d["alarm"] or "ok",
            f"{d['usage_today']['minutes']:.1f} / {d['usage_today']['cost']:.2f}")
    return t


@app.command("status")
def status(
    watch: float = typer.Option(0.0, "--watch", help="Refresh every N seconds (0: once). / 每 N 秒刷新。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Live quality of each trunk over 5 minutes, 1 hour and today. / 各线路 5 分钟、1 小时、今日的实时质量。"""
    with errors(as_json):
        p = platform(database_url)
        tid = tenant_id(p, tenant)

        def snapshot() -> list[dict[str, Any]]:
            with p.uow(tid) as uow:
                return trunk_status(uow, p.clock.now())

        docs = snapshot()
        if as_json:
            print_json({"trunks": docs})
            return
        if watch <= 0:
            out.print(_table(docs))
            return
        import threading

        stop = threading.Event()
        with Live(_table(docs), console=out, refresh_per_second=1) as live:
            try:
                while not stop.wait(watch):
                    live.update(_table(snapshot()))
            except KeyboardInterrupt:
                pass
