"""The wire-level fake Discord (``wire.py``) grown for interactions (issue 14's tests and
``bench/discord.py``): the guild arrives on the gateway (GUILD_CREATE), the
test or benchmark dispatches INTERACTION_CREATE frames, and the interaction callbacks
and follow-ups the bot sends back are recorded (and timed) on arrival.

Payload shapes follow Discord's documentation ("Interaction Object", "Interaction
Response Object", "Guild Object") as far as discord.py 2.7 reads them. Channel writes
(messages, threads, edits) may be slowed by ``write_delay`` seconds, so deliveries stay
in flight while interactions are measured, as on a real network.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.platform.discord.wire import APPLICATION_ID, BOT_USER_ID, FakeDiscord

AGENT_ROLE = 400_000_000_000_000_004
NOW = "2026-01-05T09:00:00+00:00"


@dataclass
class Answered:
    """When an interaction was dispatched and answered (``time.perf_counter`` seconds)."""

    sent: float
    first: float | None = None   # the interaction callback
    kind: int | None = None      # its type: 4 message, 5 thinking, 6 deferred update, 9 modal
    result: float | None = None  # the first message sent with its token afterwards
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    resulted: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class InteractionFake(FakeDiscord):
    write_delay: float = 0.0
    hold: dict[str, float] = field(default_factory=dict)  # interaction id → s before its
    # callback's response (the answer is recorded on arrival, the bot hears back later)
    answered: dict[str, Answered] = field(default_factory=dict)
    callbacks: dict[str, list[int]] = field(default_factory=dict)  # id → each callback's
    # type, in order (a second is refused: "already acknowledged")
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # token's id →
    # the messages sent with it after the first answer (follow-ups, edits)
    writes: int = 0
    wrote: asyncio.Event = field(default_factory=asyncio.Event)
    # the bot's local port of each connection that carried an interaction's answer
    # (callback, follow-up) or a channel write
    ports: dict[str, set[int]] = field(
        default_factory=lambda: {"answers": set(), "channel writes": set()})
    _socket: web.WebSocketResponse | None = None
    _seq: Any = field(default_factory=lambda: itertools.count(2))
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def channels_by_name(self, name: str) -> int:
        """The id of the text channel called ``name``."""
        return next(int(c["id"]) for c in self.channels.values() if c.get("name") == name)

    # ---- the benchmark's side ---------------------------------------------------------

    async def dispatch(self, payload: dict[str, Any]) -> None:
        """Send an INTERACTION_CREATE with ``payload``; its answer is timed from now. The
        same payload again is a redelivery: Discord refuses a second first answer."""
        assert self._socket is not None, "the bot is not connected"
        self.answered.setdefault(payload["id"], Answered(time.perf_counter()))
        await self._socket.send_str(json.dumps(
            {"op": 0, "s": next(self._seq), "t": "INTERACTION_CREATE", "d": payload}))

    async def dispatch_event(self, event: str, data: dict[str, Any]) -> None:
        """Send any other gateway event (``MESSAGE_CREATE``, …) on the same session."""
        assert self._socket is not None, "the bot is not connected"
        await self._socket.send_str(json.dumps(
            {"op": 0, "s": next(self._seq), "t": event, "d": data}))

    def guild_payload(self) -> dict[str, Any]:
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": "68608",
                    "position": 0, "color": 0, "hoist": False, "managed": False,
                    "mentionable": False, "flags": 0}
        agents = {**everyone, "id": str(AGENT_ROLE), "name": "Agents", "position": 1}
        me = {"user": self._user(BOT_USER_ID, "helpthread"), "roles": [], "joined_at": NOW,
              "deaf": False, "mute": False, "flags": 0}
        return {"id": str(self.guild_id), "name": "Bench", "icon": None, "owner_id": "1",
                "afk_timeout": 300, "verification_level": 0,
                "default_message_notifications": 0, "explicit_content_filter": 0,
                "roles": [everyone, agents], "emojis": [], "stickers": [], "features": [],
                "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0,
                "preferred_locale": "en-US", "nsfw_level": 0, "large": False,
                "unavailable": False, "member_count": 1, "members": [me],
                "channels": [c for c in self.channels.values() if c["type"] == 0],
                "threads": [], "voice_states": [], "presences": [],
                "stage_instances": [], "guild_scheduled_events": [], "joined_at": NOW}

    # ---- REST: interaction answers -----------------------------------------------------

    async def _callback(self, request: web.Request, iid: str) -> web.Response:
        now = time.perf_counter()
        body = await request.json()
        self.callbacks.setdefault(iid, []).append(int(body["type"]))
        seen = self.answered.get(iid)
        if seen is not None and seen.first is None:
            seen.first, seen.kind = now, int(body["type"])
            seen.answered.set()
        elif seen is not None:
            return self._json({"message": "Interaction has already been acknowledged.",
                               "code": 40060}, 400)
        ephemeral = bool(int((body.get("data") or {}).get("flags") or 0) & 64)
        if self.hold.get(iid):
            await asyncio.sleep(self.hold[iid])
        return self._json({"interaction": {
            "id": iid, "type": 2, "activity_instance_id": None,
            "response_message_id": None, "response_message_loading": body["type"] == 5,
            "response_message_ephemeral": ephemeral}})

    async def _webhook(self, request: web.Request, token: str) -> web.Response:
        now = time.perf_counter()
        raw = await request.read()
        iid = token.removeprefix("tok-")
        seen = self.answered.get(iid)
        if seen is not None and seen.result is None:
            seen.result = now
            seen.resulted.set()
        body = json.loads(raw) if request.content_type == "application/json" and raw else {}
        self.results.setdefault(iid, []).append(body)
        message = self._message(str(next(iter(self.channels))), body or {})
        message["flags"] = 64
        message["webhook_id"] = str(APPLICATION_ID)
        message["application_id"] = str(APPLICATION_ID)
        return self._json(message)

    def _port(self, kind: str, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.ports[kind].add(int(peer[1]))

    async def _rest(self, request: web.Request) -> web.Response:
        parts = request.match_info["path"].strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            self._port("answers", request)
            return await self._callback(request, parts[1])
        if parts[0] == "webhooks":
            self._port("answers", request)
            return await self._webhook(request, parts[2])
        if request.method in ("POST", "PATCH", "PUT") and "/channels/" in request.path:
            self._port("channel writes", request)
            self.writes += 1
            self.wrote.set()
            if self.write_delay:
                await asyncio.sleep(self.write_delay)
        return await super()._rest(request)

    # ---- gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                self.identify = frame["d"]
                self._socket = ws
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": {
                    "v": 10, "user": self._user(BOT_USER_ID, "helpthread"),
                    "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                    "session_id": "bench-session", "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APPLICATION_ID), "flags": 0}}}))
                await ws.send_str(json.dumps({"op": 0, "s": next(self._seq),
                                              "t": "GUILD_CREATE",
                                              "d": self.guild_payload()}))
                self.identified.set()
        return ws


# ---- interactions as Discord sends them ---------------------------------------------

_ids = itertools.count(1_500_000_000_000_000_000)


def _member(user_id: int, agent: bool) -> dict[str, Any]:
    return {"user": {"id": str(user_id), "username": f"u{user_id % 1000}",
                     "discriminator": "0", "avatar": None, "global_name": None},
            "roles": [str(AGENT_ROLE)] if agent else [], "joined_at": NOW, "deaf": False,
            "mute": False, "flags": 0, "permissions": "2147483647"}


def _base(kind: int, guild: int, channel: int, user: int, agent: bool) -> dict[str, Any]:
    iid = str(next(_ids))
    return {"id": iid, "application_id": str(APPLICATION_ID), "type": kind,
            "token": f"tok-{iid}", "version": 1, "guild_id": str(guild),
            "channel_id": str(channel),
            "channel": {"id": str(channel), "type": 0, "guild_id": str(guild),
                        "name": "support", "position": 0, "permission_overwrites": []},
            "member": _member(user, agent), "locale": "en-US", "guild_locale": "en-US",
            "app_permissions": "2147483647", "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild)}, "context": 0,
            "attachment_size_limit": 10_485_760}


def command(guild: int, channel: int, user: int, sub: str, agent: bool = True,
            **options: Any) -> dict[str, Any]:
    """``/ticket <sub> option=value…`` (integers as type 4, text as type 3)."""
    opts = [{"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
            for k, v in options.items()]
    return {**_base(2, guild, channel, user, agent),
            "data": {"id": "1", "name": "ticket", "type": 1, "guild_id": str(guild),
                     "options": [{"name": sub, "type": 1, "options": opts}]}}


def _card(channel: int, component: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(next(_ids)), "channel_id": str(channel), "type": 0,
            "author": {"id": str(BOT_USER_ID), "username": "helpthread",
                       "discriminator": "0", "avatar": None, "bot": True},
            "content": "", "embeds": [], "attachments": [], "mentions": [],
            "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": NOW, "edited_timestamp": None, "flags": 0,
            "components": [{"type": 1, "components": [component]}]}


def button(guild: int, channel: int, user: int, custom_id: str,
           agent: bool = True) -> dict[str, Any]:
    component = {"type": 2, "style": 1, "label": "x", "custom_id": custom_id}
    return {**_base(3, guild, channel, user, agent), "message": _card(channel, component),
            "data": {"custom_id": custom_id, "component_type": 2}}


def select(guild: int, channel: int, user: int, custom_id: str, value: str,
           agent: bool = True) -> dict[str, Any]:
    options = [{"label": p, "value": p} for p in ("low", "normal", "high", "urgent")]
    component = {"type": 3, "custom_id": custom_id, "options": options,
                 "min_values": 1, "max_values": 1}
    return {**_base(3, guild, channel, user, agent), "message": _card(channel, component),
            "data": {"custom_id": custom_id, "component_type": 3, "values": [value]}}


def modal_submit(guild: int, channel: int, user: int, custom_id: str,
                 values: dict[str, str], agent: bool = True) -> dict[str, Any]:
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()]
    return {**_base(5, guild, channel, user, agent),
            "data": {"custom_id": custom_id, "components": rows}}
