"""The `hub` command. Each command is a module-level function in one of this package's modules (data, history,
report, reports, admin, ops, ckan, serve), a thin skin over the library function it is named after (see STYLE.md §2),
and is attached to the group below with a plain import.

Errors end here and only here (`HubGroup.invoke`): a HubError becomes one line (Vietnamese, then English)
and the exit status its class carries (core/errors.py `exit_code`); no traceback reaches the user.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import click

from core import errors
from hub.cli import admin, ckan, data, harvest, history, ops, report, reports, serve


class HubFailure(click.ClickException):
    """A HubError on its way out of the command: its one bilingual line and its class's exit status."""

    def __init__(self, error: errors.HubError) -> None:
        super().__init__(error.bilingual())
        self.error = error
        self.exit_code = error.exit_code  # type: ignore[misc]  # click's is per class; this one is the error's

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Lỗi / Error: {self.error.bilingual()}", file=file, err=file is None)


class HubGroup(click.Group):
    """The top group: every command runs inside it, so this is the one place errors become exit statuses."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.HubError as exc:
            raise HubFailure(exc) from exc


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="dong-nai-culture-data-hub", prog_name="hub")
def cli() -> None:
    """Cổng dữ liệu Văn hóa, Thể thao và Du lịch Đồng Nai.

    The Đồng Nai culture, sports and tourism data hub: ingest, validate, publish and serve sector data.
    Configuration comes from HUB_* environment variables (see `hub check-config`).
    """


cli.add_command(data.init)
cli.add_command(data.ingest)
cli.add_command(data.validate)
cli.add_command(data.datasets)
cli.add_command(history.versions_cmd)
cli.add_command(history.diff)
cli.add_command(history.rollback)
cli.add_command(history.export)
cli.add_command(history.backup)
cli.add_command(history.restore)
cli.add_command(report.report)
cli.add_command(reports.reports)
cli.add_command(admin.keys_group)
cli.add_command(admin.audit_command)
cli.add_command(ops.check_config)
cli.add_command(ops.migrate)
cli.add_command(ops.worker)
cli.add_command(ops.jobs)
cli.add_command(ops.nginx_config)
cli.add_command(ckan.publish_ckan)
cli.add_command(harvest.harvest)
cli.add_command(serve.serve)


def main(argv: list[str] | None = None) -> None:
    try:
        status = cli.main(args=argv, standalone_mode=False)
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
    if isinstance(status, int):  # outside standalone mode click returns a `click.exceptions.Exit`'s status
        sys.exit(status)
