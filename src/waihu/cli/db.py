"""``waihu db``: schema migrations. / 数据库迁移。"""

from __future__ import annotations

import typer

from waihu.cli.common import DbOpt, err, platform

app = typer.Typer(help="Database schema. / 数据库结构。", no_args_is_help=True)


@app.command("upgrade")
def upgrade(database_url: str | None = DbOpt) -> None:
    """Migrate the database to the newest schema. / 将数据库迁移到最新结构。"""
    p = platform(database_url)
    err.print(f"database ready / 数据库已就绪: {p.engine.url.render_as_string(hide_password=True)}")
    p.dispose()
