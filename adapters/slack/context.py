"""What every Slack listener shares: the Web API client, the config, the people
resolver, the desk once attached, and a count of listeners still running."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.pacing import AckFirst
from adapters.slack.people import Namer, People
from core.config import DeskConfig
from core.desk import Desk
from core.identity import Actor

log = logging.getLogger("helpthread.slack")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


ACK_WINDOW_SECONDS = 3.0  # Slack's wait for an acknowledgement (Slack API: "Acknowledge")


class _Signalling:
    """Bolt's ``ack`` that also tells ``Inflight`` the listener has acknowledged."""

    def __init__(self, ack: Callable[..., Awaitable[Any]], then: Callable[[], None]) -> None:
        self._ack, self._then = ack, then
        self.acked = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._ack(*args, **kwargs)
        finally:
            self.acked = True
            self._then()


class Inflight:
    """Runs each listener as a task of its own and hands Bolt back control the moment
    the listener has called ``ack()``, so Bolt (``process_before_response=True``)
    sends the acknowledgement at once while the listener works on: no polling, no
    10 ms tick (Bolt's own ``process_before_response=False`` checks for the ack every
    10 ms). Listeners without an ``ack`` parameter (events, which Bolt acknowledges
    itself) are handed back at once. Counts listeners still running; ``idle()`` waits
    until none is left (tests and shutdown)."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[Any]] = set()  # held: the loop keeps weak refs

    def track(self, listener: F) -> F:
        takes_ack = "ack" in inspect.signature(listener).parameters

        @functools.wraps(listener)
        async def run(**kwargs: Any) -> None:
            loop = asyncio.get_running_loop()
            handed_back: asyncio.Future[None] = loop.create_future()

            def hand_back(*_: Any) -> None:
                if not handed_back.done():
                    handed_back.set_result(None)

            ack = _Signalling(kwargs["ack"], hand_back) if takes_ack else None
            if ack is not None:
                kwargs["ack"] = ack
            else:
                hand_back()  # Bolt acknowledges events itself once this returns
            task = loop.create_task(self._run(listener, kwargs, handed_back))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if ack is None:
                return
            task.add_done_callback(hand_back)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ACK_WINDOW_SECONDS):
                    await asyncio.shield(handed_back)
            hand_back()  # from here on the listener's failures are its own to log
            failed = task.result() if task.done() else None
            if failed is not None and not ack.acked:
                raise failed  # before ack(): Bolt answers 500 and logs it
        return run  # type: ignore[return-value]

    async def _run(self, listener: Callable[..., Awaitable[Any]], kwargs: dict[str, Any],
                   handed_back: asyncio.Future[None]) -> Exception | None:
        """The listener's whole run. A failure once Bolt has its answer (``handed_back``
        done: acknowledged, an event, or Slack's window over) is logged here, since
        nobody else sees it; before that it is returned for ``track`` to give Bolt."""
        self.count += 1
        self._idle.clear()
        try:
            await listener(**kwargs)
            return None
        except Exception as err:
            if handed_back.done():
                log.exception("Slack listener %s failed", listener.__name__)
            return err
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run ``work`` (after a listener has answered) as a counted task; its failure
        is logged."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        done.set_result(None)

        async def listener() -> None:
            await work

        task = loop.create_task(self._run(listener, {}, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Return once no listener runs (after letting just-started ones begin)."""
        while True:
            for _ in range(3):
                await asyncio.sleep(0)
            if self.count == 0:
                return
            await self._idle.wait()


@dataclass
class Shared:
    client: AsyncWebClient
    config: DeskConfig
    people: People
    team_id: str
    bot_user_id: str | None = None
    workspace_url: str | None = None  # auth.test's url, e.g. https://acme.slack.com/
    desk_: Desk | None = None
    session: aiohttp.ClientSession | None = None  # the Web API's connection pool
    inflight: Inflight = field(default_factory=Inflight)
    pace: AckFirst = field(default_factory=AckFirst)  # bulk work gives way to acks
    namer_: Namer | None = None

    @property
    def desk(self) -> Desk:
        if self.desk_ is None:
            raise RuntimeError("the Slack platform is not attached to a desk yet")
        return self.desk_

    @property
    def namer(self) -> Namer:
        """Fills in names stored as placeholders while Slack was unreachable."""
        if self.namer_ is None:
            self.namer_ = Namer(self.people, self.desk.rename)
        return self.namer_

    def name_later(self, *actors: Actor | None) -> None:
        """After a store: those of ``actors`` stored under a placeholder name are named
        once Slack answers (``people.Namer``)."""
        for actor in actors:
            if actor is not None and self.people.unnamed(actor.ref.user_id):
                self.namer.later(actor.ref, actor.name)

    async def actor(self, body: dict[str, Any]) -> Actor:
        """The signed user of an interaction or command payload."""
        user = body.get("user")
        if isinstance(user, dict):
            user_id = str(user.get("id"))
            team = str(user.get("team_id") or (body.get("team") or {}).get("id")
                       or self.team_id)
            hint = user.get("name") or user.get("username")
        else:
            user_id = str(body.get("user_id"))
            team = str(body.get("team_id") or self.team_id)
            hint = body.get("user_name")
        return await self.people.actor(team, user_id, hint)

    async def tell(self, body: dict[str, Any], text: str) -> None:
        """An answer only ``body``'s user sees: through the request's ``response_url``
        (ephemeral) when there is one, else a DM from the app (``chat.postEphemeral``
        would fail for someone outside the channel)."""
        url = body.get("response_url")
        if url:
            try:
                webhook = AsyncWebhookClient(url, timeout=10, session=self.session)
                answer = await webhook.send(text=text, response_type="ephemeral",
                                            replace_original=False)
                if answer.status_code < 400:
                    return
                log.warning("response_url answered %s", answer.status_code)
            except Exception as err:  # expired URL, network: fall back to a DM
                log.warning("response_url failed: %s", err)
        user = body.get("user")
        user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
        if user_id:
            try:
                await self.client.chat_postMessage(channel=str(user_id), text=text)
            except SlackApiError as err:
                log.warning("cannot DM %s: %s", user_id, err.response.get("error"))

    async def open_view(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """``views.open`` with the request's ``trigger_id`` (it lives 3 seconds). When
        Slack refuses (``expired_trigger_id``, a view it rejects), the person is told
        rather than left with nothing."""
        try:
            await self.client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as err:
            error = err.response.get("error")
            log.warning("views.open refused: %s", error)
            await self.tell(body, f"Slack did not open the form ({error}). Please try again.")

    async def answer(self, body: dict[str, Any], pieces: list[str],
                     extra: list[dict[str, Any]] | None = None) -> None:
        """A longer ephemeral answer: one section per ≤ 3000-character piece, then the
        ``extra`` blocks (a "More" button); without a response URL, the text by DM."""
        url = body.get("response_url")
        extra = extra or []
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": p}}
                  for p in pieces[:50 - len(extra)] if p] + extra
        if url:
            webhook = AsyncWebhookClient(url, timeout=10, session=self.session)
            answer = await webhook.send(text=pieces[0][:3000] if pieces else "",
                                        blocks=blocks, response_type="ephemeral",
                                        replace_original=False)
            if answer.status_code < 400:
                return
        await self.tell(body, "\n".join(pieces)[:3000])
