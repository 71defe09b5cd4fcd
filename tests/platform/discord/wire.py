"""A wire-level fake of Discord: REST (``/api/v10``) and the gateway, on 127.0.0.1.

Only what an unmodified discord.py client and our adapter use (TESTING.md, "Discord"):
login (``/users/@me``, ``/oauth2/applications/@me``), command sync, channels,
threads, messages, DMs, members; the gateway's HELLO → IDENTIFY → READY →
GUILD_CREATE, then MESSAGE_CREATE for what members ``write()``. Channel history
(``GET /channels/{id}/messages``) follows Discord's documentation: ``limit`` 1–100
(default 50), ``after``/``before``/``around`` a message id, the page nearest that id,
newest first. Unlike SimCord it
answers with real HTTP statuses, so discord.py's own 429/5xx handling runs. Faults
are scripted with ``fail(method, path pattern, status, …)``; ``down()``/``up()``
refuse connections for a while; ``exhaust(path pattern, reset_after)`` makes answers
say their rate-limit bucket is empty (``X-RateLimit-Remaining: 0``). Every request is
recorded in ``requests``.

As Discord does: a message sent with a ``nonce`` and ``enforce_nonce`` whose nonce the
bot already used in that channel is answered with the message made then, and no new one
(Discord keeps nonces a few minutes; this fake for its whole life); a message starts at
most one thread (code 160004), whose id is the message's; a user's DM channel is the
same each time it is opened; ``/guilds/{id}/threads/active`` lists the threads;
``GET /guilds/{id}`` answers for its guild only (``Unknown Guild`` otherwise). With
``token`` set, a request whose ``Authorization`` is not ``Bot <token>`` is answered
``401: Unauthorized`` — interaction callbacks and webhooks, which carry none, aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import discord
from aiohttp import WSMsgType, web

BOT_USER_ID = 700_000_000_000_000_001
APPLICATION_ID = 800_000_000_000_000_002  # deliberately not the bot user's id
JOINED = "2026-01-05T09:00:00+00:00"


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    times: int
    retry_after: float | None = None


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class FakeDiscord:
    guild_id: int
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    identify: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # per channel
    exhausted: dict[str, float] = field(default_factory=dict)  # path pattern → reset_after
    _nonces: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _dms: dict[str, int] = field(default_factory=dict)  # user id → DM channel id
    _dm_ids: set[int] = field(default_factory=set)  # its values, looked up per message
    _ids: Any = field(default_factory=lambda: itertools.count(900_000_000_000_000_000))
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None
    members: dict[int, list[str]] = field(default_factory=dict)  # user id -> role ids
    _gateway_ws: web.WebSocketResponse | None = None
    _query: dict[str, str] = field(default_factory=dict)  # the REST request's query
    _seq: Any = field(default_factory=lambda: itertools.count(2))
    token: str | None = None  # set: only this bot token is accepted

    # ---- control --------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def text_channel(self, name: str) -> int:
        cid = next(self._ids)
        self.channels[cid] = {"id": str(cid), "type": 0, "guild_id": str(self.guild_id),
                              "name": name, "position": 0, "permission_overwrites": []}
        return cid

    def member(self, uid: int, *roles: int) -> None:
        """``uid`` is a member of the guild with ``roles``."""
        self.members[uid] = [str(r) for r in roles]

    async def write(self, channel_id: int, author: int, content: str, *,
                    dispatch: bool = True) -> dict[str, Any]:
        """Member ``author`` writes ``content`` in ``channel_id``: kept in its history and,
        when ``dispatch`` and a gateway session is open, sent as MESSAGE_CREATE."""
        message = {**self._message(str(channel_id), {"content": content}),
                   "author": self._user(author, f"user{author % 1000}")}
        self.messages.setdefault(channel_id, []).append(message)
        if dispatch:
            await self.dispatch_message(message)
        return message

    async def dispatch_message(self, message: dict[str, Any]) -> None:
        """MESSAGE_CREATE for ``message`` (again, if it was sent before: a replay)."""
        uid = int(message["author"]["id"])
        await self._dispatch("MESSAGE_CREATE", {
            **message, "guild_id": str(self.guild_id),
            "member": {"roles": self.members.get(uid, []), "joined_at": JOINED,
                       "deaf": False, "mute": False, "flags": 0}})

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._gateway_ws is not None, "no gateway session is open"
        await self._gateway_ws.send_str(json.dumps({"op": 0, "s": next(self._seq), "t": event,
                                                    "d": data}))

    def fail(self, method: str, pattern: str, status: int, *, times: int = 1,
             retry_after: float | None = None) -> None:
        self.faults.append(Fault(method, pattern, status, times, retry_after))

    def exhaust(self, pattern: str, reset_after: float) -> None:
        """Successful answers to paths matching ``pattern`` say their bucket is empty for
        ``reset_after`` seconds (one request per window), as Discord's headers do."""
        self.exhausted[pattern] = reset_after

    def made(self, method: str, pattern: str) -> list[Recorded]:
        """Requests that succeeded (2xx) matching ``method`` and ``pattern``."""
        return [r for r in self.requests if r.method == method and r.status < 300
                and fnmatch.fnmatch(r.path, pattern)]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await self.up()

    async def up(self) -> None:
        """Listen (again) on the same port; does nothing if already listening."""
        assert self._runner is not None
        if self._site is not None:
            return
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]

    async def down(self) -> None:
        """Stop listening: connections are refused until ``up()``."""
        assert self._site is not None and self._runner is not None
        await self._site.stop()
        self._site = None
        if self._runner.server is not None:  # drop kept-alive connections too
            await self._runner.server.shutdown(0.1)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- REST -------------------------------------------------------------------------

    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        # exactly application/json: aiohttp's json_response adds a charset discord.py refuses
        return web.Response(status=status, body=json.dumps(data).encode(),
                            headers={"Content-Type": "application/json", **(headers or {})})

    def _fault(self, method: str, path: str) -> web.Response | None:
        for fault in self.faults:
            if fault.times and fault.method == method and fnmatch.fnmatch(path, fault.pattern):
                fault.times -= 1
                if fault.status == 429:
                    after = fault.retry_after or 0.01
                    return self._json({"message": "You are being rate limited.",
                                       "retry_after": after, "global": False}, 429,
                                      {"Retry-After": str(after), "Via": "1.1 google",
                                       "X-RateLimit-Scope": "user"})
                return self._json({"message": "Service trouble", "code": 0}, fault.status)
        return None

    def _history(self, cid: int, query: dict[str, str]) -> list[dict[str, Any]]:
        """Discord's Get Channel Messages: the ``limit`` messages nearest the anchor."""
        limit = max(1, min(100, int(query.get("limit", 50))))
        ordered = sorted(self.messages.get(cid, []), key=lambda m: int(m["id"]))
        if "after" in query:
            page = [m for m in ordered if int(m["id"]) > int(query["after"])][:limit]
        elif "before" in query:
            page = [m for m in ordered if int(m["id"]) < int(query["before"])][-limit:]
        else:
            page = ordered[-limit:]
        return list(reversed(page))  # newest first, as Discord answers

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self._query = dict(request.query)
        raw = await request.read()
        body = json.loads(raw) if raw and request.content_type == "application/json" else None
        response = self._unauthorized(request, path) or self._fault(request.method, path) \
            or self._answer(request.method, path, body)
        for pattern, reset_after in self.exhausted.items():
            if response.status < 300 and fnmatch.fnmatch(path, pattern):
                response.headers.update({
                    "X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": str(reset_after),
                    "X-RateLimit-Bucket": f"fake-{pattern}"})
        self.requests.append(Recorded(request.method, path, body, response.status))
        return response

    def _unauthorized(self, request: web.Request, path: str) -> web.Response | None:
        if self.token is None or path.startswith(("/interactions/", "/webhooks/")) \
                or request.headers.get("Authorization") == f"Bot {self.token}":
            return None
        return self._json({"message": "401: Unauthorized", "code": 0}, 401)

    def _user(self, uid: int, name: str = "user") -> dict[str, Any]:
        return {"id": str(uid), "username": name, "discriminator": "0", "avatar": None,
                "global_name": name, "bot": uid == BOT_USER_ID}

    def _message(self, channel_id: str, body: dict[str, Any], mid: int | None = None
                 ) -> dict[str, Any]:
        return {"id": str(mid or next(self._ids)), "channel_id": channel_id, "type": 0,
                "author": self._user(BOT_USER_ID, "helpthread"),
                "content": body.get("content") or "", "embeds": body.get("embeds") or [],
                "components": body.get("components") or [], "attachments": [],
                "mentions": [], "mention_roles": [], "mention_everyone": False,
                "pinned": False, "tts": False, "timestamp": "2026-01-05T09:00:00+00:00",
                "edited_timestamp": None, "flags": 0}

    def _create_message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create Message: a repeated nonce with ``enforce_nonce`` returns the first."""
        key = (channel_id, str(body.get("nonce")))
        if body.get("nonce") is not None and body.get("enforce_nonce"):
            if key in self._nonces:
                return self._nonces[key]
        message = self._message(channel_id, body)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
            self._nonces[key] = message
        self.messages.setdefault(int(channel_id), []).append(message)
        return message

    def _thread(self, parent: str, name: str, kind: int, tid: int | None = None
                ) -> dict[str, Any]:
        tid = tid or next(self._ids)
        data = {"id": str(tid), "type": kind, "guild_id": str(self.guild_id),
                "parent_id": parent, "name": name, "owner_id": str(BOT_USER_ID),
                "member_count": 1, "message_count": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": 10080,
                                    "archive_timestamp": "2026-01-05T09:00:00+00:00",
                                    "locked": False}}
        self.channels[tid] = data
        return data

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return self._json(self._user(BOT_USER_ID, "helpthread"))
        if method == "GET" and path == "/oauth2/applications/@me":
            return self._json({"id": str(APPLICATION_ID), "name": "Helpthread", "icon": None,
                               "description": "", "bot_public": False,
                               "bot_require_code_grant": False, "verify_key": "0" * 64,
                               "flags": 0, "owner": self._user(1, "owner")})
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            synced = [{**c, "id": str(next(self._ids)), "application_id": str(APPLICATION_ID),
                       "guild_id": parts[3], "version": "1"} for c in body]
            return self._json(synced)
        if method == "GET" and parts[0] == "users":
            return self._json(self._user(int(parts[1])))
        if method == "GET" and parts[0] == "guilds" and len(parts) == 2:
            if parts[1] != str(self.guild_id):
                return self._json({"message": "Unknown Guild", "code": 10004}, 404)
            gateway_only = {"channels", "threads", "members", "voice_states", "presences",
                            "stage_instances", "guild_scheduled_events", "joined_at",
                            "large", "unavailable", "member_count"}
            return self._json({k: v for k, v in self._guild().items()
                               if k not in gateway_only})
        if method == "GET" and parts[0] == "guilds" and parts[2:] == ["threads", "active"]:
            threads = [c for c in self.channels.values() if c["type"] in (11, 12)
                       and not c["thread_metadata"]["archived"]]
            return self._json({"threads": threads, "members": []})
        if method == "GET" and parts[0] == "guilds" and parts[2:3] == ["members"]:
            uid = int(parts[3])
            if uid not in self.members:
                return self._json({"message": "Unknown Member", "code": 10007}, 404)
            return self._json({"user": self._user(uid, f"user{uid % 1000}"),
                               "roles": self.members[uid], "joined_at": JOINED,
                               "deaf": False, "mute": False, "flags": 0})
        if method == "POST" and path == "/users/@me/channels":
            did = self._dms.setdefault(str(body["recipient_id"]), next(self._ids))
            self._dm_ids.add(did)
            return self._json({"id": str(did), "type": 1,
                               "recipients": [self._user(int(body["recipient_id"]))]})
        if parts[0] == "channels":
            return self._channel_route(method, parts, body)
        return self._json({"message": f"fake Discord has no {method} {path}", "code": 0}, 404)

    def _channel_route(self, method: str, parts: list[str], body: Any) -> web.Response:
        cid = parts[1]
        rest = parts[2:]
        if method == "GET" and not rest:
            found = self.channels.get(int(cid))
            return self._json(found) if found else self._json({"message": "Unknown Channel",
                                                                "code": 10003}, 404)
        if method == "POST" and rest == ["threads"]:
            return self._json(self._thread(cid, body["name"], int(body.get("type", 11))), 201)
        if method == "PUT" and rest[:1] == ["thread-members"]:
            return web.Response(status=204)
        if method in ("POST", "PATCH") and rest[:1] == ["messages"] \
                and int(cid) not in self.channels and int(cid) not in self._dm_ids:
            # Discord's answer for a channel or thread that is gone (deleted)
            return self._json({"message": "Unknown Channel", "code": 10003}, 404)
        if method == "POST" and rest == ["messages"]:
            # _create_message keeps it in the channel's history (once per nonce)
            return self._json(self._create_message(cid, body))
        if method == "GET" and rest == ["messages"]:
            return self._json(self._history(int(cid), self._query))
        if method == "POST" and len(rest) == 3 and rest[2] == "threads":
            if int(rest[1]) in self.channels:
                return self._json({"message": "A thread has already been created for this "
                                              "message", "code": 160004}, 400)
            return self._json(self._thread(cid, body["name"], 11, int(rest[1])), 201)
        if method == "PATCH" and rest[:1] == ["messages"]:
            return self._json(self._message(cid, body, int(rest[1])))
        return self._json({"message": "not faked", "code": 0}, 404)

    # ---- gateway ----------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
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
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": {
                    "v": 10, "user": self._user(BOT_USER_ID, "helpthread"),
                    "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                    "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APPLICATION_ID), "flags": 0}}}))
                self._gateway_ws = ws
                await self._dispatch("GUILD_CREATE", self._guild())
                self.identified.set()
        if self._gateway_ws is ws:
            self._gateway_ws = None
        return ws

    def _guild(self) -> dict[str, Any]:
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": "0",
                    "position": 0, "color": 0, "hoist": False, "managed": False,
                    "mentionable": False, "flags": 0}
        roles = {r for rs in self.members.values() for r in rs}
        return {
            "id": str(self.guild_id), "name": "Fake guild", "icon": None, "owner_id": "1",
            "roles": [everyone, *({**everyone, "id": r, "name": f"role{r[-3:]}",
                                   "position": 1} for r in sorted(roles))],
            "emojis": [], "stickers": [], "features": [], "member_count": len(self.members) + 1,
            "channels": [c for c in self.channels.values() if c.get("type") == 0],
            "threads": [], "members": [{"user": self._user(BOT_USER_ID, "helpthread"),
                                        "roles": [], "joined_at": JOINED, "deaf": False,
                                        "mute": False, "flags": 0}],
            "large": False, "unavailable": False, "joined_at": JOINED,
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "system_channel_flags": 0,
            "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
            "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": []}


F = TypeVar("F", bound=FakeDiscord)


@contextlib.asynccontextmanager
async def running(server: F) -> AsyncIterator[F]:
    """``server`` started, then stopped; discord.py's API and gateway URLs, which a bot
    built against it points at it process-wide, are put back afterwards."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
