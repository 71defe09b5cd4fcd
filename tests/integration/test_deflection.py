"""Deflection on SQLite (FTS5) and PostgreSQL (tsvector): a new ticket's receipt offers
resolved tickets its requester may see — matched on what they may read, never on
internal notes — and ``[[faq]]`` entries; the agents' card offers any resolved ticket
with its note. Computed once at opening and stored in the ``Opened`` event, so every
delivery attempt and every card edit shows the same."""

from __future__ import annotations

import pytest

from core.config import DeflectionSection, DeskSection, FaqEntry
from core.deflection import embed_missing
from core.delivery import DeliveryWorker
from core.events import Audience, Event, Opened
from core.identity import Actor
from core.routing import Purpose
from core.semantic import MODEL, embedder_for
from core.store.outbox import SqlOutbox
from tests.integration.conftest import Wired
from tests.support.people import agent, desk_config, form, make_desk, person
from tests.support.recording import RecordingOutbound
from tests.support.semantic import WORDLLAMA, needs_wordllama

LENA, MARCO, SAM = person("lena"), person("marco"), agent("sam")
NINA = person("nina")  # lena's org (the shell's one workspace)
OTTO = person("otto", workspace="elsewhere")  # another org

PAST = [  # (requester, subject, description, resolution, shared)
    (MARCO, "Refund for a double charge", "My card was charged twice for order 5512.",
     "Refunded the duplicate capture; 5-10 business days to reach the card.", False),
    (LENA, "Tracking pixel not firing", "Conversions stopped showing on the landing page "
     "after we moved the checkout to a new domain.", "The pixel was on the old domain; "
     "re-installed the tag on checkout.example.", False),
    (NINA, "Cannot log in after password reset", "The reset link says expired every time "
     "I try to sign in.", "Reset links last 30 minutes; sent a fresh one.", True),
    (OTTO, "Payout report shows zero", "The monthly payout report is empty for March.",
     "The report was filtered to the wrong currency; switched to EUR.", True),
    (LENA, "Invoice address wrong", "The invoice shows our old street address.",
     "Updated the billing address and re-issued invoice INV-88.", False),
]


LIMITS = DeskSection(max_open_per_user=100, max_new_per_hour=100)


@pytest.fixture(autouse=True)
def roomy(wired: Wired) -> None:
    """The per-user limits out of the way: these tests open many tickets per person."""
    wired.desk = make_desk(wired.stores, desk_config(desk=LIMITS), clock=wired.clock)


async def open_past(wired: Wired) -> list[int]:
    """Every ticket of ``PAST`` opened by its requester and resolved by sam."""
    numbers = []
    for who, subject, description, note, shared in PAST:
        opened = await wired.desk.open_ticket(who, form(
            subject=subject, description=description,
            visibility="shared" if shared else "private"))
        await wired.desk.resolve(SAM, opened.ticket.number, note)
        numbers.append(opened.ticket.number)
        wired.clock.advance(60)
    return numbers


async def opening(wired: Wired, number: int) -> Opened:
    async with wired.stores.reading() as store:
        event = (await store.events(number))[0]
    assert isinstance(event.payload, Opened)
    return event.payload


async def deflected(wired: Wired, who: Actor, subject: str, description: str) -> Opened:
    opened = await wired.desk.open_ticket(who, form(subject=subject, description=description))
    return await opening(wired, opened.ticket.number)


async def test_a_paraphrase_finds_the_ticket_it_repeats(wired: Wired) -> None:
    await open_past(wired)
    found = await deflected(wired, LENA, "Pixel stopped firing",
                            "Since the checkout moved to another domain no conversions "
                            "show up.")
    assert [p.number for p in found.helpful][:1] == [2]
    assert found.helpful[0].resolution.startswith("The pixel was on the old domain")
    assert found.similar is not None and found.similar[0].number == 2


async def test_the_receipt_offers_only_tickets_the_requester_may_see(wired: Wired) -> None:
    await open_past(wired)
    # marco's double-charge ticket is private: lena is never offered it, agents are.
    charge = await deflected(wired, LENA, "Charged twice", "My card was charged twice for "
                             "my order, please refund the double charge.")
    assert 1 not in [p.number for p in charge.helpful]
    assert charge.similar is not None and charge.similar[0].number == 1
    # nina's shared ticket is lena's org's: offered. otto's shared one is another org's.
    login = await deflected(wired, LENA, "Password reset link expired",
                            "I cannot log in, the reset link is expired.")
    assert [p.number for p in login.helpful] == [3]
    payout = await deflected(wired, LENA, "Payout report empty",
                             "My payout report shows zero for last month.")
    assert 4 not in [p.number for p in payout.helpful]
    assert payout.similar is not None and payout.similar[0].number == 4
    # a watcher may see the ticket: offered once marco adds lena to his.
    await wired.desk.add_watcher(SAM, 1, LENA.person)
    again = await deflected(wired, LENA, "Double charge on my card",
                            "Charged twice, please refund.")
    assert [p.number for p in again.helpful][:1] == [1]


async def test_internal_notes_and_fields_never_match_for_the_requester(wired: Wired) -> None:
    desk = wired.desk
    mine = (await desk.open_ticket(LENA, form(subject="Dashboard is slow",
                                              description="Pages take ages to load."))).ticket
    await desk.note(SAM, mine.number, "Root cause: the zanzibar cache was cold.")
    await desk.resolve(SAM, mine.number, "Warmed the cache; pages load in a second.")
    refund = (await desk.open_ticket(LENA, form(
        subject="Where is my money", description="Still waiting.", category="refund",
        fields={"receipt": "RC-QUOKKA", "card_last4": "4242"}))).ticket
    await desk.resolve(SAM, refund.number, "Sent it again.")
    found = await deflected(wired, LENA, "Zanzibar question", "What is zanzibar? Also "
                            "quokka 4242.")
    assert found.helpful == ()  # the note and the fields are the only matches
    assert found.similar is not None
    assert {p.number for p in found.similar} == {mine.number, refund.number}  # agents: yes


async def test_only_resolved_tickets_with_a_note_are_offered(wired: Wired) -> None:
    desk = wired.desk
    await desk.open_ticket(LENA, form(subject="Printer jams", description="Paper stuck."))
    closed = (await desk.open_ticket(LENA, form(subject="Printer offline",
                                                description="Printer not found."))).ticket
    await desk.close(LENA, closed.number)  # closed without a resolution note
    found = await deflected(wired, LENA, "Printer problem", "The printer jams and is "
                            "offline.")
    assert found.helpful == () and found.similar == ()


async def test_hostile_text_never_breaks_opening(wired: Wired) -> None:
    await open_past(wired)
    for text in ['" OR * NEAR(a b) -pixel AND NOT ^col : "', "'; DROP TABLE tickets; --",
                 "\\ \\\" {subject} : pixel* (((", "émoji 🎉 ÇAFÉ", "a b c 1 2"]:
        found = await deflected(wired, LENA, text[:140], f"{text} domain pixel firing")
        assert [p.number for p in found.helpful][:1] == [2]


async def test_faq_entries_match_keywords_and_titles(wired: Wired) -> None:
    faq = (FaqEntry(title="Where is my refund?", answer="Refunds reach the card in 5-10 "
                    "business days.", keywords=("refund", "money back", "chargeback")),
           FaqEntry(title="Resetting your password", answer="Use the link on the sign-in "
                    "page; it lasts 30 minutes.", keywords=("reset link",)),
           FaqEntry(title="Pixel setup", answer="See docs.example/pixel.",
                    keywords=("pixel",)))
    wired.desk = make_desk(wired.stores, desk_config(faq=faq, desk=LIMITS), clock=wired.clock)
    found = await deflected(wired, LENA, "MONEY BACK please", "I want my refund; the "
                            "réset link failed too.")
    assert [f.title for f in found.faq] == ["Where is my refund?", "Resetting your password"]
    none = await deflected(wired, LENA, "Hello", "Something else entirely.")
    assert none.faq == ()


async def test_every_delivery_and_card_edit_shows_what_the_opening_found(
        wired: Wired) -> None:
    await open_past(wired)
    outbound = RecordingOutbound(fail_times=1)  # the first attempt is refused (429)
    worker = DeliveryWorker(SqlOutbox(wired.stores.engine), [outbound], wired.desk.config,
                            clock=wired.clock)
    await worker.run_until_idle()
    number = (await wired.desk.open_ticket(LENA, form(
        subject="Pixel not firing", description="No conversions after the domain move."))
              ).ticket.number
    await wired.desk.reopen(SAM, 2)
    await wired.desk.resolve(SAM, 2, "A later note that must not change the receipt.")
    wired.clock.advance(5)
    await worker.run_until_idle()
    await wired.desk.claim(SAM, number)
    await worker.run_until_idle()
    jobs = [j for j in outbound.jobs if j.delivery.ticket_number == number]
    receipt = next(j for j in jobs if j.delivery.purpose is Purpose.RECEIPT)
    assert receipt.opened is not None and receipt.opened.helpful[0].number == 2
    assert receipt.opened.helpful[0].resolution.startswith("The pixel was on the old")
    assert receipt.opened.similar is None  # the public copy carries no agents' part
    team = [j for j in jobs if j.delivery.audience is Audience.INTERNAL]
    assert len(team) >= 2  # the card, then the claim that edits it
    assert all(j.opened is not None and j.opened.similar and j.opened.similar[0].number
               == 2 for j in team)
    public = [j for j in jobs if j.delivery.audience is Audience.PUBLIC]
    assert all(j.opened is not None and j.opened.similar is None for j in public)


def test_the_agents_part_is_internal() -> None:
    from datetime import UTC, datetime

    from core.events import PastTicket
    payload = Opened(helpful=(PastTicket(1, "a", "b"),), similar=(PastTicket(2, "c", "d"),))
    event = Event(3, payload, SAM.person, datetime(2026, 1, 1, tzinfo=UTC), "shell")
    public = event.visible_to(Audience.PUBLIC).payload
    assert isinstance(public, Opened)
    assert public.similar is None and public.helpful == payload.helpful


SEMANTIC = DeflectionSection(ranking="semantic") if WORDLLAMA else None


@needs_wordllama
async def test_semantic_ranking_finds_a_paraphrase_with_other_words(wired: Wired) -> None:
    wired.desk = make_desk(wired.stores, desk_config(desk=LIMITS, deflection=SEMANTIC),
                           clock=wired.clock)
    await open_past(wired)
    async with wired.stores.reading() as store:
        assert await store.without_embedding(MODEL, 10) == []  # each stored at opening
    found = await deflected(wired, LENA, "Sign-in trouble",
                            "The email to choose a new password says it is no longer "
                            "valid.")
    assert [p.number for p in found.helpful][:1] == [3]  # nina's shared one, her org
    money = await deflected(wired, LENA, "Billed two times",
                            "You took the payment twice, I would like it returned.")
    assert 1 not in [p.number for p in money.helpful]  # marco's private ticket: never
    assert money.similar is not None and money.similar[0].number == 1  # agents: first


@needs_wordllama
async def test_tickets_opened_before_semantic_get_their_embeddings(wired: Wired) -> None:
    await open_past(wired)  # full-text ranking: no embeddings stored
    async with wired.stores.reading() as store:
        assert len(await store.without_embedding(MODEL, 10)) == len(PAST)
    config = desk_config(desk=LIMITS, deflection=SEMANTIC)
    embedder = embedder_for(config)
    assert embedder is not None
    assert await embed_missing(wired.stores, embedder, batch=2) == len(PAST)
    assert await embed_missing(wired.stores, embedder) == 0
    wired.desk = make_desk(wired.stores, config, clock=wired.clock)
    found = await deflected(wired, LENA, "Conversion tag broken",
                            "Since we changed our shop's web address no sales are tracked.")
    assert [p.number for p in found.helpful][:1] == [2]
