"""The core CLI does not import the outer layers (xsearch.api, xsearch.indexer) until one of their
commands runs, yet lists and runs those commands."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from tests.api.server import REPO


def test_importing_the_cli_imports_no_outer_layer() -> None:
    code = (
        "import sys, xsearch.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'api', 'indexer', 'fastapi'} "
        "or m.startswith(('xsearch.api', 'xsearch.indexer'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_outer_commands_are_listed_and_load_on_use() -> None:
    from xsearch.cli.main import app

    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in ("index", "add", "delete", "serve", "search", "stats"):
        assert f" {name} " in listing.output, name
    add_help = runner.invoke(app, ["add", "--help"])
    assert add_help.exit_code == 0 and "--api" in add_help.output
