"""Rich progress bars for the phases a user waits on outside Lightning's loop (feature extraction, BN
calibration, linear probe epochs, KNN, reading runs); a no-op when disabled (progress_bar=false)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


def progress(items: Iterable[T], description: str, enabled: bool = True, total: int | None = None,
             console: Console | None = None) -> Iterator[T]:
    if not enabled:
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True, console=console) as bar:
        yield from bar.track(items, total=total, description=description)
