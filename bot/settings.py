"""Settings: ``helpthread.toml`` plus ``HELPTHREAD_<SECTION>__<KEY>`` overrides (PRODUCT.md §9–10).

``load_settings()`` returns ``(Settings, DeskConfig, Credentials)`` or raises
``ConfigError`` with one message naming every bad key; the CLI prints it and
exits with status 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.config import (
    DEFAULT_CATEGORIES,
    Category,
    DeskConfig,
    DeskSection,
    DiscordSection,
    LifecycleSection,
    Priority,
    ShellSection,
    SlackSection,
    SlaTarget,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///helpthread.db"


class ConfigError(Exception):
    """The configuration is invalid; ``str()`` names the bad key(s)."""


def config_path() -> Path | None:
    """``HELPTHREAD_CONFIG``, else ``./helpthread.toml`` if it exists."""
    named = os.environ.get("HELPTHREAD_CONFIG")
    if named:
        return Path(named)
    default = Path("helpthread.toml")
    return default if default.exists() else None


class Settings(BaseSettings):
    """The config file's sections plus the process settings of PRODUCT.md §9."""

    model_config = SettingsConfigDict(
        env_prefix="HELPTHREAD_", env_nested_delimiter="__", extra="forbid",
        nested_model_default_partial_update=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=0, le=65535)
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    desk: DeskSection = DeskSection()
    lifecycle: LifecycleSection = LifecycleSection()
    sla: dict[Priority, SlaTarget] = Field(default_factory=dict)
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    slack: SlackSection = SlackSection()
    discord: DiscordSection = DiscordSection()
    shell: ShellSection = ShellSection()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def desk_config(self) -> DeskConfig:
        """The config file's sections as the core's ``DeskConfig`` (its checks run here);
        SLA targets not given keep the defaults of PRODUCT.md §7."""
        data: dict[str, Any] = {name: getattr(self, name) for name in DeskConfig.model_fields}
        if not self.sla:
            del data["sla"]
        return DeskConfig(**data)


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
        return self.slack_bot_token is not None

    @property
    def discord(self) -> bool:
        return self.discord_token is not None


def _describe(err: ValidationError) -> str:
    lines = []
    for problem in err.errors():
        key = ".".join(str(part) for part in problem["loc"] if part != "[key]")
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{key}: {message}" if key else message)
    return "; ".join(lines)


def load_settings() -> tuple[Settings, DeskConfig, Credentials]:
    """Read and check everything; raises ``ConfigError`` naming the bad key."""
    path = config_path()
    if path is not None and not path.exists():
        raise ConfigError(f"HELPTHREAD_CONFIG: {path} does not exist")
    try:
        settings = Settings()
        desk = settings.desk_config()
        credentials = Credentials()
    except ValidationError as err:
        where = f" in {path}" if path else ""
        raise ConfigError(f"invalid configuration{where}: {_describe(err)}") from err
    except (OSError, ValueError) as err:  # unreadable or malformed TOML
        raise ConfigError(f"cannot read config {path}: {err}") from err
    return settings, desk, credentials
