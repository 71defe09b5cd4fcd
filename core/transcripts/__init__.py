"""``/ticket transcript N``: a ticket's whole conversation and history as a file
(PRODUCT.md §4, issue 12 point 5) — pure, platform-free.

``build`` turns what one viewer may read (``TicketDetails``: the view without
sensitive fields, the events already cut to the viewer's audience — internal notes and
internal fields for agents only — and the bindings) into a self-contained HTML page
(``core.transcripts.page``) and the same content as Markdown
(``core.transcripts.markdown``). ``core.reading.Reading.transcript`` reads and
authorises; adapters only deliver the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.transcripts.history import entries, facts
from core.transcripts.markdown import document
from core.transcripts.page import page
from core.views import TicketDetails


@dataclass(frozen=True, slots=True)
class Transcript:
    """One ticket's transcript as its viewer may read it: ``html`` (a whole page, UTF-8
    text) and ``markdown``, to be saved as ``filename`` and ``markdown_filename``."""

    number: int
    html: str
    markdown: str
    internal: bool = False  # the agents' copy: internal notes included

    @property
    def filename(self) -> str:
        """``ticket-<N>-transcript.html``."""
        return f"ticket-{self.number}-transcript.html"

    @property
    def markdown_filename(self) -> str:
        """``ticket-<N>-transcript.md``."""
        return f"ticket-{self.number}-transcript.md"


def build(details: TicketDetails, *, desk_name: str, generated_at: datetime) -> Transcript:
    """The transcript of ``details`` (as its viewer may read it), made at
    ``generated_at`` (UTC) and headed with ``desk_name``. Raises nothing."""
    lines = entries(details, desk_name)
    header = facts(details, generated_at)
    audience = ("agents (internal notes included)" if details.sees_internal
                else "the requester's side (no internal notes)")
    return Transcript(
        number=details.ticket.number,
        html=page(details.ticket, header, lines, desk_name=desk_name, audience=audience),
        markdown=document(details.ticket, header, lines, desk_name=desk_name,
                          audience=audience),
        internal=details.sees_internal,
    )


__all__ = ["Transcript", "build"]
