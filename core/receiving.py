"""The desk's side of receiving from platforms (``core.inbound``): where each thread's
catch-up reads on, pruning old inbound keys, and names filled in after the fact.

Adapters store what they receive before they acknowledge it, with the user id they
were signed with; a display name the platform could not give then (its API down) is
stored as a placeholder and replaced by ``rename`` once known.
"""

from __future__ import annotations

import logging

from core.clock import Clock
from core.config import DeskConfig
from core.identity import UserRef, display_name
from core.inbound import KEYS_KEPT, ThreadCursor
from core.store.port import StoreFactory

log = logging.getLogger("helpthread.inbound")


class Receiving:
    config: DeskConfig
    stores: StoreFactory
    clock: Clock

    async def thread_cursors(self, platform: str) -> list[ThreadCursor]:
        """Every ``platform`` thread catch-up should read after downtime: those of tickets
        not closed, or closed within ``lifecycle.reopen_window`` (a requester's message
        there still reopens the ticket). Raises ``Unavailable`` when the store is down."""
        since = self.clock.now() - self.config.lifecycle.reopen_window
        async with self.stores.reading() as store:
            return await store.thread_cursors(platform, since)

    async def prune_inbound(self) -> int:
        """Forgets inbound keys older than ``core.inbound.KEYS_KEPT`` (7 days); returns
        how many. Thread cursors are kept: catch-up never needs an old key."""
        async with self.stores.transaction() as store:
            pruned = await store.prune_inbound(self.clock.now() - KEYS_KEPT)
        if pruned:
            log.info("inbound.pruned keys=%s", pruned)
        return pruned

    async def rename(self, person: UserRef, placeholder: str, name: str) -> int:
        """``person`` stored as ``placeholder`` (their id, while the platform could not
        name them) is ``name`` from now on, in the history and on their tickets. Returns
        the rows changed."""
        name = display_name(name)
        if name == placeholder:
            return 0
        async with self.stores.transaction() as store:
            return await store.rename(person, display_name(placeholder), name)
