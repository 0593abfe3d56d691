"""``waihu run``: a campaign over real SIP trunks, in real time. / 通过真实 SIP 中继运行外呼任务。"""

from __future__ import annotations

import asyncio
import signal

import typer

from waihu.cli.common import DbOpt, JsonOpt, TenantOpt, errors, out, platform, print_json, tenant_id


def run(
    campaign: str = typer.Argument(..., help="The campaign (running). / 外呼任务（须已启动）。"),
    trunk: list[str] = typer.Option(..., "--trunk", help="NAME=sip:[user:password@]host[:port][;transport=tcp], once per trunk. "
                                    "/ 中继：名称=SIP 地址，可多次。"),
    agent: list[str] = typer.Option([], "--agent", help="CODE=sip:ext@host[:port]: an agent and the phone "
                                    "called for the session. / 座席工号=话机 SIP 地址，可多次。"),
    listen: str = typer.Option("127.0.0.1:5060", "--listen", help="Our SIP address. / 本端 SIP 监听地址。"),
    use_pai: bool = typer.Option(False, "--pai", help="Send the caller ID in P-Asserted-Identity too. / "
                                 "同时在 P-Asserted-Identity 中携带主叫号码。"),
    register: bool = typer.Option(False, "--register", help="Register to trunks that have a user. / "
                                  "向带用户名的中继注册。"),
    options_interval: float = typer.Option(30.0, "--options-interval", min=0.0, help="Seconds between OPTIONS "
                                           "probes (0: none). / OPTIONS 探测间隔秒数（0 为不探测）。"),
    wrap_seconds: float = typer.Option(10.0, "--wrap-seconds", min=0.0, help="Agents' wrap-up when the campaign "
                                       "sets no limit. / 任务未设话后处理时限时的座席话后时长。"),
    max_seconds: float | None = typer.Option(None, "--max-seconds", min=1.0, help="Stop after this long. / "
                                             "最长运行秒数。"),
    as_json: bool = JsonOpt, tenant: str | None = TenantOpt, database_url: str | None = DbOpt,
) -> None:
    """Dial a campaign through SIP trunks, bridging answered calls to agents' phones, until it is done.
    / 通过 SIP 中继外呼任务，接通后桥接到座席话机，直至任务完成。"""
    from waihu.domain.errors import ErrorDetail, ValidationError
    from waihu.service.sip_run import SipRun, SipRunConfig, parse_listen, parse_pairs, sip_trunks

    with errors(as_json):
        trunks = parse_pairs(trunk, "trunk")
        agents = parse_pairs(agent, "agent")
        if not agents:
            raise ValidationError("run.no_agents", "give at least one --agent CODE=sip:...",
                                  [ErrorDetail("run.no_agents", "required", field="agent")])
        lines = sip_trunks(trunks, use_pai=use_pai, register=register, options_interval=options_interval)
        cfg = SipRunConfig(campaign, lines, agents, parse_listen(listen), wrap_seconds, max_seconds)
        p = platform(database_url)
        job = SipRun(p, tenant_id(p, tenant), cfg)
        job.prepare()

        async def go() -> dict[str, object]:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, job.stop)
            return await job.run()

        if not as_json:
            out.print(f"dialling {campaign} over {', '.join(trunks)} with {len(agents)} agents; Ctrl-C stops / "
                      "外呼中，Ctrl-C 停止")
        doc = asyncio.run(go())
    print_json(doc) if as_json else out.print(doc)
