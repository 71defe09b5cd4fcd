"""The e-mail platform's outbound port: each delivery becomes one message over SMTP.

Which deliveries are e-mail is routing's business (``core.routing``: requesters and
watchers whose identity is an address, ``UserRef.email``, public events only). This
port renders the event (``adapters.email.render``), builds the message
(``adapters.email.message``) and sends it (``adapters.email.smtp``). A retry of the
same delivery builds the same message — same ``Message-ID``, same ``Date`` — so a
message that did go out before a crash is shown once by the recipient's client.
"""

from __future__ import annotations

import logging

from adapters.email.message import Envelope, build
from adapters.email.render import NotForEmail, render
from adapters.email.settings import EmailSettings
from adapters.email.smtp import SmtpSender
from core.events import Audience, EventKind
from core.identity import UserRef
from core.outbound import Delivered, DeliveryJob, Undeliverable
from core.routing import Purpose, Target

PLATFORM = "email"
log = logging.getLogger("helpthread.email")


class EmailOutbound:
    """Sends each e-mail delivery through ``sender`` as ``settings`` say."""

    platform = PLATFORM

    def __init__(self, settings: EmailSettings, sender: SmtpSender) -> None:
        self.settings = settings
        self.sender = sender

    async def deliver(self, job: DeliveryJob) -> Delivered:
        """Raises ``Undeliverable`` for what e-mail never carries (an internal delivery,
        an agents-only event, no address) and for a 5xx refusal; ``RetryLater`` when the
        server may take it later."""
        d = job.delivery
        if d.target is not Target.EMAIL or d.audience is not Audience.PUBLIC or not d.address:
            raise Undeliverable(f"e-mail carries public notices to an address only, not a "
                                f"{d.audience.value} {d.target.value} delivery")
        ref = UserRef.parse(d.address)
        recipient = ref.user_id
        try:
            mail = render(job.event, job.ticket, d.purpose, desk_name=job.desk_name,
                          to_requester=ref == job.ticket.requester.ref)
        except NotForEmail as err:
            raise Undeliverable(str(err)) from err
        assert d.id is not None
        first = d.purpose is Purpose.RECEIPT or job.event.kind is EventKind.OPENED
        envelope = Envelope(number=d.ticket_number, recipient=recipient, delivery_id=d.id,
                            queued_at=d.created_at, opened_at=job.ticket.opened_at,
                            first=first)
        message = build(mail, envelope, self.settings, job.desk_name)
        await self.sender.send(message, sender=self.settings.address, recipient=recipient)
        log.info("email.sent ticket=%s delivery=%s kind=%s", d.ticket_number, d.id,
                 job.event.kind.value)
        return Delivered()
