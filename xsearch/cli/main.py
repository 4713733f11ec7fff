"""Entry point of the ``xsearch`` command.

Command groups live in their own modules; each exposes ``register(app)``.
The outer layers' commands (``index``, ``add``, ``delete``, ``check``, ``serve``) load
their module when they are used.
Errors from the library (``XSearchError``) are printed as one line that names
the fix; ``XSEARCH_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

# Command groups of the core library: imported now (each imports its heavy
# dependencies inside its commands, so `xsearch --help` stays fast and serving
# code never imports torch).
_COMMAND_MODULES = [
    "xsearch.cli.model",
    "xsearch.cli.encode",
    "xsearch.cli.search",
    "xsearch.cli.store",
    "xsearch.cli.eval",
    "xsearch.cli.demo",
]

# Commands of the outer layers (bulk indexer, HTTP API), by name: their module is
# imported only when the command runs or help lists it, never when the core CLI
# is imported (the core must not depend on the layers built on it).
_OUTER_COMMANDS: dict[str, str] = {
    "index": "xsearch.indexer.cli",
    "add": "xsearch.indexer.cli",
    "delete": "xsearch.indexer.cli",
    "check": "xsearch.indexer.cli",
    "serve": "xsearch.api.cli",
}


@functools.cache
def _outer_command(name: str) -> Any:
    sub = typer.Typer()
    importlib.import_module(_OUTER_COMMANDS[name]).register(sub)
    built = typer.main.get_command(sub)
    # Typer collapses an app of one command into that command.
    return built.commands[name] if hasattr(built, "commands") else built


class _Commands(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *_OUTER_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _OUTER_COMMANDS:
            return _outer_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="xsearch",
    help="Cross-lingual semantic search: index documents in any language, search in any other.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=_Commands,
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    from xsearch.errors import XSearchError
    from xsearch.settings import get_settings

    try:
        app(standalone_mode=False)
    except XSearchError as err:
        if get_settings().debug:
            raise
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        sys.exit(err.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.secho("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors come through here
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
