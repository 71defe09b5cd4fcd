"""The desk's configuration models (PRODUCT.md §2, §7, §8, §10).

Plain pydantic models: ``bot.settings`` fills them from ``helpthread.toml`` and
``HELPTHREAD_<SECTION>__<KEY>`` environment variables. Durations are written like
``90s``/``15m``/``8h``/``5d`` and held as ``timedelta``.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.business_hours import AroundTheClock, BusinessCalendar, Calendar
from core.characters import first_control
from core.config_types import TABLES, Duration, Name, Section, listed
from core.durations import format_duration
from core.platforms import AgentRule
from core.tickets import PRIORITIES


class DeskSection(Section):
    name: Name = "Helpthread"
    max_open_per_user: int = Field(default=5, ge=1)
    max_new_per_hour: int = Field(default=5, ge=1)
    duplicate_window: Duration = timedelta(minutes=10)


class LifecycleSection(Section):
    """Expiry and auto-close (PRODUCT.md §7): wall-clock durations, not business time."""

    waiting_expires_after: Duration = timedelta(days=7)
    waiting_reminder_before: Duration = timedelta(days=1)
    resolved_closes_after: Duration = timedelta(days=3)
    close_request_after: Duration = timedelta(days=1)
    reopen_window: Duration = timedelta(days=14)


class DeliverySection(Section):
    """The delivery worker (PRODUCT.md §10 ``[delivery]``): after ``max_attempts`` failed
    attempts a delivery is parked (``helpthread deliveries --parked``); ``lease`` is how
    long a worker's claim lasts unless its heartbeat renews it (every third of it), so a
    process that died frees its deliveries after at most this long."""

    max_attempts: int = Field(default=20, ge=1, le=1000)
    lease: Duration = timedelta(seconds=15)

    @field_validator("max_attempts", mode="before")
    @classmethod
    def _a_number(cls, value: object) -> object:
        if isinstance(value, bool):  # pydantic would read true as 1
            raise ValueError("must be a number of attempts, not true/false")
        return value

    @field_validator("lease")
    @classmethod
    def _sane_lease(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=3) <= value <= timedelta(minutes=10):
            raise ValueError(f"{format_duration(value)} is outside 3s-10m; a shorter lease "
                             "cannot be renewed in time, a longer one holds a dead "
                             "process's deliveries too long")
        return value


class SearchSection(Section):
    """``[search]``: ``language`` is the PostgreSQL text search configuration the index
    and the queries use (``simple``: no stemming, every language alike; ``english``,
    ``german``…: that language's stemmer and stop words). Checked here for its form, and
    at start against the database (``core.store.search_language``): PostgreSQL's
    ``pg_ts_config``; SQLite has ``simple`` and ``english`` (FTS5's porter stemmer)."""

    language: str = "simple"

    @field_validator("language")
    @classmethod
    def _a_configuration_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            raise ValueError(f"{value!r} is not a text search configuration's name; write "
                             "one like 'simple' or 'english' (lower case)")
        return value


TARGET_YEARS = 2


class BusinessHoursSection(Section):
    """``[business_hours]`` (PRODUCT.md §7, §10): the keys of ``BusinessCalendar``, whose
    definition of open time and business time the SLA clocks then follow; checked at
    load (a bad value raises ``ValueError`` naming its key). ``notify_outside_hours =
    false`` holds SLA notices due outside hours until the next opening."""

    timezone: str
    hours: Annotated[tuple[str, ...], listed('"days HH:MM-HH:MM" entries',
                                             'hours = ["mon-fri 09:00-17:00"]')]
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    holidays: Annotated[tuple[str, ...], listed(
        "dates", 'holidays = ["2026-12-24", "2026-12-31"]', (str, date))] = ()
    notify_outside_hours: bool = True

    @field_validator("holidays", mode="before")
    @classmethod
    def _toml_dates(cls, value: Any) -> Any:
        """TOML's own dates (``holidays = [2026-12-24]``, unquoted) read as written."""
        if isinstance(value, list | tuple):
            return [v.isoformat() if isinstance(v, date) else v for v in value]
        return value

    @model_validator(mode="after")
    def _builds(self) -> BusinessHoursSection:
        self.calendar()
        return self

    def calendar(self) -> BusinessCalendar:
        """The calendar these keys describe (built once per distinct set of keys)."""
        return _business_calendar(self.timezone, self.hours, self.holidays,
                                  self.holidays_country, self.holidays_subdivision)


@lru_cache(maxsize=16)
def _business_calendar(timezone: str, hours: tuple[str, ...], holidays: tuple[str, ...],
                       country: str | None, subdivision: str | None) -> BusinessCalendar:
    return BusinessCalendar(timezone=timezone, hours=hours, holidays=holidays,
                            holidays_country=country, holidays_subdivision=subdivision)


class SlaTarget(Section):
    """A priority's targets (PRODUCT.md §7); resolution is never before first response."""

    first_response: Duration
    resolution: Duration

    @field_validator("resolution")
    @classmethod
    def _not_before_first_response(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        first = info.data.get("first_response")
        if isinstance(first, timedelta) and value < first:
            raise ValueError(f"{format_duration(value)} is shorter than first_response "
                             f"({format_duration(first)}); a ticket is answered before it "
                             "is resolved")
        return value


class SlaOverride(Section):
    """A priority's targets as the config file or the environment give them: a key left
    out keeps its default (``DeskConfig`` fills it in)."""

    first_response: Duration | None = None
    resolution: Duration | None = None


DEFAULT_SLA_HOURS = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 48), "low": (24, 120)}


def _default_sla() -> dict[str, SlaTarget]:
    return {
        key: SlaTarget(first_response=timedelta(hours=f), resolution=timedelta(hours=r))
        for key, (f, r) in DEFAULT_SLA_HOURS.items()
    }


class CategoryField(Section):
    """An extra field a category declares (PRODUCT.md §2, "category fields")."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: Name = Field(min_length=1, max_length=45)
    required: bool = False
    max_length: int = Field(default=200, ge=1, le=4000)
    min_length: int = Field(default=1, ge=1)
    pattern: str | None = None
    sensitive: bool = False


class Category(Section):
    """A category. Keys beyond these belong to the platforms (a team channel per
    category: ``slack_team_channel``, ``discord_team_channel_id``); ``bot`` has each
    plug-in check its own and refuses any key no plug-in claims (``platform_keys``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: Name = Field(min_length=1, max_length=80)
    fields: Annotated[tuple[CategoryField, ...], listed(
        "[[categories.fields]] tables", 'fields = [{key = "receipt", label = "Receipt"}]',
        TABLES)] = ()
    sla: dict[str, SlaOverride] = Field(default_factory=dict)  # targets for this category

    @field_validator("sla")
    @classmethod
    def _priorities(cls, value: dict[str, SlaOverride]) -> dict[str, SlaOverride]:
        for key in value:
            if key not in PRIORITIES:
                raise ValueError(f"sla: {key!r} is not a priority; use {', '.join(PRIORITIES)}")
        return value

    @property
    def platform_keys(self) -> dict[str, Any]:
        """The keys this model does not declare, as written."""
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _unique_fields(self) -> Category:
        keys = [f.key for f in self.fields]
        reserved = {"category", "subject", "description", "priority", "account", "visibility"}
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"category {self.key!r} declares field {key!r} twice")
            if key in reserved:
                raise ValueError(f"category {self.key!r}: field key {key!r} is reserved")
        return self


Categories = Annotated[tuple[Category, ...], listed(
    "[[categories]] tables", 'categories = [{key = "billing", name = "Billing"}]', TABLES)]

_RECEIPT = CategoryField(key="receipt", label="Receipt number", required=True, max_length=40)

DEFAULT_CATEGORIES: Categories = (
    Category(key="general", name="General question"),
    Category(key="account", name="Account & access"),
    Category(key="technical", name="Technical setup"),
    Category(key="data", name="Data & reporting"),
    Category(key="billing", name="Billing & payments"),
    Category(
        key="refund",
        name="Refund",
        fields=(
            _RECEIPT,
            CategoryField(key="amount", label="Amount", max_length=20),
            CategoryField(
                key="card_last4",
                label="Last 4 digits of the card",
                sensitive=True,
                min_length=4,
                max_length=4,
                pattern=r"^[0-9]{4}$",
            ),
        ),
    ),
    Category(key="cancellation", name="Cancellation", fields=(_RECEIPT,)),
    Category(key="content", name="Content & creatives"),
    Category(key="abuse", name="Report abuse / quality issue"),
)


class TranscriptsSection(Section):
    """``[transcripts]``: where each platform posts a ticket's transcript when it closes
    (the agents' copy: internal notes included). Its keys belong to the platforms
    (``slack_channel``, ``discord_channel_id``); ``bot`` has each plug-in check its own
    and refuses any key no plug-in claims (``platform_keys``). Empty: none is posted."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @property
    def platform_keys(self) -> dict[str, Any]:
        """The keys as written."""
        return dict(self.model_extra or {})


FAQ_TITLE_MAX, FAQ_ANSWER_MAX, FAQ_KEYWORD_MAX = 200, 1000, 100


def _text(value: str) -> str:
    """Text the desk shows people: not blank, no control characters but line breaks."""
    if not value.strip():
        raise ValueError("is blank")
    bad = first_control(value.replace("\n", " "))
    if bad is not None:
        raise ValueError(f"contains a control character (U+{ord(bad):04X})")
    return value


class FaqEntry(Section):
    """One ``[[faq]]`` entry (PRODUCT.md §10): shown in a new ticket's receipt when its
    subject or description holds one of ``keywords`` (a word or a phrase, compared as
    search compares words: case and accents aside) or the title's words
    (``core.deflection``)."""

    title: Name = Field(max_length=FAQ_TITLE_MAX)
    answer: Annotated[str, AfterValidator(_text)] = Field(max_length=FAQ_ANSWER_MAX)
    keywords: Annotated[tuple[Annotated[Name, Field(max_length=FAQ_KEYWORD_MAX)], ...],
                        listed("words or phrases", 'keywords = ["refund"]')] = ()


FaqEntries = Annotated[tuple[FaqEntry, ...], listed(
    "[[faq]] tables", 'faq = [{title = "Refunds", answer = "…", keywords = ["refund"]}]',
    TABLES)]


class DeflectionSection(Section):
    """``[deflection]``: how a new ticket's similar resolved tickets are ranked —
    ``fulltext`` (the search index's relevance, the default) or ``semantic`` (sentence
    embeddings; needs the optional extra ``helpthread[semantic]``, the ``wordllama``
    package, which ships its model: nothing is downloaded)."""

    ranking: Literal["fulltext", "semantic"] = "fulltext"

    @field_validator("ranking")
    @classmethod
    def _installed(cls, value: str) -> str:
        if value == "semantic" and importlib.util.find_spec("wordllama") is None:
            raise ValueError("semantic needs the optional extra helpthread[semantic] (the "
                             "wordllama package): pip install 'helpthread[semantic]', or "
                             'use ranking = "fulltext"')
        return value


class DeskConfig(Section):
    """Everything the core needs to know about this desk. ``agents`` maps a platform's
    name to its ``AgentRule``, which ``bot`` takes from each plug-in's own section."""

    desk: DeskSection = DeskSection()
    lifecycle: LifecycleSection = LifecycleSection()
    delivery: DeliverySection = DeliverySection()
    sla: dict[str, SlaTarget] = Field(default_factory=_default_sla)
    categories: Categories = DEFAULT_CATEGORIES
    agents: dict[str, AgentRule] = Field(default_factory=dict)  # platform → its rule
    business_hours: BusinessHoursSection | None = None  # None: around the clock
    search: SearchSection = SearchSection()
    faq: FaqEntries = ()  # [[faq]]: answers shown in matching receipts
    deflection: DeflectionSection = DeflectionSection()

    @field_validator("sla", mode="before")
    @classmethod
    def _complete_targets(cls, value: Any) -> Any:
        """Every priority gets a complete ``SlaTarget``: a priority not given, or a key not
        given for it, keeps its default (PRODUCT.md §10)."""
        if not isinstance(value, dict):
            return value
        for key in value:
            if key not in PRIORITIES:
                raise ValueError(f"{key!r} is not a priority; use {', '.join(PRIORITIES)}")
        targets: dict[str, Any] = {}
        for key, default in _default_sla().items():
            given = value.get(key)
            if isinstance(given, BaseModel):
                given = given.model_dump(exclude_none=True)
            if isinstance(given, dict):
                targets[key] = {**default.model_dump(), **{
                    k: v for k, v in given.items() if v is not None}}
            else:
                targets[key] = default if given is None else given
        return targets

    @model_validator(mode="after")
    def _check(self) -> DeskConfig:
        if not self.categories:
            raise ValueError("categories: at least one category is needed")
        seen: dict[str, str] = {}
        for category in self.categories:  # "category=x" must name exactly one category
            for word in {category.key.casefold(), category.name.casefold()}:
                if word in seen and seen[word] != category.key:
                    raise ValueError(f"categories: {word!r} names both {seen[word]!r} and "
                                     f"{category.key!r}")
                if word in seen:
                    raise ValueError(f"categories: key {category.key!r} appears twice")
                seen[word] = category.key
            for priority in category.sla:
                try:
                    self.targets(category.key, priority)
                except ValidationError as error:  # the rule's own words, one line
                    reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
                    raise ValueError(f"categories: {category.key!r} sla.{priority}: "
                                     f"{reason}") from None
        self._targets_fit_the_hours()
        return self

    def _targets_fit_the_hours(self) -> None:
        """A target must be reachable in business time within ``TARGET_YEARS`` (a minute
        a week of hours and a 30-day target would be centuries away)."""
        if self.business_hours is None:
            return
        calendar = self.calendar()
        start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; holidays aside
        weekly = calendar.between(start, start + timedelta(days=7))
        longest = max(max(t.first_response, t.resolution) for t in self.sla.values())
        for category in self.categories:
            for priority in category.sla:
                target = self.targets(category.key, priority)
                longest = max(longest, target.resolution)
        if weekly * 52 * TARGET_YEARS < longest:
            raise ValueError(f"business_hours: hours: {format_duration(weekly)} a week would "
                             f"take more than {TARGET_YEARS} years to reach a target of "
                             f"{format_duration(longest)}; open longer or shorten the target")

    def targets(self, category: str, priority: str) -> SlaTarget:
        """The SLA targets of ``priority`` in ``category``: the category's own
        (``[[categories]] sla``) where it sets them, else ``[sla.<priority>]``. Raises
        ``ValueError`` when a category's first response would exceed its resolution."""
        base = self.sla[priority]
        found = self.category(category)
        override = found.sla.get(priority) if found else None
        if override is None:
            return base
        return SlaTarget(first_response=override.first_response or base.first_response,
                         resolution=override.resolution or base.resolution)

    def category(self, key_or_name: str) -> Category | None:
        """The category whose key or name (case-insensitive) is ``key_or_name``."""
        wanted = key_or_name.strip().casefold()
        for category in self.categories:
            if wanted in (category.key, category.name.casefold()):
                return category
        return None

    def calendar(self) -> Calendar:
        """The SLA clocks' calendar: ``[business_hours]``'s, else ``AroundTheClock``."""
        if self.business_hours is None:
            return AroundTheClock()
        return self.business_hours.calendar()
