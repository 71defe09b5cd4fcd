"""``search.language`` on SQLite and PostgreSQL (migration 0010,
``core.store.search_language``): a stemmer when asked for, none by default, accents
folded either way; existing tickets re-indexed when it changes; a language the database
does not have stops the start naming the key."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.runtime import build
from bot.settings import ConfigError, load_settings
from core.clock import FrozenClock
from core.desk import Desk
from core.store.engine import make_engine
from core.store.migrate import alembic_config, upgrade_async
from core.store.search_language import (
    SearchLanguageUnavailable,
    stored_language,
    use_search_language,
)
from core.store.sql import SqlStores
from tests.support.people import agent, form, make_desk, person

LENA, SAM = person("lena"), agent("sam")


async def found(desk: Desk, words: str) -> list[int]:
    return sorted(hit.ticket.number for hit in await desk.search(LENA, words))


def desk_on(engine: object, language: str, clock: FrozenClock) -> Desk:
    return make_desk(SqlStores(engine, language), clock=clock)  # type: ignore[arg-type]


async def test_english_stems_simple_does_not_and_a_change_reindexes(
        database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    clock = FrozenClock()
    try:
        simple = desk_on(engine, "simple", clock)
        await simple.open_ticket(LENA, form(subject="The printer runs hot",
                                            description="Smells like a café"))
        await simple.comment(LENA, 1, "It kept running all night")
        assert await found(simple, "running") == [1]  # the comment's own word
        assert await found(simple, "run") == []  # simple: no stemming
        assert await found(simple, "cafe") == [1]
        assert await found(simple, "the") == [1]

        assert await use_search_language(engine, "english") is True
        assert await use_search_language(engine, "english") is False  # already so
        english = desk_on(engine, "english", clock)
        assert await found(english, "run") == [1]  # re-indexed: "runs", "running"
        assert await found(english, '"printer running"') == [1]
        assert await found(english, "cafe") == [1]  # accents still folded
        assert await found(english, "café") == [1]
        await english.open_ticket(LENA, form(subject="Printers overheating",
                                             description="Two of them"))
        await english.comment(LENA, 2, "It runs again")
        assert await found(english, "printer") == [1, 2]  # a new row: stemmed too
        assert await found(english, "running -overheated") == [1]

        assert await use_search_language(engine, "simple") is True
        simple = desk_on(engine, "simple", clock)
        assert await found(simple, "run") == []
        assert await found(simple, "printer") == [1]
        assert await found(simple, "running") == [1]
    finally:
        await engine.dispose()


async def test_a_language_the_database_lacks_is_refused_and_changes_nothing(
        database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        desk = desk_on(engine, "simple", FrozenClock())
        await desk.open_ticket(LENA, form(subject="Printer runs"))
        lacking = "german" if engine.dialect.name == "sqlite" else "klingon"
        with pytest.raises(SearchLanguageUnavailable,
                           match=rf"^search\.language: '{lacking}' is not a text search "
                                 r"language of .*; it has .*\benglish\b.*\bsimple\b"):
            await use_search_language(engine, lacking)
        async with engine.connect() as conn:
            assert await stored_language(conn) == "simple"
        assert await found(desk, "runs") == [1]
    finally:
        await engine.dispose()


async def test_postgres_offers_its_configurations(postgres_url: str) -> None:
    await upgrade_async(postgres_url)
    engine = make_engine(postgres_url)
    try:
        desk = desk_on(engine, "german", FrozenClock())
        await desk.open_ticket(LENA, form(subject="Die Drucker laufen heiß"))
        assert await use_search_language(engine, "german") is True
        assert await found(desk, "Druckers") == [1]
        assert await found(desk, "heiss") == [1]  # unaccent: ß as ss
        async with engine.connect() as conn:
            vector = (await conn.execute(text(
                "SELECT public_doc::text FROM ticket_search"))).scalar_one()
        assert "'druck'" in vector
    finally:
        await engine.dispose()


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str,
              config: str) -> tuple[object, object]:
    path = tmp_path / "helpthread.toml"
    path.write_text(config)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    monkeypatch.setenv("HELPTHREAD_DATABASE_URL", url)
    settings, desk_config, _ = load_settings()
    return settings, desk_config


async def test_the_start_reindexes_and_refuses_what_the_database_lacks(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, config = _settings(tmp_path, monkeypatch, database_url,
                                 '[search]\nlanguage = "english"\n')
    runtime = await build(settings, config)  # type: ignore[arg-type]
    try:
        await runtime.desk.open_ticket(LENA, form(subject="Printer keeps running"))
        assert [h.ticket.number for h in await runtime.desk.search(SAM, "runs")] == [1]
    finally:
        await runtime.close()
    settings, config = _settings(tmp_path, monkeypatch, database_url,
                                 '[search]\nlanguage = "klingon"\n')
    with pytest.raises(ConfigError, match=r"^search\.language: 'klingon' is not"):
        await build(settings, config)  # type: ignore[arg-type]


def test_the_key_is_checked_when_the_config_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"search\.language: 'English!' is not a text "
                                          r"search configuration's name"):
        _settings(tmp_path, monkeypatch, "sqlite+aiosqlite:///x.db",
                  '[search]\nlanguage = "English!"\n')
    with pytest.raises(ValueError, match="search_language"):
        SqlStores(make_engine("sqlite+aiosqlite:///x.db"), "english'; --")


async def test_downgrading_0010_rebuilds_the_simple_index(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        desk = desk_on(engine, "simple", FrozenClock())
        await desk.open_ticket(LENA, form(subject="Printer runs hot"))
        await use_search_language(engine, "english")
        await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0009")
        assert await found(desk, "run") == []
        assert await found(desk, "runs") == [1]
        await desk.open_ticket(LENA, form(subject="Printers running"))  # the simple trigger again
        assert await found(desk, "running") == [2]
    finally:
        await engine.dispose()
