"""Deflection (issue 12): what may already answer a new ticket, found once when it opens.

- ``helpful``: up to ``PAST_MAX`` resolved (or closed) tickets with a resolution note that
  the requester may see, matched on what the requester may read of them (subject,
  description, public comments — never internal notes or category fields);
- ``faq``: up to ``FAQ_MAX`` ``[[faq]]`` entries whose keywords (or title words) the
  subject or description holds;
- ``similar``: up to ``PAST_MAX`` resolved tickets of anyone, for the agents' card, with
  their resolution notes (matched on everything agents may read).

Ranking is ``[deflection] ranking``: ``fulltext`` — the search index's relevance over the
new ticket's significant words (``query_words``), any of them, among the
``DEFLECT_CANDIDATES`` newest matching tickets; ``semantic`` — cosine similarity of
sentence embeddings (``core.semantic``) among the ``SEMANTIC_CANDIDATES`` newest
resolved tickets that have one. The result is stored in the ticket's ``Opened`` event,
so the receipt and the cards say the same on every delivery attempt and every edit.
Words come from ``core.search.tokens`` (letters and digits, case and accents folded):
nothing the requester typed reaches a query as syntax.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.config import DeskConfig, FaqEntry
from core.events import FaqAnswer, PastTicket
from core.search import tokens
from core.semantic import Embedder
from core.store.port import Store, StoreFactory
from core.tickets import Ticket
from core.visibility import Viewer

log = logging.getLogger("helpthread.deflection")

PAST_MAX = 3  # past tickets shown, to the requester and to agents
FAQ_MAX = 3  # FAQ entries shown in a receipt
WORDS_MAX = 16  # significant words a full-text match is made of
WORD_MAX = 64  # longer "words" (a pasted token, a hash) say nothing about a problem

# Words too common to say what a ticket is about (English; other languages rank on
# bm25's inverse document frequency alone).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before
being below between both but by can cannot could did do does doing down during each few
for from further had has have having he her here hers herself him himself his how i if in
into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours
yourself yourselves hi hello hey thanks thank please help need needs get got still also
since yet ok okay dear team regards cheers anyone someone something anything
im ive dont doesnt didnt cant wont isnt arent wasnt
""".split())


@dataclass(frozen=True, slots=True)
class Deflection:
    """What a new ticket's receipt and cards show (see the module's docstring);
    ``vector``: the new ticket's embedding under ``model`` (semantic ranking), stored
    beside it."""

    helpful: tuple[PastTicket, ...] = ()
    faq: tuple[FaqAnswer, ...] = ()
    similar: tuple[PastTicket, ...] = ()
    vector: bytes | None = None
    model: str | None = None


def query_words(subject: str, description: str) -> tuple[str, ...]:
    """The significant words of a new ticket, subject's first, each once: no stop words,
    no single letters, none over ``WORD_MAX`` characters; at most ``WORDS_MAX``. Empty
    when nothing is left."""
    out: list[str] = []
    for word in tokens(subject) + tokens(description):
        if word in STOPWORDS or not 2 <= len(word) <= WORD_MAX or word in out:
            continue
        out.append(word)
        if len(out) == WORDS_MAX:
            break
    return tuple(out)


def _holds(have: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(have[i:i + n] == phrase for i in range(len(have) - n + 1))


def faq_score(entry: FaqEntry, words: tuple[str, ...]) -> int:
    """How well ``entry`` fits a ticket whose words are ``words``: 3 per keyword (a word
    or phrase, in order) it holds, 1 per significant title word; 0 unless a keyword
    matched or at least two title words did."""
    keywords = sum(3 for k in entry.keywords if _holds(words, tokens(k)))
    present = set(words)
    title = {w for w in tokens(entry.title) if w not in STOPWORDS and len(w) > 1}
    overlap = len(title & present)
    if keywords == 0 and overlap < 2:
        return 0
    return keywords + overlap


def faq_matches(faq: tuple[FaqEntry, ...], subject: str,
                description: str) -> tuple[FaqAnswer, ...]:
    """The entries of ``faq`` that fit the ticket, best first (then in config order),
    at most ``FAQ_MAX``."""
    words = (*tokens(subject), "", *tokens(description))  # no phrase spans the two
    scored = [(faq_score(entry, words), i, entry) for i, entry in enumerate(faq)]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return tuple(FaqAnswer(entry.title, entry.answer) for _, _, entry in best[:FAQ_MAX])


def past(tickets: list[Ticket]) -> tuple[PastTicket, ...]:
    return tuple(PastTicket(t.number, t.subject, t.resolution or "") for t in tickets
                 if t.resolution)


async def similar(store: Store, viewer: Viewer, words: tuple[str, ...],
                  vector: bytes | None, model: str | None) -> tuple[PastTicket, ...]:
    """Up to ``PAST_MAX`` resolved tickets ``viewer`` may see, most alike first: by
    ``vector`` when given (semantic), else by ``words`` (full text)."""
    if vector is not None and model is not None:
        return past(await store.nearest_tickets(vector, model, viewer, PAST_MAX))
    if not words:
        return ()
    return past(await store.similar_tickets(words, viewer, PAST_MAX))


async def deflect(store: Store, config: DeskConfig, requester: Viewer, subject: str,
                  description: str, embedder: Embedder | None) -> Deflection:
    """A new ticket's deflection (``store``: a reading one). ``requester`` is who the
    ticket is for (``helpful`` is limited to what they may see); agents' ``similar``
    looks at every resolved ticket."""
    faq = faq_matches(config.faq, subject, description)
    words = query_words(subject, description)
    vector = embedder.embed(f"{subject}\n{description}") if embedder else None
    model = embedder.model if embedder else None
    helpful = await similar(store, requester, words, vector, model)
    agents = helpful if requester.is_agent else await similar(
        store, Viewer(requester.ref, is_agent=True), words, vector, model)
    return Deflection(helpful, faq, agents, vector, model)


EMBED_BATCH = 200


async def embed_missing(stores: StoreFactory, embedder: Embedder,
                        batch: int = EMBED_BATCH) -> int:
    """Stores the embedding (subject and description, as at opening) of every ticket
    that has none under ``embedder.model`` — tickets opened before ``semantic`` ranking
    was switched on, or loaded by an import — newest first, ``batch`` per transaction;
    returns how many."""
    done = 0
    while True:
        async with stores.reading() as store:
            tickets = await store.without_embedding(embedder.model, batch)
        if not tickets:
            return done
        async with stores.transaction() as store:
            for ticket in tickets:
                await store.add_embedding(ticket.number, embedder.model,
                                          embedder.embed(f"{ticket.subject}\n"
                                                         f"{ticket.description}"))
        done += len(tickets)
