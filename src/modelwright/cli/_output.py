"""Rendering helpers: Rich tables for people, JSON for scripts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

__all__ = [
    "console",
    "emit_json",
    "emit_rows_json",
    "fit_to_terminal",
    "fmt",
    "hint_next_page",
    "print_done",
    "print_one",
    "print_rows",
    "table",
]

T = TypeVar("T")

console = Console(highlight=False, soft_wrap=False)


def fit_to_terminal() -> None:
    """Size output at each command: the terminal's width, ``COLUMNS``, or 160 when piped
    (Rich would squeeze tables into 80 columns and cut the values scripts look for)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        console.width = int(columns)
    elif not console.is_terminal:
        console.width = 160


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) or "-"
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(*(fmt(v) for v in row))
    console.print(t)


def emit_json(value: Any) -> None:
    def default(obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return obj.model_dump(mode="json", by_alias=True)
        raise TypeError

    typer.echo(orjson.dumps(value, default=default, option=orjson.OPT_INDENT_2).decode())


def emit_rows_json(rows: Sequence[Any], *, paged: bool) -> None:
    """A list as JSON: every row as an array, or (one page asked for) the page and its token."""
    if paged:
        token = getattr(rows, "next_page_token", None)
        emit_json({"items": list(rows), "next_page_token": token})
    else:
        emit_json(rows)


def hint_next_page(rows: Sequence[Any]) -> None:
    """Say on stderr how to get the next page, when there is one."""
    if token := getattr(rows, "next_page_token", None):
        typer.echo(f"more: --page-token {token}", err=True)


def print_rows(
    rows: Sequence[T],
    title: str | None,
    columns: Sequence[str],
    cells: Callable[[T], Sequence[Any]],
    *,
    json: bool,
    paged: bool,
) -> None:
    """A list command's output: the next page's token on stderr, then the rows as JSON (see
    ``emit_rows_json``) or as a table of one row of ``cells`` per item."""
    hint_next_page(rows)
    if json:
        emit_rows_json(rows, paged=paged)
        return
    table(title, columns, (cells(r) for r in rows))


def print_one(value: T, human: Callable[[T], None], *, json: bool) -> None:
    """One result: as JSON for scripts, else as ``human`` prints it for people."""
    if json:
        emit_json(value)
    else:
        human(value)


def print_done(message: str, *, json: bool, **facts: Any) -> None:
    """What a command with no result to print did: ``message`` for people, or (``json``)
    an object of ``facts`` for scripts."""
    if json:
        emit_json(facts)
    else:
        console.print(message, markup=False)
