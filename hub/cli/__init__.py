"""The `hub` command. Each command is a thin skin over a library function (see STYLE.md §2).

Errors end here and only here: a HubError becomes one line (Vietnamese, then English) and an exit status
that tells scripts what went wrong; no traceback reaches the user.
"""

from __future__ import annotations

import sys

import click

from core import errors

EXIT_CODES: list[tuple[type[errors.HubError], int]] = [
    (errors.ConfigError, 3),
    (errors.CatalogError, 3),
    (errors.StoreError, 4),
    (errors.InputError, 5),
    (errors.ValidationFailed, 6),
    (errors.LoadConflict, 7),
    (errors.NotFound, 8),
    (errors.HubError, 1),
]

COMMAND_MODULES = ["hub.cli.data", "hub.cli.serve", "hub.cli.history", "hub.cli.admin", "hub.cli.ops", "hub.cli.ckan",
                   "hub.cli.report"]


def exit_code(exc: errors.HubError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="dong-nai-culture-data-hub", prog_name="hub")
def cli() -> None:
    """Cổng dữ liệu Văn hóa, Thể thao và Du lịch Đồng Nai.

    The Đồng Nai culture, sports and tourism data hub: ingest, validate, publish and serve sector data.
    Configuration comes from HUB_* environment variables (see `hub check-config`).
    """


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = __import__(name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except errors.HubError as exc:
        click.echo(f"Lỗi / Error: {exc.bilingual()}", err=True)
        sys.exit(exit_code(exc))
    except click.exceptions.Abort:
        click.echo("Đã huỷ / Aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Đã huỷ / Interrupted", err=True)
        sys.exit(130)
