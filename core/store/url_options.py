"""The query options a database URL may carry, per driver, with their value types.

A URL's query reaches the driver as text: SQLAlchemy converts a few SQLite options
itself (failing with a bare ``ValueError`` on a bad number) and passes PostgreSQL's to
asyncpg as they are, where ``timeout=5`` then fails deep in a connect as ``float + str``
and ``sslmode=bogus`` as an ``AttributeError``. ``typed_options`` checks every option up
front and returns the values the driver wants, or raises ``BadOption`` naming the option
and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class BadOption(ValueError):
    """A URL query option the driver does not take, or a value it cannot use;
    ``str()`` is one sentence naming the option."""


def _number(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"is not a {'whole ' if kind is int else ''}number") from None
        if value < 0 or value != value or value == float("inf"):
            raise ValueError("must be a number of 0 or more")
        return value
    return parse


_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0"})


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("is not true or false")


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"is not one of {', '.join(choices)}")
        return text
    return parse


def _not_in_url(_text: str) -> str:
    raise ValueError("is a mapping of server settings, which a URL cannot give; leave it "
                     "out (set them with ALTER ROLE … SET or in postgresql.conf)")


# asyncpg's connect() arguments (its docs, "connect"); sslmode is read as ssl, with the
# same values, since URLs are often copied from psql.
ASYNCPG_OPTIONS: Mapping[str, Callable[[str], Any]] = {
    "ssl": _one_of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "timeout": _number(float),  # seconds
    "command_timeout": _number(float),  # seconds
    "statement_cache_size": _number(int),
    "prepared_statement_cache_size": _number(int),
    "max_cached_statement_lifetime": _number(int),  # seconds
    "max_cacheable_statement_size": _number(int),  # bytes
    "target_session_attrs": _one_of("any", "primary", "standby", "prefer-standby",
                                    "read-write", "read-only"),
    "direct_tls": _boolean,
    "server_settings": _not_in_url,
}

# pysqlite's connect() arguments SQLAlchemy reads from the URL (isolation_level is left
# out: the desk begins its transactions itself), then SQLite's own URI parameters, which
# it passes on only with uri=true.
SQLITE_OPTIONS: Mapping[str, Callable[[str], Any]] = {
    "timeout": _number(float),  # seconds
    "cached_statements": _number(int),
    "uri": _boolean,
}
# SQLite checks their values itself on opening the file (and says which is wrong).
SQLITE_URI_OPTIONS: Mapping[str, Callable[[str], Any]] = {
    name: str for name in ("mode", "cache", "immutable", "nolock", "psow", "vfs", "modeof")}


def typed_options(backend: str, query: Mapping[str, str | tuple[str, ...]]) -> dict[str, Any]:
    """``query`` (a URL's, for ``backend`` ``"sqlite"`` or ``"postgresql"``) as the
    driver's values (numbers as ``int``/``float``, flags as ``bool``). ``sslmode`` is
    taken as ``ssl``. Raises ``BadOption`` for an option the driver does not take, one
    given twice, or a value it cannot use."""
    if backend == "sqlite":
        known = dict(SQLITE_OPTIONS)
        uri = str(query.get("uri", "false")).lower() in _TRUE
        if uri:
            known.update(SQLITE_URI_OPTIONS)
        driver = "SQLite's driver"
    else:
        known, uri, driver = dict(ASYNCPG_OPTIONS), False, "PostgreSQL's driver"
    typed: dict[str, Any] = {}
    for name in sorted(query):
        value = query[name]
        key = "ssl" if backend != "sqlite" and name == "sslmode" else name
        parse = known.get(key)
        if parse is None:
            if backend == "sqlite" and name in SQLITE_URI_OPTIONS:
                raise BadOption(f"the option {name!r} is a SQLite URI option; it needs "
                                "uri=true in the URL too")
            raise BadOption(f"the option {name!r} is not one {driver} takes; it takes "
                            f"{', '.join(sorted(known))}")
        if isinstance(value, tuple) or key in typed:
            raise BadOption(f"the option {name!r} is given more than once")
        try:
            typed[key] = parse(value)
        except ValueError as err:
            raise BadOption(f"the option {name}={value!r} {err}") from None
    return typed
