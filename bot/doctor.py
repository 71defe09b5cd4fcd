"""``helpthread doctor``: is this set-up ready to run? One line per check
(``core.checks``), as ``brew doctor`` and ``gitlab-rake gitlab:check`` do.

What is checked, in order: the configuration, loaded as ``helpthread run`` loads it
(``bot.settings.load_settings``: the same messages); the database (its URL with the
password hidden, that it opens, its migration against this version's newest, a
SQLite file's directory writable) — read only, nothing is made or migrated; then
what each platform plug-in asks (``Plugin.doctor``: credentials, its section, and
probes of its servers). Probes run side by side, each call within ``seconds``
(default ``NETWORK_SECONDS``); a probe that raises or runs out of time is one
``FAILED`` line, never a traceback. ``offline``: no probe runs (each is ``skipped``),
nor is a PostgreSQL server asked.

No detail ever holds a secret: any credential's or password's value found in one is
starred out before it is shown.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import registry
from bot.settings import (
    NOT_SETTINGS,
    ConfigError,
    Credentials,
    Settings,
    config_path,
    load_settings,
)
from core.checks import Check, Outcome, Probe, failed, ok, skipped, warning
from core.config import DeskConfig
from core.store.migrate import (
    CannotOpenDatabase,
    Revision,
    head_revision,
    read_revision,
    sqlite_file,
)

NETWORK_SECONDS = 10.0  # each network call
PROBE_CALLS = 3  # a probe makes a few calls in turn: it gets this many timeouts in all
CONFIG = "Config"
DATABASE = "Database"
SQLITE = "SQLite file"
MIGRATIONS = "Migrations"
# Environment variables whose values are secrets even when the config does not load.
SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN",
                    "DISCORD_TOKEN", "HELPTHREAD_EMAIL__SMTP_PASSWORD",
                    "HELPTHREAD_EMAIL__IMAP_PASSWORD", "HELPTHREAD_EMAIL__SIGNING_KEY")
SHORTEST_REDACTED = 6  # a shorter "secret" would star out ordinary words


async def diagnose(*, offline: bool = False,
                   seconds: float = NETWORK_SECONDS) -> list[Check]:
    """Every check of this set-up, in report order."""
    try:
        settings, config, credentials = load_settings()
    except ConfigError as err:
        return _redacted([failed(CONFIG, str(err)),
                          skipped(DATABASE, "the configuration did not load"),
                          skipped("Platforms", "the configuration did not load")], None)
    found = [ok(CONFIG, _config_read())]
    found += await database(settings.database_url, offline=offline, seconds=seconds)
    items = [item for plugin in registry.PLUGINS
             for item in _asked(plugin, settings, credentials, config)]
    probes = [item for item in items if isinstance(item, Probe)]
    results = dict(zip((id(p) for p in probes), await asyncio.gather(
        *(_run(p, offline, seconds) for p in probes)), strict=True))
    for item in items:
        found += results[id(item)] if isinstance(item, Probe) else [item]
    return _redacted(found, (settings, credentials))


def _asked(plugin: registry.Plugin, settings: Settings, credentials: Credentials,
           config: DeskConfig) -> list[Check | Probe]:
    """What ``plugin`` checks of its set-up; a bug in that is one FAILED line too."""
    try:
        return plugin.doctor(registry.section(settings, plugin),
                             registry.credentials_of(plugin, credentials), config,
                             settings.transcripts)
    except Exception as err:
        return [failed(plugin.title, _reason(err))]


def _config_read() -> str:
    path = config_path()
    where = (f"read {path.resolve()}" if path is not None else
             "no config file (HELPTHREAD_CONFIG unset, no ./helpthread.toml): the defaults")
    named = sorted(name for name in os.environ if name.upper().startswith("HELPTHREAD_")
                   and not NOT_SETTINGS.fullmatch(name))
    return where + (f"; from the environment: {', '.join(named)}" if named else "")


async def _run(probe: Probe, offline: bool, seconds: float) -> list[Check]:
    """``probe``'s checks; one line when skipped, out of time or raising."""
    if offline:
        return [skipped(probe.name, "--offline: not asked over the network")]
    try:
        return await asyncio.wait_for(probe.run(seconds), seconds * PROBE_CALLS)
    except TimeoutError:
        return [failed(probe.name, f"no answer within {seconds * PROBE_CALLS:.0f} s")]
    except Exception as err:  # a report line, not a traceback
        return [failed(probe.name, _reason(err))]


async def database(url: str, *, offline: bool, seconds: float) -> list[Check]:
    """The database at ``url`` (already checked by ``check_database_url``): where, that
    it opens, a SQLite file's place writable, and its migration."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() != "sqlite":
        if offline:
            return [skipped(DATABASE, f"--offline: {shown} not connected to"),
                    skipped(MIGRATIONS, "--offline")]
        return await _opened(url, shown, seconds, [])
    file, exists = _sqlite_file(sqlite_file(url))
    if file.outcome is Outcome.FAILED or not exists:
        head = head_revision()
        return [ok(DATABASE, f"{shown}: no file yet") if file.outcome is Outcome.OK
                else failed(DATABASE, f"{shown}: cannot be made"), file,
                ok(MIGRATIONS, f"none yet: `helpthread run` (or `helpthread db upgrade`) "
                   f"makes the tables, to {head}") if file.outcome is Outcome.OK
                else skipped(MIGRATIONS, "no database")]
    return await _opened(url, shown, seconds, [file])


async def _opened(url: str, shown: str, seconds: float, beside: list[Check]) -> list[Check]:
    try:
        revision = await asyncio.wait_for(read_revision(url, seconds), seconds + 1)
    except CannotOpenDatabase as err:  # worded as `run` words it
        return [failed(DATABASE, f"HELPTHREAD_DATABASE_URL: {err}"), *beside,
                skipped(MIGRATIONS, "the database did not open")]
    except TimeoutError:
        return [failed(DATABASE, f"{shown}: no answer within {seconds + 1:.0f} s"), *beside,
                skipped(MIGRATIONS, "the database did not open")]
    return [ok(DATABASE, f"{shown}: opened"), *beside, _migrations(revision)]


def _migrations(revision: Revision) -> Check:
    current, head = revision.current, revision.head
    if current is None:
        return ok(MIGRATIONS, f"no tables yet: `helpthread run` (or `helpthread db upgrade`) "
                  f"makes them, to {head}")
    if not revision.known:
        return failed(MIGRATIONS, f"the database is at migration {current!r}, which this "
                      "version of helpthread does not know (was it migrated by a newer "
                      "version?)")
    if current != head:
        return warning(MIGRATIONS, f"at {current}, behind this version's {head}: run "
                       "`helpthread db upgrade` (`helpthread run` also upgrades at start)")
    return ok(MIGRATIONS, f"at {head}, the newest")


def _sqlite_file(path: Path) -> tuple[Check, bool]:
    """The file (and its ``-wal`` journal, made beside it) can be written, or made; and
    whether it exists."""
    folder = path.parent
    if path.is_dir():
        return failed(SQLITE, f"{path} is a directory, not a SQLite file"), False
    if not folder.is_dir():
        return failed(SQLITE, f"the directory {folder} of the SQLite file {path.name} does "
                      "not exist; create it or name another path"), False
    if not os.access(folder, os.W_OK | os.X_OK):
        return failed(SQLITE, f"cannot write in {folder.resolve()} (SQLite makes its "
                      f"journal beside {path.name})"), path.exists()
    if not path.exists():
        return ok(SQLITE, f"{path.resolve()} does not exist yet; its directory is "
                  "writable, `helpthread run` makes it"), False
    if not os.access(path, os.R_OK | os.W_OK):
        return failed(SQLITE, f"cannot write to the SQLite file {path.resolve()}"), True
    return ok(SQLITE, f"{path.resolve()} writable ({path.stat().st_size // 1024} kB)"), True


def failures(checks: Iterable[Check]) -> int:
    return sum(1 for c in checks if c.outcome is Outcome.FAILED)


def _secrets(loaded: tuple[Settings, Credentials] | None) -> list[str]:
    values = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    if loaded is not None:
        settings, credentials = loaded
        email = settings.email
        values += [s.get_secret_value() for s in (
            credentials.slack_bot_token, credentials.slack_signing_secret,
            credentials.slack_app_token, credentials.discord_token, email.smtp_password,
            email.imap_password, email.signing_key) if s is not None]
        values.append(make_url(settings.database_url).password or "")
    return sorted({v for v in values if len(v) >= SHORTEST_REDACTED}, key=len, reverse=True)


def _redacted(checks: list[Check], loaded: tuple[Settings, Credentials] | None
              ) -> list[Check]:
    secrets = _secrets(loaded)
    shown = []
    for check in checks:
        detail = check.detail
        for secret in secrets:
            detail = detail.replace(secret, "***")
        shown.append(Check(check.name, check.outcome, detail))
    return shown


def _reason(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
