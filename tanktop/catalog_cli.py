"""`tanktop catalog ...`: catalog chores run against the database directly, through the service's own use cases.

The import writes in one transaction with its changes queued in the catalog's outbox; the running
catalog service (any replica) publishes them, so nothing is lost when no service is up yet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from services.catalog import epg, store, xmltv
from shared import db
from shared.errors import ProblemError
from shared.migrations import migrate

app = typer.Typer(no_args_is_help=True, help="The shared catalog: import an XMLTV guide.")
err = Console(stderr=True)


class _Counting:
    """A file whose reads move a progress bar."""

    def __init__(self, file: IO[bytes], progress: Progress, task: Any) -> None:
        self._file = file
        self._progress = progress
        self._task = task

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._progress.advance(self._task, len(chunk))
        return chunk


@app.command("import-xmltv")
def import_xmltv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="An XMLTV document.")],
) -> None:
    """Import an XMLTV guide into the catalog database (TANKTOP_DATABASE_URL, else the local embedded one).

    Channels are matched by xmltv_id (or created), programmes matched to catalog items by external id
    or title/season/episode (or created), and each channel's slots in the guide's window replaced.
    """
    from tanktop.cli import database_url

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        reading = progress.add_task("parsing", total=file.stat().st_size)
        try:
            with file.open("rb") as raw:
                guide = xmltv.parse(_Counting(raw, progress, reading))
        except ProblemError as error:
            err.print(f"[red]{file}: {error.detail}[/red]")
            raise typer.Exit(2) from None
        importing = progress.add_task(f"importing {len(guide.programmes)} programmes", total=None)
        summary = asyncio.run(_import(database_url(), guide))
        progress.update(importing, total=1, completed=1)
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())


async def _import(url: str, guide: xmltv.Guide) -> dict[str, Any]:
    pool = await db.create_pool(url, min_size=1, max_size=2)
    try:
        await migrate(pool, store.SCHEMA, "services.catalog")
        return await epg.import_guide(pool, guide)
    finally:
        await pool.close()
