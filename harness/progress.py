"""Progress for long steps (downloads, builds): rich bars on a terminal, plain lines otherwise."""
import sys
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def interactive() -> bool:
    return sys.stderr.isatty()


def note(message: str) -> None:
    """A one-line status message, always shown (stderr), so logs say what hrt did."""
    console.print(f"[dim]hrt:[/dim] {escape(message)}", soft_wrap=True)   # HAProxy's words are text, not markup


@contextmanager
def download_bar(label: str, total: int | None):
    """Yields advance(n); draws a bar only on a terminal."""
    if not interactive():
        yield lambda n: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console,
                  transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)


@contextmanager
def spinner(label: str):
    """Yields update(text) for a long step such as a build (last log line as the text)."""
    if not interactive():
        yield lambda text: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  TextColumn("[dim]{task.fields[line]}"), console=console, transient=True) as prog:
        task = prog.add_task(label, line="")
        yield lambda text: prog.update(task, line=text[-70:])
