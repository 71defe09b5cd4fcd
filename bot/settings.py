"""Settings: ``helpthread.toml`` plus ``HELPTHREAD_<SECTION>__<KEY>`` overrides (PRODUCT.md §9–10).

``load_settings()`` returns ``(Settings, DeskConfig, Credentials)`` or raises
``ConfigError`` with one message naming every bad key; the CLI prints it and
exits with status 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from adapters.discord.plugin import DiscordSettings
from adapters.email.settings import EmailSettings
from adapters.shell.plugin import ShellSettings
from adapters.slack.plugin import SlackSettings
from bot import registry
from core.config import (
    DEFAULT_CATEGORIES,
    BusinessHoursSection,
    Categories,
    DeflectionSection,
    DeliverySection,
    DeskConfig,
    DeskSection,
    FaqEntries,
    LifecycleSection,
    SearchSection,
    SlaOverride,
    TranscriptsSection,
)
from core.config_types import NamingKeys, Priority
from core.platforms import SettingError
from core.store.url_options import BadOption, typed_options

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///helpthread.db"
_URL_FORMS = ("sqlite+aiosqlite:///FILE (SQLite) or postgresql+asyncpg://USER@HOST/DB "
              "(PostgreSQL)")


class ConfigError(Exception):
    """The configuration is invalid; ``str()`` names the bad key(s)."""


def config_path() -> Path | None:
    """``HELPTHREAD_CONFIG``, else ``./helpthread.toml`` if it exists."""
    named = os.environ.get("HELPTHREAD_CONFIG")
    if named:
        return Path(named)
    default = Path("helpthread.toml")
    return default if default.exists() else None


def _check_config_file(path: Path) -> None:
    """``path`` is a file this process can read, else ``ConfigError`` naming where it came
    from (pydantic-settings would skip a directory silently and run on the defaults)."""
    named = "HELPTHREAD_CONFIG: " if os.environ.get("HELPTHREAD_CONFIG") else ""
    if not path.exists():
        raise ConfigError(f"{named}{path} does not exist")
    if path.is_dir():
        raise ConfigError(f"{named}{path} is a directory; name the config file "
                          "(helpthread.toml)")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise ConfigError(f"{named}cannot read {path}: {err.strerror or err}") from None


PREFIX = "HELPTHREAD_"  # exactly so: ``helpthread_x`` is someone else's variable


class ListFriendlyEnv(EnvSettingsSource):
    """``HELPTHREAD_…`` variables, where a list of ids may be written as JSON
    (``["U0A", "U0B"]``) or comma-separated (``U0A,U0B``). Anything else that is not
    JSON where JSON is needed raises ``ConfigError`` naming the variable."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        """Only names whose prefix is ``HELPTHREAD_`` as written (POSIX names are
        case-sensitive; the README documents the upper case): pydantic-settings would
        otherwise read ``helpthread_database_url`` too, case-insensitively."""
        return parse_env_vars({k: v for k, v in os.environ.items() if k.startswith(PREFIX)},
                              self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)

    def decode_complex_value(self, field_name: str, field: FieldInfo | None,
                             value: Any) -> Any:
        try:
            return super().decode_complex_value(
                field_name, field, value)  # type: ignore[arg-type]  # pydantic passes None
        except ValueError:
            text = str(value).strip()
            if field is not None and _is_list_of_str(field.annotation) \
                    and not text.startswith(("[", "{", '"')):
                return [item.strip() for item in text.split(",") if item.strip()]
            name = next((k for k, v in os.environ.items() if v == value
                         and k.startswith(PREFIX)
                         and k.upper().endswith(field_name.upper())), field_name)
            if field is None:  # a key no section has, e.g. SLA__URGENT__FIRST_RESPONS
                raise ConfigError(f"{name}: {field_name.lower()} is not a setting of its "
                                  "section (the README lists the keys, under Configuration)"
                                  ) from None
            raise ConfigError(f"{name}: {text[:40]!r} is not valid JSON; write this "
                              "setting as JSON or set it in the config file") from None


def _is_list_of_str(annotation: Any) -> bool:
    return get_origin(annotation) in (tuple, list) and set(get_args(annotation)) <= {
        str, Ellipsis}


class Settings(BaseSettings):
    """The config file's sections plus the process settings of PRODUCT.md §9."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter="__", extra="forbid",
    )

    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = Field(default="0.0.0.0", min_length=1)  # the HTTP bind address
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    desk: DeskSection = DeskSection()
    lifecycle: LifecycleSection = LifecycleSection()
    delivery: DeliverySection = DeliverySection()
    business_hours: BusinessHoursSection | None = None
    sla: dict[Priority, SlaOverride] = Field(default_factory=dict)
    categories: Categories = DEFAULT_CATEGORIES
    transcripts: TranscriptsSection = TranscriptsSection()  # keys: the platforms'
    search: SearchSection = SearchSection()
    faq: FaqEntries = ()
    deflection: DeflectionSection = DeflectionSection()
    # Each platform plug-in's own section, named as ``bot.registry.PLUGINS`` name them.
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    shell: ShellSettings = ShellSettings()
    email: EmailSettings = EmailSettings()  # off without smtp_host

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, ListFriendlyEnv(settings_cls)]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def desk_config(self) -> DeskConfig:
        """The config file's sections as the core's ``DeskConfig`` (its checks run here);
        SLA targets not given keep the defaults of PRODUCT.md §7; agents are the platform
        plug-ins' rules, each from its own section. Raises ``ConfigError`` for a
        category or ``[transcripts]`` key no platform reads or one a platform refuses."""
        data: dict[str, Any] = {name: getattr(self, name) for name in DeskConfig.model_fields
                                if name != "agents"}
        try:
            registry.check_categories(self.categories)
            registry.check_transcripts(self.transcripts)
        except SettingError as err:
            raise ConfigError(f"invalid configuration: {err}") from err
        return DeskConfig(**data, agents=registry.agent_rules(self))


class Credentials(BaseSettings):
    """Platform credentials and API URLs, under the platforms' customary names."""

    model_config = SettingsConfigDict(extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None

    @property
    def slack(self) -> bool:
        """Any Slack credential is set: Slack is wanted (a missing one is then named)."""
        return any(v is not None for v in (self.slack_bot_token, self.slack_signing_secret,
                                           self.slack_app_token))

    @property
    def discord(self) -> bool:
        return self.discord_token is not None


def _describe(err: ValidationError, path: Path | None) -> str:
    """``invalid configuration…`` with each problem named by where its value came from:
    the ``HELPTHREAD_…`` variable that set it (it overrides the file), else its key in
    the config file (``path``), which the message then names. A refusal that names keys
    (``NamingKeys``) names each of them so."""
    lines, in_file = [], False
    file_table: dict[str, Any] | None = None  # the file's keys, read once if needed
    for problem in err.errors():
        parts = [str(part) for part in problem["loc"] if part != "[key]"]
        key = ".".join(parts)
        variable = _variable(parts)
        error = problem.get("ctx", {}).get("error")
        if isinstance(error, NamingKeys):
            if file_table is None:
                file_table = _file_table(path)
            wheres = [_where(dotted, file_table) for dotted in error.keys]
            in_file |= any(from_file for _, from_file in wheres)
            message = error.render([named for named, _ in wheres])
        else:
            if parts and variable is not None:
                key = variable
            else:
                in_file = True
            message = problem["msg"].removeprefix("Value error, ")
        if message.startswith((f"{key}.", f"{key}:")):  # it names its key itself
            key = ""
        lines.append(f"{key}: {message}" if key else message)
    where = f" in {path}" if path is not None and in_file else ""
    return f"invalid configuration{where}: " + "; ".join(lines)


def _variable(parts: list[str]) -> str | None:
    """The ``HELPTHREAD_…`` variable set for the key ``parts``, as written (its case may
    differ: pydantic-settings reads the names case-insensitively), or None."""
    wanted = PREFIX + "__".join(part.upper() for part in parts)
    return next((name for name in os.environ if name.upper() == wanted
                 and name.startswith(PREFIX)), None)


def _where(dotted: str, file_table: dict[str, Any]) -> tuple[str, bool]:
    """How to name the key ``dotted`` (``email.smtp_port``) by where it was set — its
    variable, or the key itself (in the config file, read as ``file_table``) — and
    whether the file sets it (then the message names the file)."""
    variable, in_file = _variable(dotted.split(".")), _in_file(dotted, file_table)
    if variable is None:
        return dotted, True
    return (f"{variable} (also set in the file)" if in_file else variable), in_file


def _file_table(path: Path | None) -> dict[str, Any]:
    """The config file at ``path`` as read by ``tomllib``; empty when there is none or it
    cannot be read (its own errors are reported where it is loaded)."""
    if path is None:
        return {}
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, ValueError):
        return {}


def _in_file(dotted: str, file_table: dict[str, Any]) -> bool:
    table: Any = file_table
    for part in dotted.split("."):
        if not isinstance(table, dict) or part not in table:
            return False
        table = table[part]
    return True


def check_database_url(url: str) -> str:
    """``HELPTHREAD_DATABASE_URL`` as the desk opens it, checked without connecting.

    ``sqlite://`` and ``postgresql://`` (or ``postgres://``) get the async drivers the desk
    runs on (``aiosqlite``, ``asyncpg``); any other database or driver, an unparseable or
    empty URL and an in-memory SQLite database raise ``ConfigError`` naming the setting."""
    text = url.strip()
    if not text:
        raise ConfigError(f"HELPTHREAD_DATABASE_URL: is empty; write {_URL_FORMS}")
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):
        raise ConfigError(f"HELPTHREAD_DATABASE_URL: {_masked(text)!r} is not a database URL; "
                          f"write {_URL_FORMS}") from None
    backend, driver = parsed.drivername.partition("+")[::2]
    given = parsed.query  # as written (sslmode, not the ssl it becomes)
    if backend == "sqlite":
        wanted = "sqlite+aiosqlite"
        if not parsed.database or parsed.database == ":memory:" \
                or parsed.query.get("mode") == "memory":
            raise ConfigError("HELPTHREAD_DATABASE_URL: names no SQLite file (an in-memory "
                              "database would be lost at exit); write "
                              "sqlite+aiosqlite:///helpthread.db or another path")
    elif backend in ("postgresql", "postgres"):
        wanted = "postgresql+asyncpg"
        parsed = _asyncpg_url(parsed)
    else:
        raise ConfigError(f"HELPTHREAD_DATABASE_URL: {backend!r} databases are not supported; "
                          f"write {_URL_FORMS}")
    try:
        typed_options("sqlite" if backend == "sqlite" else "postgresql", given)
    except BadOption as err:
        raise ConfigError(f"HELPTHREAD_DATABASE_URL: {err}") from None
    if driver and f"{backend}+{driver}" != wanted:
        raise ConfigError(f"HELPTHREAD_DATABASE_URL: the driver {driver!r} is not supported; "
                          f"write {wanted}://… (or {backend}://…, which means the same)")
    return _rendered(parsed.set(drivername=wanted))


def _asyncpg_url(url: URL) -> URL:
    """``url`` checked for what asyncpg would otherwise fail on with a traceback: a port
    out of range, no database named."""
    try:
        port = url.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise ConfigError("HELPTHREAD_DATABASE_URL: the port must be a number from 1 to "
                          "65535")
    if not url.database:
        raise ConfigError("HELPTHREAD_DATABASE_URL: names no database; write "
                          "postgresql+asyncpg://USER@HOST/DATABASE")
    query = dict(url.query)
    if "sslmode" in query and "ssl" not in query:  # libpq's name for asyncpg's ssl
        query["ssl"] = query.pop("sslmode")
    return url.set(query=query)


def _rendered(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _masked(text: str) -> str:
    """``text`` with what looks like a password (``user:secret@``) starred out."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)[:80]


# HELPTHREAD_ variables that are not settings: the config file's path, and the test
# and benchmark suites' own databases.
NOT_SETTINGS = re.compile(r"HELPTHREAD_(CONFIG|TEST_\w*|BENCH_\w*)", re.IGNORECASE)


def _check_environment() -> None:
    """A ``HELPTHREAD_`` variable that names no setting raises ``ConfigError`` naming it:
    pydantic-settings reads only the names it knows, so a misspelt section
    (``HELPTHREAD_SLAA__URGENT__FIRST_RESPONSE``) would be ignored and the desk run on
    the defaults without a word."""
    fields = Settings.model_fields
    for name in sorted(os.environ):
        if not name.startswith(PREFIX) or NOT_SETTINGS.fullmatch(name):  # helpthread_x:
            # not ours (a name is case-sensitive), and ListFriendlyEnv does not read it
            continue
        section = name[len("HELPTHREAD_"):].split("__", 1)[0].lower()
        if section not in fields:
            forms = ["HELPTHREAD_CONFIG"] + [
                f"HELPTHREAD_{key.upper()}" + ("__<KEY>" if _is_section(info) else "")
                for key, info in fields.items()]
            raise ConfigError(f"{name}: is not a setting; the settings are "
                              f"{', '.join(forms)}")


def _is_section(info: FieldInfo) -> bool:
    kinds = [a for a in get_args(info.annotation) if a is not type(None)] \
        if get_origin(info.annotation) in (Union, UnionType) else [info.annotation]
    return any((isinstance(k, type) and issubclass(k, BaseModel)) or get_origin(k) is dict
               for k in kinds)


def load_settings() -> tuple[Settings, DeskConfig, Credentials]:
    """Read and check everything; raises ``ConfigError`` naming the bad key."""
    _check_environment()
    path = config_path()
    if path is not None:
        _check_config_file(path)
    try:
        settings = Settings()
        desk = settings.desk_config()
        credentials = Credentials()
    except ValidationError as err:
        raise ConfigError(_describe(err, path)) from err
    except (OSError, ValueError) as err:  # unreadable or malformed TOML
        where = str(path) if path else "the environment"
        raise ConfigError(f"cannot read the configuration in {where}: {err}") from err
    settings.database_url = check_database_url(settings.database_url)
    return settings, desk, credentials
