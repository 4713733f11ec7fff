"""Entry point of the ``xsearch`` command.

Command groups live in their own modules; each exposes ``register(app)``.
Errors from the library (``XSearchError``) are printed as one line that names
the fix; ``XSEARCH_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="xsearch",
    help="Cross-lingual semantic search: index documents in any language, search in any other.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Modules that add commands. Imported lazily inside each command so that
# `xsearch --help` stays fast and serving code never imports torch.
_COMMAND_MODULES = [
    "xsearch.cli.model",
    "xsearch.cli.encode",
    "xsearch.cli.search",
    "xsearch.cli.store",
    "xsearch.cli.eval",
    "xsearch.cli.demo",
    "indexer.cli",
    "api.cli",
]

for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a group not written yet
        if exc.name != _name:
            raise
        continue
    _mod.register(app)


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
