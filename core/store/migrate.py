"""Alembic migrations, run from code (``helpthread db upgrade``; ``helpthread run`` on start).

This is where the database is first opened, so a database that cannot be opened is
told here as ``CannotOpenDatabase``: one sentence, and whether the server could not be
reached (try again later) or the URL names something that is not there (fix it).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from core.store.engine import SQLITE_BUSY_TIMEOUT_MS, asyncpg_arguments, make_engine
from core.store.url_options import BadOption

MIGRATIONS = Path(__file__).with_name("migrations")


class CannotOpenDatabase(Exception):
    """The database could not be opened or migrated; ``str()`` says why in one line.
    ``unreachable``: no server answered (an outage, not a wrong setting)."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision before and after, and the migrations applied
    in order as ``(revision, migration_title(its docstring))``."""

    before: str | None
    after: str | None
    applied: tuple[tuple[str, str], ...]


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> Upgrade:
    """Bring the database at ``url`` to ``revision`` (blocking; runs its own event loop)."""
    return asyncio.run(upgrade_async(url, revision))


async def upgrade_async(url: str, revision: str = "head") -> Upgrade:
    """Open the database at ``url`` and bring it to ``revision`` in one transaction.
    Safe to call from several processes at once: on PostgreSQL the transaction first
    takes an advisory lock (the others wait, then find nothing to apply); on SQLite it
    holds the file's write lock (``BEGIN IMMEDIATE``). Raises ``CannotOpenDatabase``
    when it cannot be opened."""
    _probe_sqlite(url)
    engine = make_engine(url)
    try:
        with _described(url):
            async with engine.begin() as connection:
                return await connection.run_sync(_upgrade, url, revision)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _described(url: str) -> Iterator[None]:
    """A failure to open ``url`` raised as ``CannotOpenDatabase`` saying why, where
    ``describe_open_failure`` knows the cause; anything else as it is."""
    try:
        yield
    except CannotOpenDatabase:
        raise
    except Exception as err:
        problem = describe_open_failure(err, url)
        if problem is None:
            raise
        raise problem from err


def _probe_sqlite(url: str) -> None:
    """A SQLite file is opened and its header read with the standard library first: when
    aiosqlite's connector fails, its worker thread may answer after the event loop has
    closed and print a traceback of its own at exit."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        return
    target, uri = parsed.database, str(parsed.query.get("uri", "")).lower() in ("true", "1")
    if uri:  # as SQLAlchemy's SQLite dialect passes it: the other options on the URI
        options = {k: v for k, v in parsed.query.items() if k != "uri"}
        target += f"?{urlencode(options, doseq=True)}" if options else ""
    try:
        # as patient as the desk's own connections: another process starting at the same
        # moment may hold the file while it switches it to WAL (5 s, the default, was
        # too short on a loaded machine)
        _read_header(target, uri)
    except sqlite3.Error as err:
        raise _sqlite_failure(err, parsed.database) or CannotOpenDatabase(
            f"cannot open the SQLite file {parsed.database} ({_first_line(err)})") from err


def _read_header(target: str, uri: bool) -> None:
    """``PRAGMA schema_version`` on the file. SQLite may answer "database is locked" at
    once, without waiting, while another process switches a new file to WAL: that is
    retried for as long as the desk's own connections would wait."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            with contextlib.closing(sqlite3.connect(
                    target, uri=uri, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as db:
                db.execute("PRAGMA schema_version").fetchone()
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# Any number of processes may start at once on one fresh database: the first to take
# this lock migrates, the others wait for its commit and find the schema at head. SQLite
# needs none: the upgrade's ``BEGIN IMMEDIATE`` already takes the file's write lock.
MIGRATION_LOCK_KEY = 0x68656C70  # "help": an arbitrary constant, the same in every process
LOCK_FOR_MIGRATION = text("SELECT pg_advisory_xact_lock(:key)")


def _upgrade(connection: Connection, url: str, revision: str) -> Upgrade:
    if connection.dialect.name == "postgresql":  # released when the upgrade commits
        connection.execute(LOCK_FOR_MIGRATION, {"key": MIGRATION_LOCK_KEY})
    config = alembic_config(url)
    config.attributes["connection"] = connection  # env.py migrates on this connection
    script = ScriptDirectory.from_config(config)
    before = MigrationContext.configure(connection).get_current_revision()
    if before is not None:
        try:
            script.get_revision(before)
        except CommandError:
            raise CannotOpenDatabase(
                f"the database is at migration {before!r}, which this version of "
                "helpthread does not know (was it migrated by a newer version?)") from None
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    applied = []
    current = after
    while current is not None and current != before:  # walk down from after to before
        found = script.get_revision(current)
        if found is None:
            break
        applied.append((found.revision, migration_title(found.doc)))
        down = found.down_revision
        current = down if isinstance(down, str) or down is None else down[0]
    return Upgrade(before, after, tuple(reversed(applied)))


def migration_title(doc: str | None) -> str:
    """A migration's title for ``helpthread db upgrade``: its docstring's first paragraph
    as one line, whole (a sentence wrapped over two lines was once cut mid-word),
    without reST's double backquotes and the trailing full stop; "" for none."""
    paragraph = (doc or "").strip().split("\n\n")[0]
    return " ".join(paragraph.replace("``", "").split()).rstrip(".")


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err``, the driver's error SQLAlchemy wrapped, and everything they were raised from."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        orig = getattr(item, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None,
                 item.__cause__, item.__context__]


def describe_open_failure(err: BaseException, url: str) -> CannotOpenDatabase | None:
    """``err`` raised while first opening the database at ``url`` as one sentence, or
    None when it is not about opening the database (a bug: let it be seen)."""
    parsed = make_url(url)
    for item in _chain(err):
        if isinstance(item, BadOption):  # a URL not checked by check_database_url
            return CannotOpenDatabase(str(item))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_failure(err, parsed.database or "")
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for item in _chain(err):
        state = getattr(item, "sqlstate", None)
        if state == "3D000":  # invalid_catalog_name
            return CannotOpenDatabase(
                f"database {parsed.database!r} does not exist on the server at {where}; "
                f"create it (createdb {parsed.database}) or name an existing one")
        if isinstance(state, str) and state.startswith("28"):  # invalid authorization
            return CannotOpenDatabase(
                f"the server at {where} refused user {parsed.username!r}: "
                f"{_first_line(item)}")
    for item in _chain(err):
        if isinstance(item, (OSError, TimeoutError)):
            return CannotOpenDatabase(
                f"no PostgreSQL server answers at {where} ({_first_line(item)})",
                unreachable=True)
    return None


def _sqlite_failure(err: BaseException, database: str) -> CannotOpenDatabase | None:
    path = Path(database)
    for item in _chain(err):
        if not isinstance(item, sqlite3.Error):
            continue
        text = _first_line(item)
        if "not a database" in text or (isinstance(item, sqlite3.DatabaseError) \
                and "malformed" in text):
            return CannotOpenDatabase(f"{database} is not a SQLite database ({text})")
        if "unable to open" in text:
            if not path.parent.is_dir():
                return CannotOpenDatabase(
                    f"the directory {path.parent} of the SQLite file {path.name} does not "
                    "exist; create it or name another path")
            if path.is_dir():
                return CannotOpenDatabase(f"{database} is a directory, not a SQLite file")
            return CannotOpenDatabase(f"cannot open the SQLite file {database} ({text})")
        if "readonly" in text or "read-only" in text:
            return CannotOpenDatabase(f"cannot write to the SQLite file {database} ({text})")
        if isinstance(item, sqlite3.OperationalError):  # e.g. a URI option SQLite refuses
            return CannotOpenDatabase(f"cannot open the SQLite file {database} ({text})")
    return None


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


@dataclass(frozen=True)
class Revision:
    """Where a database stands (``helpthread doctor``): ``current`` is its migration
    (None: no tables yet), ``head`` the newest this version of helpthread has."""

    current: str | None
    head: str | None

    @property
    def known(self) -> bool:
        """``current`` is a migration this version has (not one of a newer version)."""
        if self.current is None:
            return True
        try:
            return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(
                self.current) is not None
        except CommandError:
            return False


def head_revision() -> str | None:
    """The newest migration this version of helpthread has."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def read_revision(url: str, seconds: float) -> Revision:
    """The migration the database at ``url`` is at, read without changing anything (no
    file made, no journal mode set, nothing migrated); a server gets ``seconds`` to answer.
    Raises ``CannotOpenDatabase`` as ``upgrade_async`` does."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        current = await asyncio.to_thread(_sqlite_revision, str(sqlite_file(url)))
        return Revision(current, head_revision())
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    with _described(url):
        bare, options = asyncpg_arguments(url)
    engine = create_async_engine(bare, poolclass=NullPool,
                                 connect_args={**options, "timeout": seconds})
    try:
        with _described(url):
            async with engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()
    return Revision(current, head_revision())


def sqlite_file(url: str) -> Path:
    """The file a SQLite URL names, also when given as a URI
    (``sqlite+aiosqlite:///file:/srv/desk.db?mode=ro&uri=true``)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        database = urlsplit(database).path
    return Path(database)


def _sqlite_revision(database: str) -> str | None:
    """``alembic_version`` of the SQLite file ``database``, opened read-only."""
    try:
        target = Path(database).resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(target, uri=True, timeout=5)) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                          "AND name = 'alembic_version'").fetchone() is None:
                return None
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as err:
        raise _sqlite_failure(err, database) or CannotOpenDatabase(
            f"cannot open the SQLite file {database} ({_first_line(err)})") from err
    return str(row[0]) if row else None
