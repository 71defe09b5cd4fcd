"""``helpthread export`` and ``helpthread import``: files, standard streams and the
progress bar around ``core.store.export_sql`` / ``core.store.import_sql``.

A progress bar (rich) is drawn on stderr only when stderr is a terminal; piped or
redirected, nothing but the data (export) or the summary line (import) is written.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import IO, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import make_url

from bot.paths import BadPath, output_path
from bot.runtime import migrate_database, migrate_existing
from bot.settings import ConfigError, Settings
from core.config import DeskConfig
from core.store.engine import make_engine
from core.store.export_format import SensitiveFields
from core.store.export_sql import ExportOptions, count_tickets, export_chunks
from core.store.import_sql import Imported, empty, import_lines, read_header
from core.store.migrate import sqlite_file


def _progress(what: str) -> Progress | None:
    if not sys.stderr.isatty():
        return None
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=True)


class CannotWrite(Exception):
    """``--out`` names a file that cannot be written (no such directory, no permission,
    a directory, the disk full); ``str()``: one line naming ``--out`` and why. No file is
    left behind. Raised before the database is opened: ``OutRefused``; midway (the disk
    full): this class itself."""


class OutRefused(CannotWrite):
    """``--out`` cannot be created at all (a bad argument, as ``report --png``'s): refused
    before the database is opened."""


@contextmanager
def _output(out: str, csv_format: bool) -> Iterator[IO[str]]:
    """stdout for ``-``. A regular file (or a new one) is written beside ``out`` and
    renamed to it once complete: a failed export leaves no file that looks whole. A
    symbolic link is followed, so the file it points to is written, not the link
    replaced. A path that is not a regular file — a FIFO, ``/dev/stdout``, a device — is
    written as it is: renaming over it would replace it with a file. Raises
    ``OutRefused`` for a path that cannot be written (``bot.paths.output_path``)."""
    newline = "" if csv_format else "\n"
    if out == "-":
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline=newline,
                                  write_through=False)
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
        return
    try:
        example = "helpthread-export." + ("csv" if csv_format else "jsonl")
        target = Path(os.path.realpath(output_path("--out", out, example,
                                                   into_directory=False)))
    except BadPath as err:
        raise OutRefused(f"export: {err}") from err
    in_place = target.exists() and not target.is_file()
    partial = target if in_place else target.with_name(target.name + ".partial")
    try:
        stream = partial.open("w", encoding="utf-8", newline=newline)
    except OSError as err:
        raise OutRefused(f"export: --out {out}: cannot write it "
                         f"({err.strerror or err})") from err
    try:
        try:
            yield stream
        except BaseException:
            with suppress(OSError):
                stream.close()
            raise
        try:
            stream.close()  # flushes: the disk may be full
            if not in_place:
                os.replace(partial, target)
        except OSError as err:
            raise CannotWrite(f"export: --out {out}: cannot write it "
                              f"({err.strerror or err})") from err
    except BaseException:
        if not in_place:
            partial.unlink(missing_ok=True)
        raise


async def export(settings: Settings, config: DeskConfig, *, out: str,
                 format: Literal["jsonl", "csv"], since: datetime | None,
                 include_sensitive: bool) -> int:
    """Writes the export to ``out`` (``-``: stdout); returns the tickets written. Raises
    ``CannotWrite`` (``OutRefused``, the database untouched, when ``out`` cannot be
    created), and ``ConfigError`` for a SQLite file that does not exist (none is made)."""
    options = ExportOptions(exported_at=datetime.now(UTC), format=format, since=since,
                            hide=None if include_sensitive else SensitiveFields.of(config))
    written = 0
    with _output(out, format == "csv") as stream:  # a bad --out: refused before the database
        await migrate_existing(settings.database_url, "export")
        engine = make_engine(settings.database_url)
        try:
            bar = _progress("Exporting tickets")
            total = await count_tickets(engine, since) if bar else 0
            with bar or _nothing():
                task = bar.add_task("export", total=total) if bar else None
                async for chunk in export_chunks(engine, options):
                    _write(stream, chunk.text, out)
                    written += chunk.tickets
                    if bar and task is not None and chunk.tickets:
                        bar.advance(task, chunk.tickets)
        finally:
            await engine.dispose()
    return written


def _write(stream: IO[str], text: str, out: str) -> None:
    try:
        stream.write(text)
    except OSError as err:  # the disk full, say
        raise CannotWrite(f"export: --out {out}: cannot write it "
                          f"({err.strerror or err})") from err


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _lines(path: str) -> Iterator[str]:
    if path == "-":
        yield from io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        return
    try:
        with open(path, encoding="utf-8") as stream:
            yield from stream
    except OSError as err:
        raise ConfigError(f"import: cannot read {path} ({err.strerror or err})") from err


def _readable(path: str) -> None:
    if not os.access(path, os.R_OK):
        raise ConfigError(f"import: cannot read {path} (no such file or no permission)")
    if os.path.isdir(path):
        raise ConfigError(f"import: cannot read {path} (a directory)")


ONLY_EXPORTS = "only the JSON lines written by `helpthread export` can be imported"


async def import_file(settings: Settings, path: str) -> Imported:
    """Imports the export at ``path`` (``-``: stdin) into the database of ``settings``,
    migrated first. A refused import changes nothing: the first line is checked before
    the database is opened, and a SQLite file the import created is removed when it
    fails. Raises ``ConfigError`` (unreadable file, not UTF-8), and what
    ``core.store.import_sql.import_lines`` raises."""
    if path != "-":
        _readable(path)
    lines = _lines(path)
    try:
        first = next(lines, None)
        if first is None:
            raise empty()
        if first.strip():  # a blank first line: import_lines says what is wrong
            read_header(first)
        made = _new_sqlite_files(settings.database_url)
        try:
            await migrate_database(settings.database_url)
            engine = make_engine(settings.database_url)
            bar = _progress("Importing tickets")
            try:
                with bar or _nothing():
                    task = bar.add_task("import", total=None) if bar else None

                    def advanced(done: int) -> None:
                        if bar and task is not None:
                            bar.update(task, completed=done)
                    return await import_lines(engine, chain([first], lines),
                                              progress=advanced)
            finally:
                await engine.dispose()
        except BaseException:
            for file in made:
                file.unlink(missing_ok=True)
            raise
    except UnicodeDecodeError as err:
        raise ConfigError(f"import: {path} is not UTF-8 text ({err.reason}); "
                          f"{ONLY_EXPORTS}; nothing was imported") from err


def _new_sqlite_files(url: str) -> list[Path]:
    """The files a SQLite database at ``url`` is made of (the database, its journal and
    write-ahead log) that do not exist yet: those an import that fails removes."""
    if make_url(url).get_backend_name() != "sqlite":
        return []
    database = sqlite_file(url)
    files = [database] + [database.with_name(database.name + suffix)
                          for suffix in ("-journal", "-wal", "-shm")]
    return [file for file in files if not file.exists()]
