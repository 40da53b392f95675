"""A progress bar on standard error for long phases; silent for JSON or non-terminal output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eigyo.cli._app import err_console, progress_enabled

Tick = Callable[[str, int, int], None]


@contextmanager
def progress_bar(fmt: str, label: str) -> Iterator[Tick]:
    """Yield a ``tick(item, done, total)`` callback that drives one bar."""
    if not progress_enabled(fmt):
        yield lambda item, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as prog:
        task = prog.add_task(label, total=None, item="")

        def tick(item: str, done: int, total: int) -> None:
            prog.update(task, completed=done, total=total, item=item)

        yield tick


@contextmanager
def phase_bars(fmt: str, labels: dict[str, str]) -> Iterator[Callable[[str], Tick]]:
    """Yield a factory ``phase(name) -> tick`` giving each phase of a pipeline its own bar."""
    if not progress_enabled(fmt):
        yield lambda name: lambda item, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        TimeElapsedColumn(),
        console=err_console,
    ) as prog:

        def phase(name: str) -> Tick:
            task = prog.add_task(labels.get(name, name), total=None, item="")

            def tick(item: str, done: int, total: int) -> None:
                prog.update(task, completed=done, total=total, item=item)

            return tick

        yield phase
