"""``HELPTHREAD_DATABASE_URL`` is checked while settings load, before anything connects:
plain ``sqlite://`` / ``postgresql://`` get the async drivers, anything else is refused
with one sentence naming the setting (issue 9, point 7)."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, check_database_url, load_settings


@pytest.mark.parametrize(("given", "opened"), [
    ("sqlite+aiosqlite:///helpthread.db", "sqlite+aiosqlite:///helpthread.db"),
    ("sqlite:///desk.db", "sqlite+aiosqlite:///desk.db"),
    ("sqlite:////var/lib/helpthread/desk.db", "sqlite+aiosqlite:////var/lib/helpthread/desk.db"),
    ("postgresql://support@db.internal/helpthread",
     "postgresql+asyncpg://support@db.internal/helpthread"),
    ("postgres://support:s%40cret@db:5433/helpthread",
     "postgresql+asyncpg://support:s%40cret@db:5433/helpthread"),
    (" postgresql+asyncpg://postgres@127.0.0.1/test ", "postgresql+asyncpg://postgres@127.0.0.1/test"),
    # libpq's sslmode, as in URLs copied from psql, is asyncpg's ssl
    ("postgresql://u@db/desk?sslmode=require", "postgresql+asyncpg://u@db/desk?ssl=require"),
])
def test_plain_urls_get_the_async_drivers(given: str, opened: str) -> None:
    assert check_database_url(given) == opened


@pytest.mark.parametrize(("given", "says"), [
    ("garbage", "'garbage' is not a database URL"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("mysql://desk@db/helpthread", "'mysql' databases are not supported"),
    ("sqlite+pysqlite:///desk.db",
     "the driver 'pysqlite' is not supported; write sqlite+aiosqlite"),
    ("postgresql+psycopg2://u@db/desk", "the driver 'psycopg2' is not supported; write "
                                        "postgresql+asyncpg"),
    ("sqlite://", "names no SQLite file"),
    ("sqlite+aiosqlite:///:memory:", "names no SQLite file"),
    ("postgresql://u:hunter2@db:port/desk", "is not a database URL"),
    ("postgres://u@127.0.0.1:99999/x", "the port must be a number from 1 to 65535"),
    ("postgresql+asyncpg://", "names no database"),
    ("postgresql://u@db/desk?sslcert=x.pem", "the option 'sslcert' is not one PostgreSQL's"),
])
def test_a_bad_url_is_one_sentence_naming_the_setting(given: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_database_url(given)
    message = str(raised.value)
    assert message.startswith("HELPTHREAD_DATABASE_URL: ") and says in message, message
    assert "\n" not in message and "hunter2" not in message


def test_load_settings_checks_and_normalises_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HELPTHREAD_CONFIG", raising=False)
    monkeypatch.setenv("HELPTHREAD_DATABASE_URL", "sqlite:///desk.db")
    settings, _, _ = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///desk.db"
    monkeypatch.setenv("HELPTHREAD_DATABASE_URL", "mysql://desk@db/helpthread")
    with pytest.raises(ConfigError, match=r"^HELPTHREAD_DATABASE_URL: 'mysql'"):
        load_settings()


def test_url_options_arrive_typed_and_a_bad_one_is_a_described_open_failure() -> None:
    """``make_engine`` hands asyncpg numbers and flags, not the URL's text; a URL that
    skipped ``check_database_url`` still fails in one sentence, not a traceback."""
    from core.store.engine import make_engine
    from core.store.migrate import describe_open_failure
    from core.store.url_options import BadOption, typed_options

    assert typed_options("postgresql", {"sslmode": "verify-full", "timeout": "2.5",
                                        "statement_cache_size": "0", "direct_tls": "no"}) \
        == {"ssl": "verify-full", "timeout": 2.5, "statement_cache_size": 0,
            "direct_tls": False}
    assert typed_options("sqlite", {"uri": "true", "mode": "ro"}) == {"uri": True, "mode": "ro"}
    url = "postgresql+asyncpg://u@db/desk?timeout=abc"
    with pytest.raises(BadOption) as caught:
        make_engine(url)
    failure = describe_open_failure(caught.value, url)
    assert failure is not None and str(failure) == "the option timeout='abc' is not a number"
    with pytest.raises(BadOption, match="'sslmode' is given more than once"):
        typed_options("postgresql", {"ssl": "require", "sslmode": "disable"})
