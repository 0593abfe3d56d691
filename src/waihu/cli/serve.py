"""``waihu serve``, ``waihu tenant create`` and ``waihu user create``. / 服务与账号引导。"""

from __future__ import annotations

import typer

from waihu.cli.common import DbOpt, JsonOpt, errors, out, platform, print_json

tenant_app = typer.Typer(help="Tenants. / 租户。", no_args_is_help=True)
user_app = typer.Typer(help="Users (logins). / 用户账号。", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. / 监听地址。"),
    port: int = typer.Option(8000, "--port", help="Port. / 端口。"),
    speed: float = typer.Option(1.0, "--speed", help="Simulated network time per wall-clock second. / 模拟网络时间倍速。"),
    demo: bool = typer.Option(False, "--demo", help="Start a simulated campaign with simulated agents and print a login to join them. / 启动模拟任务与模拟座席，并输出加入用的登录账号。"),
    sip_listen: str | None = typer.Option(None, "--sip-listen", envvar="WAIHU_SIP_LISTEN", show_envvar=True,
                                          help="Our SIP address HOST:PORT (the address carriers and agents' phones "
                                          "reach). With it, tenants whose trunks have SIP addresses dial over them "
                                          "in real time. / 本端 SIP 地址；设置后，配置了 SIP 地址的线路实际外呼。"),
    database_url: str | None = DbOpt,
) -> None:
    """Run the API, the web console and the dialer runtime (on the simulated network, or on SIP
    trunks with --sip-listen). / 运行接口、控制台与外呼引擎（模拟网络，或经 --sip-listen 走 SIP 线路）。"""
    import uvicorn

    from waihu.api.app import create_app
    from waihu.api.observability import setup_logging
    from waihu.service.live import LiveHost

    if speed <= 0:
        raise typer.BadParameter("speed must be > 0 / 倍速必须大于 0")
    listen = None
    if sip_listen is not None:
        from waihu.domain.errors import ValidationError
        from waihu.service.sip_run import parse_listen

        try:
            listen = parse_listen(sip_listen)
        except ValidationError:
            raise typer.BadParameter("--sip-listen takes HOST:PORT, e.g. 10.0.0.2:5060 / 格式为 主机:端口",
                                     param_hint="--sip-listen") from None
        if speed != 1.0:
            raise typer.BadParameter("SIP trunks run in real time: --speed must be 1 / SIP 线路须实时运行",
                                     param_hint="--speed")
    p = platform(database_url)
    setup_logging(p.settings.log_level)
    live = LiveHost(p, speed=speed, sip_listen=listen)
    if listen is None:
        from waihu.service.sip_lines import count_sip_trunks

        n = count_sip_trunks(p)
        if n:
            out.print(f"{n} trunks have SIP addresses but --sip-listen is not given: their tenants' calls are held "
                      f"/ {n} 条线路配置了 SIP 地址，但未指定 --sip-listen：这些租户的呼叫将暂缓")
    else:
        try:
            live.start_sip()
        except (OSError, RuntimeError) as e:
            raise typer.BadParameter(f"cannot listen for SIP on {sip_listen}: {e} / 无法监听 SIP 地址",
                                     param_hint="--sip-listen") from None
        out.print(f"SIP / SIP 信令: {listen[0]}:{listen[1]} (udp)")
    if demo:
        from waihu.service.console_demo import prepare

        d = prepare(p, live)
        out.print(f"console / 控制台: http://{host}:{port}/\n"
                  f"campaign / 任务: {d['campaign']} ({d['simulated_agents']} simulated agents / 模拟座席)\n"
                  f"log in as an agent / 座席登录: demo-agent / {d['password']}\n"
                  f"wallboard / 监控大屏: demo-supervisor / {d['password']}  ·  admin / 管理员: demo-admin / {d['password']}")
    app = create_app(p, live, background=True)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@tenant_app.command("create")
def tenant_create(
    name: str = typer.Argument(..., help="Tenant name. / 租户名称。"),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="IANA time zone. / 时区。"),
    as_json: bool = JsonOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Create a tenant and print its first tenant_admin API token (shown once). / 创建租户并输出管理员令牌（仅显示一次）。"""
    from waihu.service.accounts import create_tenant

    p = platform(database_url)
    with errors(as_json), p.uow("", actor="local-operator") as uow:
        t, token = create_tenant(uow, name, p.clock.now(), timezone=timezone)
        uow.commit()
        if as_json:
            print_json({"tenant_id": t.id, "api_token": token})
        else:
            out.print(f"tenant / 租户: {t.id}\napi token / 令牌 (shown once / 仅显示一次): {token}")


@user_app.command("create")
def user_create(
    username: str = typer.Argument(..., help="Login name. / 登录名。"),
    role: str = typer.Option("tenant_admin", "--role", help="platform_admin, tenant_admin, supervisor, agent, qa, api_client. / 角色。"),
    tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or name (not for platform_admin). / 租户。"),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, help="Password (8+ characters). / 密码。"),
    agent_id: str | None = typer.Option(None, "--agent-id", help="The agent this login acts as. / 对应座席。"),
    as_json: bool = JsonOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Create a login. / 创建登录账号。"""
    from waihu.domain.errors import NotFound
    from waihu.service.auth import create_user
    from waihu.service.tenants import find_tenant

    p = platform(database_url)
    with errors(as_json), p.uow("", actor="local-operator") as uow:
        tid = ""
        if tenant is not None:
            tid = find_tenant(uow, tenant) or ""
            if not tid:
                from waihu.service.accounts import tenant_exists

                tid = tenant if tenant_exists(uow, tenant) else ""
            if not tid:
                raise NotFound("tenant.not_found", "no such tenant")
        uow.tenant_id = tid
        u = create_user(uow, username, password, role, p.clock.now(), agent_id=agent_id)
        uow.commit()
        if as_json:
            print_json({"user_id": u.id, "username": u.username, "role": u.role, "tenant_id": u.tenant_id})
        else:
            out.print(f"user / 用户: {u.id} ({u.role})")
