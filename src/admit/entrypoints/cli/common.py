"""What every command shares: settings, the use cases' context, errors as clear messages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from admit.bootstrap import build_context
from admit.config import Settings
from admit.domain.errors import DomainError
from admit.shared.context import Actor, Context

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False)
P = ParamSpec("P")
R = TypeVar("R")
OPERATOR = Actor.operator("cli")


@functools.cache
def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            errors.print(f"[red]Configuration error:[/red] {error['msg']}")
        raise typer.Exit(2) from None


@functools.cache
def context() -> Context:
    return build_context(settings())


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Show domain errors as one line (code, field, message) and exit 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            where = f" ({exc.field})" if exc.field else ""
            errors.print(f"[red]Error[/red] {exc.code}{where}: {exc.message}")
            raise typer.Exit(1) from None

    return wrapper


def _field(record: Mapping[str, Any] | object, name: str) -> str:
    """A field of a dict or of a typed view, as shown (empty when missing or None)."""
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    return "" if value is None else str(value)


def show_record(title: str, record: Mapping[str, Any] | object, fields: Sequence[str]) -> None:
    """``record``: a dict or a typed view (its attributes)."""
    console.print(f"[bold]{title}[/bold]")
    for name in fields:
        console.print(f"{name}: {_field(record, name)}")


def show_table(columns: Sequence[str], rows: Iterable[Mapping[str, Any] | object], *, empty: str) -> None:
    """``rows``: dicts or typed views (their attributes)."""
    rows = list(rows)
    if not rows:
        console.print(empty)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_field(row, c) for c in columns))
    console.print(table)
