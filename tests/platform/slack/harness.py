"""The Slack test rig: our real platform (Bolt app, outbound, desk on SQLite) served on
loopback, a fake Slack beside it, and signed requests between them.

``settle()`` waits for the listeners that keep working after their ``ack()`` and then
runs the delivery worker until nothing is due — no sleeps, no timing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.slack.platform import SlackPlatform, build_slack
from adapters.slack.plugin import PLUGIN, SlackSettings
from bot.runtime import Runtime
from core.clock import FrozenClock
from core.config import Category, CategoryField, DeskConfig
from core.desk import Desk
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    SignedSlack,
    button_press,
    by_label,
    command_body,
    event_body,
    message_event,
    view_action,
    view_submission,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
AGENT = "U0AGENT"  # an agent by user id (slack.agent_users)
GROUP_AGENT = "U0GRPAGENT"  # an agent through the user group S0AGENTS
ALICE = "U0ALICE"  # a requester
BOB = "U0BOB"  # same workspace, not an agent
SUPPORT, TEAM_CHANNEL, BILLING, ESCALATION = "C0SUPPORT", "C0TEAM", "C0BILLING", "C0ESCALATE"
NAMES = {AGENT: "Ada Agent", GROUP_AGENT: "Gus Group", ALICE: "Alice", BOB: "Bob"}

SLACK = SlackSettings(support_channel=SUPPORT, team_channel=TEAM_CHANNEL,
                      escalation_channel=ESCALATION, agent_users=(AGENT,),
                      agent_groups=("S0AGENTS",), escalation_group="S0MANAGERS")
CONFIG = DeskConfig(
    agents={"slack": PLUGIN.agent_rule(SLACK)},
    categories=(
        Category(key="general", name="General question"),
        Category(key="refund", name="Refund", slack_team_channel=BILLING, fields=(  # type: ignore[call-arg]
            CategoryField(key="receipt", label="Receipt number", required=True, max_length=40),
            CategoryField(key="card_last4", label="Last 4 digits of the card", sensitive=True,
                          min_length=4, max_length=4, pattern=r"^[0-9]{4}$"),
        )),
    ),
)


async def slack_on(desk: Desk, api_url: str, app_token: str | None = None) -> SlackPlatform:
    """Our Slack platform serving ``desk``, as ``SlackPlugin.build`` builds it."""
    return await build_slack(desk, SLACK, PLUGIN.route(SLACK, CONFIG.categories),
                             bot_token="xoxb-test", signing_secret=SECRET,
                             app_token=app_token, api_url=api_url)


@dataclass
class Harness:
    fake: FakeSlack
    platform: SlackPlatform
    runtime: Runtime
    clock: FrozenClock
    slack: SignedSlack
    server: web.AppRunner | None = None

    async def settle(self) -> int:
        """Let listeners finish, then deliver everything due; returns deliveries still
        pending (retries due later)."""
        await self.platform.idle()
        pending = await self.runtime.worker.run_until_idle()
        await self.platform.idle()
        return pending

    # ---- driving -----------------------------------------------------------------

    async def command(self, user: str, text: str) -> tuple[int, str]:
        answer = await self.slack.command(command_body(user, text, self.fake.response_url()))
        await self.settle()
        return answer

    def last_view(self) -> dict[str, Any]:
        """The newest view the app opened or updated (as Slack answered it)."""
        views = [c.answer["view"] for c in self.fake.calls
                 if c.method in ("views.open", "views.update") and c.answer.get("ok")]
        assert views, "the app opened no view"
        return views[-1]

    async def choose(self, user: str, label: str, choice: str) -> dict[str, Any]:
        """``user`` picks ``choice`` in the form's dispatching select ``label``."""
        await self.slack.interact(view_action(self.last_view(), user, label, choice))
        await self.settle()
        return self.last_view()

    async def submit(self, user: str, values: dict[str, Any], *,
                     view: dict[str, Any] | None = None,
                     forged: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """``user`` submits the form with ``values`` by label; ``forged`` adds values by
        raw block id (what a tampered payload could carry)."""
        view = view or self.last_view()
        by_block = {**by_label(view, values), **(forged or {})}
        status, body = await self.slack.interact(view_submission(view, user, by_block))
        await self.settle()
        return status, (json.loads(body) if body.strip().startswith("{") else {})

    async def press(self, user: str, message: dict[str, Any], label: str,
                    option: str | None = None) -> tuple[int, str]:
        current = self.current(message)
        answer = await self.slack.interact(button_press(
            current, user, label, self.fake.response_url(), current["channel"], option=option))
        await self.settle()
        return answer

    async def say(self, user: str, channel: str, thread: str | None, text: str, *,
                  channel_type: str = "channel", event_id: str | None = None,
                  retry: int | None = None, **extra: Any) -> tuple[int, str]:
        event = message_event(user, channel, text, thread_ts=thread,
                              channel_type=channel_type, **extra)
        answer = await self.slack.event(event_body(event, event_id), retry=retry)
        await self.settle()
        return answer

    # ---- reading what the app did ---------------------------------------------------

    def cards(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages (cards) the app posted in ``channel``."""
        return [p for p in self.fake.posts(channel) if not p.get("thread_ts")]

    def current(self, message: dict[str, Any]) -> dict[str, Any]:
        """``message`` as it is now: its latest ``chat.update``, if any."""
        updates = [a for a in self.fake.of("chat.update")
                   if a.get("ts") == message["ts"] and a.get("channel") == message["channel"]]
        return {**message, **updates[-1]} if updates else message

    def thread(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        return self.fake.posts(message["channel"], thread=message["ts"])

    def dms(self, user: str) -> list[dict[str, Any]]:
        return self.fake.posts("D" + user[1:])

    def told(self) -> list[str]:
        """Texts of ephemeral answers sent through response_url."""
        return [r.get("text", "") for r in self.fake.responses]

    async def open_ticket(self, user: str = ALICE, *, category: str = "general",
                          subject: str = "Cannot log in", shared: bool = True,
                          description: str = "The login page says my password is wrong.",
                          **fields: str) -> None:
        await self.command(user, "new")
        await self.choose(user, "Category", category)
        values: dict[str, Any] = {"Category": category, "Subject": subject,
                                  "Description": description, "Priority": "Normal",
                                  "Sharing": ["Share with my organisation"] if shared else []}
        values.update(fields)
        status, body = await self.submit(user, values)
        assert status == 200 and not body, body


def frozen_now() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))
