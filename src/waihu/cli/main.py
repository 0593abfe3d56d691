"""The ``waihu`` command line (Typer + Rich). Help is given in English and Chinese."""

from __future__ import annotations

import typer

from waihu.cli import bench

app = typer.Typer(
    name="waihu",
    help="waihu: open-source outbound contact-center platform. / waihu 开源外呼平台。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(bench.app, name="bench")


def main() -> None:
    app()
