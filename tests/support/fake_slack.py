"""A fake Slack on loopback: the Web API, ``response_url``s, file uploads, Socket Mode.

This fakes the platform (the far side of the SDK), never our code (TESTING.md).
Every call is recorded as ``Call(method, args)``. Answers follow Slack's shapes:
``chat.postMessage`` hands out increasing ``ts``; ``views.open`` echoes the view
with an ``id`` and ``hash``; ``conversations.open`` maps ``U…`` to ``D…``.
``fail(method, …)`` makes the next calls of a method answer an error or HTTP 429
(``channel=``: only calls to that channel, as Slack limits ``chat.postMessage`` per
channel; ``when=``: only calls whose arguments it accepts; ``answer_lost=True``: the
call takes effect, then the connection drops before the answer); ``hold(method)``
keeps its calls waiting until ``release(method)`` (a slow Slack).
Posted messages are kept per channel (``messages``) with their ``metadata``, and
threads as Slack keeps them: the app's posts and what people ``write()``.
``conversations.history`` (newest first) and ``conversations.replies`` (the parent
first, then replies by ``ts``, ``oldest``/``latest``/``inclusive``) page with ``limit``
and ``cursor`` and show ``metadata`` only with ``include_all_metadata``, as Slack does.
``ts`` values are the wall clock in microseconds, strictly increasing, as Slack's are.
``refuse()`` closes the port (connections refused) until ``accept()``.
Every answered call carries the token's scopes in the ``x-oauth-scopes`` header,
comma-separated, as Slack's Web API does (``scopes``: by default those the manifest
asks for, an app installed from it; a scripted failure carries none).
Socket Mode: ``apps.connections.open`` returns ``ws://…/link``; the fake greets with
``hello``, ``push()`` sends an envelope and returns the app's acknowledgement.

Run alone for the benchmark: ``python -m tests.support.fake_slack --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from adapters.slack.manifest import bot_scopes

TEAM = "T0TEST"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
PUSH_TIMEOUT = 10.0  # seconds: a safety net so a broken app fails a test instead of hanging


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    times: int = 1
    channel: str | None = None  # only calls to this channel (None: any)
    answer_lost: bool = False  # the call takes effect; the answer never arrives
    when: Callable[[dict[str, Any]], bool] | None = None  # only calls it accepts


@dataclass(frozen=True)
class SharedFile:
    """A file ``files.completeUploadExternal`` shared: where, with what comment, its bytes."""

    id: str
    name: str
    title: str | None
    channel: str | None
    comment: str | None
    data: bytes
    length: int = -1  # the length files.getUploadURLExternal was told


@dataclass
class FakeSlack:
    """Start with ``await fake.start()``; ``fake.api_url`` is the ``SLACK_API_URL``."""

    users: dict[str, str] = field(default_factory=dict)  # user id -> display name
    groups: dict[str, list[str]] = field(default_factory=dict)  # user group -> user ids
    record: bool = True
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posted to response_urls
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> bytes transferred
    shared: list[SharedFile] = field(default_factory=list)  # completed uploads, in order
    acks: list[dict[str, Any]] = field(default_factory=list)  # Socket Mode acknowledgements
    port: int = 0
    handled: int = 0  # Web API calls answered, recorded or not (the benchmark reads it)
    # trigger_id -> when its views.open arrived (time.monotonic(), one clock for every
    # process on the machine): the benchmark's "form shown" latency.
    forms_opened: dict[str, float] = field(default_factory=dict)
    socket_url: str | None = None  # what apps.connections.open hands out (default: ours)
    # the bot token's scopes, sent in x-oauth-scopes (default: the manifest's)
    scopes: tuple[str, ...] = field(default_factory=lambda: tuple(bot_scopes()))
    # channel id -> messages posted there (top level and replies), in posting order
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._last_ts = 0
        self._upload_names: dict[str, str] = {}
        self._upload_lengths: dict[str, int] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._held: dict[str, asyncio.Event] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._acked: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.connected = asyncio.Event()

    # ---- life cycle ----------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeSlack:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_get("/link", self._socket)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/forms", self._forms)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def refuse(self) -> None:
        """Slack's API unreachable: the port is closed, connections are refused."""
        await self.stop()

    async def accept(self) -> None:
        """Reachable again, on the same port."""
        await self.start(self.port)

    def write(self, user: str, channel: str, thread_ts: str, text: str, *,
              team: str = TEAM, **extra: Any) -> dict[str, Any]:
        """``user`` writes ``text`` in a thread: kept for ``conversations.replies``;
        returns the message as an event would carry it (with ``channel``)."""
        message = {"type": "message", "user": user, "text": text, "ts": self._next_ts(),
                   "thread_ts": thread_ts, "team": team,
                   "client_msg_id": str(uuid.uuid4()), **extra}
        self.threads.setdefault((channel, thread_ts), []).append(message)
        return {**message, "channel": channel,
                "channel_type": "im" if channel.startswith("D") else "channel"}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex[:10]}"

    # ---- what tests ask ------------------------------------------------------------

    def fail(self, method: str, *, status: int = 200, error: str | None = None,
             retry_after: float | None = None, times: int = 1, channel: str | None = None,
             answer_lost: bool = False,
             when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self._failures.setdefault(method, []).append(
            Failure(status, error, retry_after, times, channel, answer_lost, when))

    def clear(self, method: str) -> None:
        """``method``'s scripted failures end: its next calls are answered again."""
        self._failures.pop(method, None)

    def hold(self, method: str) -> None:
        """Calls of ``method`` are recorded, then wait for ``release(method)``."""
        self._held[method] = asyncio.Event()

    def release(self, method: str) -> None:
        self._held.pop(method).set()

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def last(self, method: str) -> dict[str, Any]:
        found = self.of(method)
        assert found, f"{method} was never called; calls: {[c.method for c in self.calls]}"
        return found[-1]

    def methods(self) -> set[str]:
        return {c.method for c in self.calls}

    def posts(self, channel: str | None = None, thread: str | None = None
              ) -> list[dict[str, Any]]:
        """Messages posted (``chat.postMessage`` that succeeded), optionally in ``channel``
        (as answered: a user id becomes their DM) / under ``thread``; each is the call's
        arguments plus the ``ts`` and ``channel`` Slack answered."""
        found = []
        for c in self.calls:
            if c.method != "chat.postMessage" or not c.answer.get("ok"):
                continue
            message = {**c.args, "ts": c.answer["ts"], "channel": c.answer["channel"]}
            if (channel is None or message["channel"] == channel) \
                    and (thread is None or message.get("thread_ts") == thread):
                found.append(message)
        return found

    def views(self, method: str = "views.open") -> list[dict[str, Any]]:
        """Views the app opened/updated/published, as Slack answered (with ``id``)."""
        return [c.answer["view"] for c in self.calls if c.method == method
                and c.answer.get("ok")]

    # ---- the Web API ---------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        self.handled += 1
        call = Call(method, args)
        if self.record:
            self.calls.append(call)
        if method in self._held:
            await asyncio.wait_for(self._held[method].wait(), PUSH_TIMEOUT)
        failure = self._failure_for(method, args)
        if failure is not None and failure.answer_lost:
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            call.answer = handler(args) if handler else {"ok": True}
            assert request.transport is not None
            request.transport.close()  # the client sees the server disconnect, no answer
            return _json({"ok": False, "error": "connection_lost"})
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(int(failure.retry_after))
            body = {"ok": False, "error": failure.error or "ratelimited"}
            call.answer = body
            return _json(body, status=failure.status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        body = handler(args) if handler else {"ok": True}
        call.answer = body
        return _json(body, headers={"x-oauth-scopes": ",".join(self.scopes)})

    def _failure_for(self, method: str, args: dict[str, Any]) -> Failure | None:
        """The first scripted failure of ``method`` that applies to this call, used up."""
        queue = self._failures.get(method) or []
        for failure in queue:
            if (failure.channel is None or failure.channel == _channel_of(args)) \
                    and (failure.when is None or failure.when(args)):
                failure.times -= 1
                if failure.times <= 0:
                    queue.remove(failure)
                return failure
        return None

    def _next_ts(self) -> str:
        now = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = now
        return f"{now // 1_000_000}.{now % 1_000_000:06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "helpthread",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "text": args.get("text"), "ts": ts,
                                   "bot_id": BOT_ID, "user": BOT_USER}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.setdefault(channel, []).append(message)
        if args.get("thread_ts"):
            self.threads.setdefault((channel, str(args["thread_ts"])), []).append(message)
        else:
            self.threads.setdefault((channel, ts), []).append({**message, "thread_ts": ts})
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {k: v for k, v in message.items() if k != "metadata"}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _channel_of(args)
        if channel not in self.messages and not channel.startswith(("C", "D", "G")):
            return {"ok": False, "error": "channel_not_found"}
        top = [m for m in self.messages.get(channel, [])
               if m.get("thread_ts") in (None, m["ts"])]
        return self._page(list(reversed(top)), args)

    @staticmethod
    def _page(found: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
        """One page of ``found``: ``limit`` (default 100) from ``cursor`` (an offset here;
        opaque to the app); ``metadata`` only when ``include_all_metadata`` is true."""
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        shown = found[start:start + limit]
        if str(args.get("include_all_metadata")).lower() not in ("true", "1"):
            shown = [{k: v for k, v in m.items() if k != "metadata"} for m in shown]
        more = start + limit < len(found)
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """Slack's ``conversations.replies``: the parent always first, then the replies
        within ``oldest``/``latest`` (exclusive unless ``inclusive``), ``limit`` at a
        time (default 1000), ``cursor`` to go on."""
        thread = self.threads.get((_channel_of(args), str(args.get("ts"))))
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        oldest = _micros(args.get("oldest")) or 0
        latest = _micros(args.get("latest")) or 2 ** 62
        parent, replies = thread[0], thread[1:]
        within = [m for m in replies if (oldest <= _micros(m["ts"]) <= latest if inclusive
                                         else oldest < _micros(m["ts"]) < latest)]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 1000)
        page = within[start:start + limit]
        more = start + limit < len(within)
        shown = [parent, *page]
        if str(args.get("include_all_metadata")).lower() not in ("true", "1"):
            shown = [{k: v for k, v in m.items() if k != "metadata"} for m in shown]
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {"ok": True, "channel": args.get("channel"),
                "permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{ts}"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", "")).split(",")[0]
        return {"ok": True, "channel": {"id": "D" + user[1:]}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user"))
        name = self.users.get(user, user.lower())
        return {"ok": True, "user": {"id": user, "name": name.lower(), "real_name": name,
                                     "locale": "en-US", "team_id": TEAM,
                                     "profile": {"display_name": name, "real_name": name}}}

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": [
            {"id": g, "handle": g.lower().removeprefix("s0") + "-team", "name": g}
            for g in self.groups]}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup"))
        if group not in self.groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.groups[group]}

    def _view(self, args: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        return {"ok": True, "view": {**(view or {}), "id": view_id or f"V{uuid.uuid4().hex[:8]}",
                                     "hash": uuid.uuid4().hex[:8], "team_id": TEAM}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self.forms_opened[str(args.get("trigger_id"))] = time.monotonic()
        return self._view(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._view(args, args.get("view_id"))

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._view(args)

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        # Slack requires both and refuses the call without them.
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{uuid.uuid4().hex[:8]}"
        self._upload_names[file_id] = str(args["filename"])
        self._upload_lengths[file_id] = int(args["length"])
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Shares uploaded files (``shared``); a file id that was never handed out or whose
        bytes never arrived is refused, as Slack refuses it."""
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        files = files or []
        if not files or any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        for f in files:
            self.shared.append(SharedFile(
                id=f["id"], name=self._upload_names.get(f["id"], ""), title=f.get("title"),
                channel=args.get("channel_id"), comment=args.get("initial_comment"),
                data=self.uploads[f["id"]], length=self._upload_lengths.get(f["id"], -1)))
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")}
                                      for f in files]}

    def shared_in(self, channel: str) -> list[dict[str, Any]]:
        """Files shared in ``channel`` (``files.completeUploadExternal``), oldest first:
        their id, name, title, comment and the bytes uploaded (``content``)."""
        return [{"id": f.id, "name": f.name, "title": f.title, "channel": f.channel,
                 "comment": f.comment, "content": f.data, "length": f.length}
                for f in self.shared if f.channel == channel]

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url or f"ws://127.0.0.1:{self.port}/link"}

    async def _stats(self, request: web.Request) -> web.Response:
        return _json({"handled": self.handled})

    async def _forms(self, request: web.Request) -> web.Response:
        """The views.open arrival times seen so far, then forgotten."""
        opened, self.forms_opened = self.forms_opened, {}
        return _json(opened)

    async def _upload(self, request: web.Request) -> web.Response:
        """The file-transfer URL ``files.getUploadURLExternal`` handed out; ``fail("upload",
        status=…)`` makes the next transfers answer that HTTP status."""
        queue = self._failures.get("upload")
        if queue:
            failure = queue.pop(0)
            return web.Response(status=failure.status, text="upload failed")
        self.uploads[request.match_info["file"]] = await request.read()
        return web.Response(text="OK - uploaded")

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"key": request.match_info["key"], **body})
        return web.Response(text="ok")

    # ---- Socket Mode ---------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0"}})
        self.connected.set()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    ack = json.loads(msg.data)
                    self.acks.append(ack)
                    future = self._acked.pop(str(ack.get("envelope_id")), None)
                    if future is not None and not future.done():
                        future.set_result(ack)
        finally:
            self._sockets.remove(ws)
        return ws

    async def push(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0
                   ) -> dict[str, Any]:
        """Send one envelope (``events_api``, ``slash_commands``, ``interactive``) and
        return the app's acknowledgement."""
        await asyncio.wait_for(self.connected.wait(), PUSH_TIMEOUT)
        envelope_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acked[envelope_id] = future
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": retry_attempt, "retry_reason": ""}
        await self._sockets[-1].send_json(envelope)
        return await asyncio.wait_for(future, PUSH_TIMEOUT)


async def _read_args(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return dict(request.query)
    if request.content_type == "application/json":
        return dict(json.loads(raw))
    if request.content_type.startswith("multipart/"):
        data = await request.post()
        return {k: v for k, v in data.items() if isinstance(v, str)}
    args: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    for key in ("blocks", "view", "files", "metadata"):
        if isinstance(args.get(key), str) and args[key][:1] in "[{":
            args[key] = json.loads(args[key])
    return args


def _channel_of(args: dict[str, Any]) -> str:
    """The channel a call is about, as Slack answers it (a user id is their DM)."""
    channel = str(args.get("channel", ""))
    return "D" + channel[1:] if channel.startswith("U") else channel


def _micros(ts: Any) -> int:
    if not ts:
        return 0
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
          ) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, headers=headers,
                        content_type="application/json")


async def _serve(port: int) -> None:
    fake = FakeSlack(record=False)
    await fake.start(port)
    print(f"fake Slack on {fake.api_url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A fake Slack Web API on loopback.")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args().port))
