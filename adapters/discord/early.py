"""Deferrals sent from the gateway frame, before discord.py builds the interaction.

A deferral says nothing but "received"; what follows it is decided after. So for an
interaction whose first answer is a deferral — a card control that defers its update,
a form of ours submitted, a control that shows a list — the deferral is sent the moment
its INTERACTION_CREATE frame is read, from the frame's id and token, and discord.py
then builds the interaction (its member, its message with the card's embeds and
components: some 90 µs of CPU a Claim here) and runs the callback as before. With
several interactions read at once each deferral had waited for its own interaction's
building and for the callbacks ahead of it; now it goes out first (``core.lanes``).

Which interactions are deferred this way is declared by the controls themselves
(``deferral`` on each ``DynamicItem`` class, the same value their callback passes to
``acting.act``) and by our forms (every form of ours defers "thinking"); a frame for
anything else — a command, a control that answers with a modal, a form this process
does not know (shown before a restart: discord.py drops its submission) — is left to
the callback. The callback's ``acting.defer`` takes the deferral sent for it
(``take``) rather than sending its own; its outcome is the same: False for a
redelivered interaction (Discord: already acknowledged) or one Discord no longer knows.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import discord
from discord.webhook.async_ import async_context, interaction_response_params

from adapters.discord import render
from adapters.discord.acting import Deferral, refused_first_answer
from core.lanes import answer_lane

log = logging.getLogger("helpthread.discord")

COMPONENT, MODAL_SUBMIT = 3, 5  # Discord's interaction types
DEFERRED_MESSAGE, DEFERRED_UPDATE = 5, 6  # Discord's interaction callback types
EPHEMERAL = 64  # message flag
TAKEN_WITHIN = 30.0  # seconds a deferral sent early waits for its callback to take it


def _shows(message: Any, custom_id: str, component_type: Any) -> bool:
    """Whether ``message`` (a raw message payload) carries a component ``custom_id`` of
    ``component_type``, at any depth: discord.py runs a control's callback only then
    (``ViewStore.schedule_dynamic_item_call``), and a deferral with no callback after it
    would leave the person thinking (a card edited since it was shown, a payload without
    its message)."""
    if not isinstance(message, dict):
        return False
    rows: list[Any] = list(message.get("components") or [])
    while rows:
        component = rows.pop()
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == custom_id and component.get("type") == component_type:
            return True
        rows.extend(component.get("components") or [])
        if isinstance(component.get("component"), dict):  # a section's accessory, v2
            rows.append(component["component"])
        if isinstance(component.get("accessory"), dict):
            rows.append(component["accessory"])
    return False


class EarlyDeferrals:
    """Sends deferrals from raw INTERACTION_CREATE payloads (the module's rule) and hands
    each to the callback of its interaction.

    ``controls``: the registered ``DynamicItem`` classes (each with ``deferral``);
    ``modals``: whether a form with this ``custom_id`` is waiting in this process;
    ``session``: the HTTP session answers go out on (None: no HTTP, nothing is sent
    early); ``sent``: called once a deferral sent early has been answered by Discord;
    ``waiting``: told of each interaction whose deferral is on its way, and how to know
    it went (``answers.AnswersFirst.waiting``)."""

    def __init__(self, controls: Iterable[type[discord.ui.DynamicItem[Any]]],
                 modals: Callable[[str], bool], session: Callable[[], Any],
                 sent: Callable[[], None],
                 waiting: Callable[[int, Callable[[], bool]], None]) -> None:
        self._controls: list[tuple[re.Pattern[str], Deferral]] = [
            (cls.__discord_ui_compiled_template__, getattr(cls, "deferral", None))
            for cls in controls]
        self._modals = modals
        self._session = session
        self._sent = sent
        self._waiting = waiting
        # interaction id → the task sending its deferral, its callback type, when read
        # (time.monotonic); in the order read, so the oldest are let go first
        self._pending: OrderedDict[int, tuple[asyncio.Task[bool], int, float]] = OrderedDict()
        self._told: set[asyncio.Task[None]] = set()  # ``unparsed``'s answers under way

    def deferral_of(self, data: dict[str, Any]) -> Deferral:
        """The deferral an interaction's first answer is, from its payload; None when its
        callback answers otherwise (or is not ours)."""
        inner = data.get("data") or {}
        custom_id = inner.get("custom_id")
        if not isinstance(custom_id, str):
            return None
        if data.get("type") == MODAL_SUBMIT:
            return "thinking" if self._modals(custom_id) else None
        if data.get("type") == COMPONENT and _shows(data.get("message"), custom_id,
                                                    inner.get("component_type")):
            for pattern, deferral in self._controls:
                if pattern.fullmatch(custom_id):
                    return deferral  # discord.py runs every match; ours never overlap
        return None

    def read(self, data: dict[str, Any]) -> asyncio.Task[bool] | None:
        """An INTERACTION_CREATE payload was read: send its deferral now if it has one
        (the task sending it; None: none was sent)."""
        deferral = self.deferral_of(data)
        session = self._session()
        if deferral is None or session is None:
            return None
        try:
            interaction_id, token = int(data["id"]), str(data["token"])
        except (KeyError, TypeError, ValueError):
            return None
        if interaction_id in self._pending:  # the same frame twice: one deferral
            return None
        now = time.monotonic()
        while self._pending:  # deferrals no callback took (the control went meanwhile)
            oldest = next(iter(self._pending.values()))
            if now - oldest[2] < TAKEN_WITHIN:
                break
            self._pending.popitem(last=False)
        kind = DEFERRED_UPDATE if deferral == "update" else DEFERRED_MESSAGE
        body = {"flags": EPHEMERAL} if kind == DEFERRED_MESSAGE else None
        task = asyncio.get_running_loop().create_task(
            self._send(interaction_id, token, kind, body, session), context=answer_lane())
        self._pending[interaction_id] = (task, kind, now)
        self._waiting(interaction_id, task.done)
        return task

    async def _send(self, interaction_id: int, token: str, kind: int,
                    body: dict[str, Any] | None, session: Any) -> bool:
        try:
            await async_context.get().create_interaction_response(
                interaction_id, token, session=session,
                params=interaction_response_params(type=kind, data=body))
        except discord.HTTPException as err:
            refused_first_answer(interaction_id, err)
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as err:  # Discord unreachable
            log.warning("discord.interaction_lost id=%s: %r", interaction_id, err)
            return False
        finally:
            self._sent()
        return True

    def unparsed(self, data: dict[str, Any], state: Any) -> None:
        """discord.py could not build the interaction of ``data`` (its parser raised), so
        no callback will follow a deferral sent for it: the person is told, once it is
        sent, that it did not work (``render.FAILED``) rather than left thinking."""
        try:
            found = self._pending.pop(int(data["id"]), None)
            application_id, token = int(data["application_id"]), str(data["token"])
        except (KeyError, TypeError, ValueError):
            return
        if found is None:
            return
        task = found[0]

        async def tell() -> None:
            try:
                if not await task:
                    return
            except Exception:  # the deferral itself failed (Discord unreachable): logged
                log.warning("discord.interaction_unanswered id=%s", data["id"], exc_info=True)
                return
            hook = discord.Webhook.from_state(
                data={"id": application_id, "type": 3, "token": token}, state=state)
            hook.session = self._session()
            try:
                await hook.send(render.FAILED, ephemeral=True)
            except discord.HTTPException as err:
                log.warning("discord.interaction_unanswered id=%s: %s", data["id"], err)
        told = asyncio.get_running_loop().create_task(tell())
        self._told.add(told)
        told.add_done_callback(self._told.discard)

    async def take(self, interaction: discord.Interaction[Any]) -> bool | None:
        """The outcome of the deferral sent early for ``interaction`` — True once Discord
        has it, False for a redelivered interaction or one Discord no longer knows — or
        None when none was sent (the callback defers as usual)."""
        found = self._pending.pop(interaction.id, None)
        if found is None:
            return None
        task, kind, _ = found
        ok = await task
        if ok:  # discord.py's own record that the interaction has its first answer
            interaction.response._response_type = discord.InteractionResponseType(kind)
        return ok

    def sent_for(self, interaction_id: int) -> bool:
        """Whether a deferral was sent early for this interaction and not yet taken."""
        return interaction_id in self._pending


Parser = Callable[[Any], None]


class GatewayParses:
    """discord.py's gateway parsers, run in the order their frames came — but once an
    interaction's deferral was sent from its frame, its parse and every parse after it
    wait for the event loop's next pass, behind that deferral and any other deferral
    sent meanwhile (``core.lanes``). Each waiting parse runs in the lane its own frame
    would have: an interaction not yet answered in the answer lane (its callbacks answer
    someone), anything else out of it. A parse that raises is logged and the rest go on
    (one bad frame does not end the gateway session: discord.py lets it end the
    connection); ``failed`` hears of an interaction's."""

    def __init__(self, early: Callable[[dict[str, Any]], object],
                 failed: Callable[[dict[str, Any]], None]) -> None:
        self._early = early
        self._failed = failed
        # each parse waiting: its event, its parser, its data, and whether it runs in
        # the answer lane
        self._waiting: deque[tuple[str, Parser, Any, bool]] = deque()
        self._draining: asyncio.Handle | None = None

    def install(self, parsers: dict[str, Parser]) -> None:
        """Put every parser of ``parsers`` (``ConnectionState.parsers``, which the gateway
        reads by event name) behind this order."""
        for event, parser in list(parsers.items()):
            parsers[event] = self._ordered(event, parser)

    def _ordered(self, event: str, parser: Parser) -> Parser:
        interaction = event == "INTERACTION_CREATE"

        def parse(data: Any) -> None:
            answered = interaction and self._early(data) is not None
            if answered or self._waiting:
                self._waiting.append((event, parser, data, interaction and not answered))
                self._drain_soon()
            else:
                self._run(event, parser, data)
        return parse

    def close(self) -> None:
        """The client closes: the parses still waiting are dropped (their interactions,
        deferred, get no result — as work cut short by a shutdown — and nothing reaches
        a closed client's state)."""
        if self._draining is not None:
            self._draining.cancel()
            self._draining = None
        self._waiting.clear()

    def _drain_soon(self) -> None:
        if self._draining is None and self._waiting:
            in_lane = self._waiting[0][3]
            self._draining = asyncio.get_running_loop().call_soon(
                self._drain, context=answer_lane(in_lane))

    def _drain(self) -> None:
        """One waiting parse (then the next at the loop's next pass: frames read
        meanwhile have their deferrals sent first)."""
        self._draining = None
        event, parser, data, _ = self._waiting.popleft()
        self._drain_soon()
        self._run(event, parser, data)

    def _run(self, event: str, parser: Parser, data: Any) -> None:
        try:
            parser(data)
        except Exception:
            if event != "INTERACTION_CREATE":
                log.exception("discord.event_unparsed event=%s", event)
                return
            log.exception("discord.interaction_unparsed id=%s", data.get("id"))
            self._failed(data)
