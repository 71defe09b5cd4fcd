"""Platforms are plug-ins (issue 9, point 5): each declaration, and placement decided
from configuration alone."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from adapters.discord.plugin import PLUGIN as DISCORD
from adapters.discord.plugin import DiscordCredentials, DiscordSettings
from adapters.email.plugin import PLUGIN as EMAIL
from adapters.email.plugin import EmailCredentials
from adapters.email.settings import EmailSettings
from adapters.shell.plugin import PLUGIN as SHELL
from adapters.shell.plugin import ShellCredentials, ShellSettings
from adapters.slack.plugin import PLUGIN as SLACK
from adapters.slack.plugin import SlackCredentials, SlackSettings
from bot import registry
from bot.settings import Credentials, Settings
from core.config import Category
from core.desk import Desk
from core.identity import Actor, UserRef
from core.platforms import SettingError, ThreadPlace
from core.routing import bindings_for
from core.tickets import Visibility
from tests.support.memory import MemoryStores

CATEGORIES = (Category(key="general", name="General"),
              Category(key="refund", name="Refund", slack_team_channel="C0BILLING",  # type: ignore[call-arg]
                       discord_team_channel_id=777))
SLACK_IDS = SlackSettings(support_channel="C0SUPPORT", team_channel="C0TEAM",
                          escalation_channel="C0ESC", agent_users=("U0AGENT",),
                          agent_groups=("S0AGENTS",), team_id="T0ACME")
DISCORD_IDS = DiscordSettings(guild_id=1, support_channel_id=2, team_channel_id=3,
                              escalation_channel_id=4, agent_role_id=5)


def test_every_plugin_has_its_own_section_in_settings() -> None:
    fields = Settings.model_fields
    for plugin in registry.PLUGINS:
        assert fields[plugin.name].annotation is plugin.settings_model
    assert [p.name for p in registry.PLUGINS] == ["slack", "discord", "email", "shell"]


def test_slack_declaration() -> None:
    rule = SLACK.agent_rule(SLACK_IDS)
    assert (rule.users, rule.groups, rule.workspace) == (
        frozenset({"U0AGENT"}), frozenset({"S0AGENTS"}), "T0ACME")
    assert rule.admits(Actor(UserRef("slack", "T0ACME", "U0AGENT"), "Ada"))
    assert not rule.admits(Actor(UserRef("slack", "T0OTHER", "U0AGENT"), "Ada"))
    assert SLACK.traits.private_in_dm and not SLACK.traits.thread_reaches_requester
    assert SLACK.traits.team_thread and SLACK.traits.ticket_thread is ThreadPlace.CHANNEL
    assert SLACK.configured(SLACK_IDS) and not SLACK.configured(SlackSettings())
    assert not SLACK.has_credentials(SlackCredentials())
    assert SLACK.has_credentials(SlackCredentials(slack_app_token=SecretStr("xapp-1")))
    route = SLACK.route(SLACK_IDS, CATEGORIES)
    assert (route.platform, route.workspace, route.support_channel) == (
        "slack", "T0ACME", "C0SUPPORT")
    assert route.team_channels == {"refund": "C0BILLING"}
    assert route.escalation_channel == "C0ESC" and route.private_in_dm
    with pytest.raises(SettingError, match=r"slack\.team_channel is not set"):
        SLACK.route(SlackSettings(support_channel="C1"), ())
    with pytest.raises(SettingError, match="SLACK_SIGNING_SECRET"):
        SLACK.check_credentials(SlackCredentials(slack_bot_token=SecretStr("xoxb-1")))


def test_discord_declaration() -> None:
    rule = DISCORD.agent_rule(DISCORD_IDS)
    assert (rule.users, rule.groups, rule.workspace) == (frozenset(), frozenset({"5"}), "1")
    agent = Actor(UserRef("discord", "1", "42"), "Bob", frozenset({"5"}))
    assert rule.admits(agent)
    elsewhere = Actor(UserRef("discord", "9", "42"), "Bob", frozenset({"5"}))
    assert not rule.admits(elsewhere), "the same ids in another guild are nobody"
    assert DISCORD.traits.thread_reaches_requester and not DISCORD.traits.private_in_dm
    assert DISCORD.configured(DISCORD_IDS)
    # half a section is meant to place tickets: route() then names what is missing
    half = DiscordSettings(guild_id=1, support_channel_id=2)
    assert DISCORD.configured(half) and not DISCORD.configured(DiscordSettings())
    with pytest.raises(SettingError, match=r"discord\.team_channel_id"):
        DISCORD.route(half, ())
    assert DISCORD.has_credentials(DiscordCredentials(discord_token=SecretStr("t")))
    assert not DISCORD.has_credentials(DiscordCredentials())
    route = DISCORD.route(DISCORD_IDS, CATEGORIES)
    assert (route.workspace, route.support_channel, route.default_team_channel) == ("1", "2", "3")
    assert route.team_channels == {"refund": "777"} and route.escalation_channel == "4"
    with pytest.raises(SettingError, match=r"discord\.team_channel_id"):
        DISCORD.route(DiscordSettings(guild_id=1, support_channel_id=2), ())


def test_shell_declaration() -> None:
    rule = SHELL.agent_rule(ShellSettings())
    assert rule.groups == frozenset({"agents"}) and rule.workspace == "local"
    assert SHELL.configured(ShellSettings()) and SHELL.placed_alone
    assert not SHELL.has_credentials(ShellCredentials()), "it runs on a terminal only"
    route = SHELL.route(ShellSettings(), CATEGORIES)
    assert (route.platform, route.workspace, route.support_channel,
            route.default_team_channel) == ("shell", "local", "ticket", "team")
    assert route.thread_reaches_requester and route.team_thread


def test_category_keys_belong_to_their_plugin() -> None:
    registry.check_categories(CATEGORIES)
    typo = Category(key="x", name="X", slack_team_chanel="C1")  # type: ignore[call-arg]
    with pytest.raises(SettingError, match=r"categories\.x\.slack_team_chanel"):
        registry.check_categories((typo,))
    wrong = Category(key="x", name="X", discord_team_channel_id="C1")  # type: ignore[call-arg]
    with pytest.raises(SettingError, match=r"categories\.x\.discord_team_channel_id"):
        registry.check_categories((wrong,))


def test_the_shell_is_placed_only_when_no_chat_platform_is_configured() -> None:
    assert [r.platform for r in registry.routes(Settings(), ())] == ["shell"]
    assert [r.platform for r in registry.routes(Settings(slack=SLACK_IDS), ())] == ["slack"]
    both = Settings(slack=SLACK_IDS, discord=DISCORD_IDS)
    assert [r.platform for r in registry.routes(both, ())] == ["slack", "discord"]


MAIL = EmailSettings(smtp_host="smtp.example.com", from_address="support@example.com",
                     signing_key=SecretStr("k" * 20))


def test_email_declaration() -> None:
    """E-mail keeps no threads, makes nobody an agent, and runs whenever configured."""
    assert EMAIL.configured(MAIL) and not EMAIL.configured(EmailSettings())
    assert not EMAIL.traits.team_thread and EMAIL.traits.ticket_thread is ThreadPlace.NONE
    assert EMAIL.runs_when_configured and not EMAIL.has_credentials(EmailCredentials())
    assert not EMAIL.agent_rule(MAIL).admits(Actor(UserRef.email("boss@example.com"), "B"))
    route = EMAIL.route(MAIL, CATEGORIES)
    assert (route.platform, route.team_thread, route.escalation_channel) == (
        "email", False, None)
    with pytest.raises(SettingError, match="HELPTHREAD_EMAIL__SMTP_PASSWORD"):
        EMAIL.route(MAIL.model_copy(update={"smtp_user": "desk"}), ())
    with pytest.raises(SettingError, match=r"email\.smtp_password"):
        EMAIL.route(MAIL.model_copy(update={"smtp_password": SecretStr("pw")}), ())


def test_with_email_alone_the_shell_keeps_the_threads_and_runs_beside_it() -> None:
    assert [r.platform for r in registry.routes(Settings(email=MAIL), ())] == [
        "email", "shell"]
    assert [r.platform for r in registry.routes(Settings(email=MAIL, slack=SLACK_IDS), ())
            ] == ["slack", "email"]
    assert [p.name for p in registry.started(Settings(email=MAIL), Credentials())] == [
        "email"]
    assert registry.started(Settings(), Credentials()) == []
    with_slack = Credentials(slack_bot_token=SecretStr("xoxb-1"))
    assert [p.name for p in registry.started(Settings(email=MAIL), with_slack)] == [
        "slack", "email"]


def test_credentialed_plugins_follow_the_credentials() -> None:
    assert registry.credentialed(Credentials()) == []
    only_discord = Credentials(discord_token=SecretStr("t"))
    assert [p.name for p in registry.credentialed(only_discord)] == ["discord"]


async def test_two_processes_running_different_platforms_place_a_ticket_alike() -> None:
    """One process runs only Slack, the other only Discord; both read one config. The
    same new ticket gets the same bindings in each."""
    settings = Settings(slack=SLACK_IDS, discord=DISCORD_IDS, categories=CATEGORIES)
    config = settings.desk_config()
    bindings = []
    for running in (Credentials(slack_bot_token=SecretStr("xoxb-1")),
                    Credentials(discord_token=SecretStr("t"))):
        assert len(registry.credentialed(running)) == 1
        desk = Desk(config, MemoryStores(), registry.routes(settings, config.categories))
        alice = Actor(UserRef("discord", "1", "100"), "Alice")
        opened = await desk.open_ticket(alice, _form())
        assert opened.ticket.visibility is Visibility.PRIVATE
        bindings.append([(b.platform, b.workspace, b.audience, b.channel, b.in_requester_dm)
                         for b in await desk.bindings_of(opened.ticket.number)])
        assert bindings[-1] == [(b.platform, b.workspace, b.audience, b.channel,
                                 b.in_requester_dm)
                                for b in bindings_for(opened.ticket, desk.routes)]
    assert bindings[0] == bindings[1]
    assert {(p, channel) for p, _, _, channel, _ in bindings[0]} == {
        ("discord", "2"), ("discord", "777"), ("slack", "C0BILLING")}


def _form():  # type: ignore[no-untyped-def]
    from tests.support.people import form

    return form(category="refund")


@pytest.mark.parametrize(("keys", "named"), [
    ({"team_channel_id": 2}, "discord.team_channel_id is the support channel 2"),
    ({"team_channel_id": 3, "escalation_channel_id": 2},
     "discord.escalation_channel_id is the support channel 2"),
])
def test_discord_refuses_an_internal_channel_that_is_the_support_channel(
        keys: dict[str, int], named: str) -> None:
    settings = DiscordSettings.model_validate({"guild_id": 1, "support_channel_id": 2, **keys})
    with pytest.raises(SettingError, match=named):
        DISCORD.route(settings, [])
    category = Category.model_validate({"key": "refund", "name": "Refund",
                                        "discord_team_channel_id": 2})
    apart = DiscordSettings(guild_id=1, support_channel_id=2, team_channel_id=3)
    with pytest.raises(SettingError, match=r"categories\.refund\.discord_team_channel_id is "
                                           "the support channel 2"):
        DISCORD.route(apart, [category])
