"""``waihu bench ...``: benchmarks that print JSON. / 基准测试，输出 JSON。"""

from __future__ import annotations

import typer

from waihu.cli.common import DbOpt, JsonOpt, errors, out, platform, print_json

app = typer.Typer(help="Benchmarks that print JSON. / 基准测试（输出 JSON）。", no_args_is_help=True)


@app.command("screening")
def screening(
    contacts: int = typer.Option(100_000, "--contacts", min=1, help="Contacts in the campaign. / 任务联系人数。"),
    dnc: int = typer.Option(1_000_000, "--dnc", min=0, help="DNC entries. / 免打扰名单条数。"),
    seed: int = typer.Option(1, "--seed", help="Random seed. / 随机种子。"),
    as_json: bool = JsonOpt,
    database_url: str | None = DbOpt,
) -> None:
    """Time screening a campaign's dial queue against every compliance rule. / 合规筛选基准测试。"""
    from waihu.bench.screening import run_screening_bench

    with errors(as_json):
        doc = run_screening_bench(platform(database_url), contacts, dnc, seed)
    if as_json:
        print_json(doc)
    else:
        for k, v in doc.items():
            out.print(f"{k}: {v}")
