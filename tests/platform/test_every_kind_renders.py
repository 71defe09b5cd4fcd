"""Every event kind has a renderer on every platform: mypy's exhaustiveness (each
renderer is one ``match`` ending in ``assert_never``) plus one rendered sample each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.discord import render as discord_render
from adapters.discord.help import help_text as discord_help
from adapters.shell import views as shell_views
from adapters.slack import views as slack_views
from core.config import DeskConfig
from core.events import Audience, Event, EventKind
from core.identity import Person, UserRef
from core.routing import Purpose
from core.tickets import Ticket
from core.views import ticket_view
from tests.support.samples import SAMPLES

AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SAM = Person(UserRef("shell", "local", "sam"), "sam")
TICKET = ticket_view(Ticket(number=7, subject="Charged twice", description="Order 77",
                            category="refund", priority="high",
                            requester=Person(UserRef("shell", "local", "lena"), "lena"),
                            opened_at=AT, source="shell"), DeskConfig(), internal=True, now=AT)


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(EventKind)


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_each_platform_renders_each_kind(kind: EventKind) -> None:
    event = Event(7, SAMPLES[kind], SAM, AT, "shell", id=1)
    public = event.visible_to(Audience.PUBLIC)
    shell = shell_views.event_lines(event, TICKET, Purpose.THREAD, "Acme Support")
    slack = slack_views.event_text(event, TICKET, "Acme Support")
    discord = discord_render.event_text(event, TICKET, "Acme Support")
    embed = discord_render.event_embed(public, TICKET, desk_name="Acme Support")
    for rendered in (" ".join(shell), slack, discord, embed.description or ""):
        assert rendered.strip()
    text = event.text
    if text:  # what was said is shown, on every platform
        assert text in " ".join(shell) and text in discord
    if kind in (EventKind.HELD, EventKind.ESCALATED):  # agents-only reasons stay internal
        assert "5512" not in str(public.payload) and "partner" not in str(public.payload)


def test_the_desk_signs_its_own_changes_with_its_name() -> None:
    closed = Event(7, SAMPLES[EventKind.CLOSED], None, AT, "desk", id=1)
    assert "Acme Support" in shell_views.event_lines(closed, TICKET, Purpose.THREAD,
                                                     "Acme Support")[0]
    assert "Acme Support" in discord_render.event_text(closed, TICKET, "Acme Support")
    assert "Acme Support" in slack_views.event_text(closed, TICKET, "Acme Support")


def test_receipts_and_help_carry_the_desk_name() -> None:
    """Issue 9.7: ``desk.name`` appears where a customer would see the desk's name."""
    from adapters.slack import answers as slack_answers

    opened = Event(7, SAMPLES[EventKind.OPENED], SAM, AT, "shell", id=1)
    assert "Acme Support" in " ".join(
        shell_views.event_lines(opened, TICKET, Purpose.RECEIPT, "Acme Support"))
    assert "Acme Support" in str(slack_views.receipt(TICKET, None, "Acme Support"))
    assert "Acme Support" in (discord_render.receipt_embed(TICKET, None, "Acme Support")
                              .description or "")
    assert slack_answers.help_text("Acme <Support>").startswith("*Acme &lt;Support&gt;*")
    assert discord_help("Acme Support").startswith("**Acme Support**")
