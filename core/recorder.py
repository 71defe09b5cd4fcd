"""The delivery worker's writes, several queues' at a time (a group commit).

Each queue the worker delivers asks, one at a time, to mark its head begun before the
call, then each delivery done (with the next one begun) after it. Asked one by one,
each was a transaction of its own: about a millisecond of this process's CPU per
delivery, most of it in the database client. The recorder writes whatever was asked
while its previous write ran in one ``Outbox.record`` transaction, so it adds no wait
— the first request is written at once — and under load one transaction carries the
outcomes of many queues. Each request is answered only once its transaction has
committed, so nothing goes out before its start is on record, and a queue's next
delivery no earlier than the previous one is recorded done. A failed write fails
every request in it, as each one's own transaction would have.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.outbound import Done, Outbox
from core.routing import Delivery


@dataclass(slots=True)
class _Request:
    done: Done | None
    start: Delivery | None
    answer: asyncio.Future[bool]


class Recorder:
    """Writes ``owner``'s starts and completions to ``outbox``, batched (module notes).

    A queue has at most one request waiting, so a batch holds at most as many as the
    worker has queues in flight."""

    def __init__(self, outbox: Outbox, owner: str) -> None:
        self.outbox = outbox
        self.owner = owner
        self._waiting: list[_Request] = []
        self._writer: asyncio.Task[None] | None = None

    async def start(self, delivery: Delivery) -> bool:
        """Record that an attempt of ``delivery`` begins; False when ``owner`` no longer
        holds it (it must not be delivered)."""
        return await self._ask(None, delivery)

    async def complete(self, done: Done, then_start: Delivery | None) -> bool:
        """Record ``done``, and ``then_start`` begun in the same transaction; whether it
        was (False without one)."""
        return await self._ask(done, then_start)

    async def idle(self) -> None:
        """Until the write under way, if any, has ended (before the engine goes)."""
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def _ask(self, done: Done | None, start: Delivery | None) -> bool:
        request = _Request(done, start, asyncio.get_running_loop().create_future())
        self._waiting.append(request)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await request.answer

    async def _write(self) -> None:
        batch: list[_Request] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    started = await self.outbox.record(
                        [r.done for r in batch if r.done is not None],
                        [r.start for r in batch if r.start is not None], self.owner)
                except Exception as err:
                    for request in batch:
                        if not request.answer.done():  # its queue may have been cancelled
                            request.answer.set_exception(err)
                    continue
                for request in batch:
                    if not request.answer.done():
                        request.answer.set_result(
                            request.start is not None and request.start.id in started)
        finally:
            self._writer = None
            for request in batch + self._waiting:  # unanswered: the writer was cancelled
                if not request.answer.done():
                    request.answer.cancel()
            self._waiting.clear()
