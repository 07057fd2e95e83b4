"""Helpers the CLI commands share: opening the hub from the environment, progress, tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.config import Settings
from publish.context import Hub

console = Console()
err_console = Console(stderr=True)


def open_hub(*, init: bool = False) -> Hub:
    return Hub.open(Settings.from_env(), init=init)


@contextmanager
def row_progress(description: str) -> Iterator[Any]:
    """A progress display counting source rows; yields a callback taking the rows read so far."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None),
                  TextColumn("{task.completed:,.0f} dòng / rows"), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task(description, total=None)
        yield lambda rows: progress.update(task, completed=rows)


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
