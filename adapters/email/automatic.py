"""Mail no person wrote, and mail whose sender the receiving server could not vouch for
(issue 13, point 5).

Automatic mail — vacation replies, delivery-status reports (bounces), read receipts,
mailing-list traffic — never becomes a comment and is never answered: answering it is
how mail loops start. ``automatic`` names the mark it found, from RFC 3834
(``Auto-Submitted``), the headers the big providers add (Exchange's
``X-Auto-Response-Suppress``, ``X-Autoreply``, ``X-Autorespond``…), RFC 2076
``Precedence``, list headers (RFC 2369/2919), the null reverse path of a bounce, and
the report content types (RFC 3462 ``multipart/report``, RFC 3464/8098 delivery and
disposition notifications).

``authentication_failure`` reads ``Authentication-Results`` (RFC 8601) — only those
added by the receiving server ``email.authserv_id`` names, since anyone can write the
header into a message — and names a DMARC or SPF failure.
"""

from __future__ import annotations

import re
from email.message import Message

from adapters.email import headers

# Header present at all (any value) marks the message as automatic.
_PRESENT = ("x-auto-response-suppress", "x-autoreply", "x-autorespond", "x-autoresponder",
            "x-autoreply-from", "x-mail-autoreply", "x-fc-machinegenerated",
            "x-failed-recipients", "list-id", "list-unsubscribe", "feedback-id",
            "x-loop")
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_REPORTS = frozenset({"multipart/report", "message/delivery-status",
                      "message/disposition-notification", "message/feedback-report"})
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)
# Subjects of vacation replies and bounces from servers that add no header, read decoded
# (an Exchange "=?utf-8?q?Out_of_Office=3A_...?=" is an out-of-office reply too). Two
# kinds, so that a person's subject is never taken for a server's ("Read: the manual did
# not help", "Returned mail item still missing", "Undelivered Mail: where is my refund"):
# - a marker a server puts before the subject it answers — which, for mail the desk
#   sent, holds the ticket's tag: only with "[#N]" after it (and "Re:"-like prefixes);
# - a whole subject a server writes of its own, with nothing of a person's in it.
# Sources: Discourse's is_auto_generated? (lib/email/receiver.rb, 00ec81dd) and Sisimai's
# RFC 3834 detector (lib/sisimai/rfc3834.rb) for auto-reply prefixes; Outlook/Exchange's
# localised "Automatic reply"/"Out of Office" for the languages they miss; Sisimai's
# per-server bounce detectors (lib/sisimai/lhost/: postfix, exim, sendmail, gmail,
# exchange2007, office365, domino, notes, qmail, messagingserver).
_MARKERS = (
    r"auto(matic)?[ -]?(reply|response)|out of (the )?office( auto ?reply)?"
    r"|automatische antwort|abwesenheitsnotiz|r[ée]ponse automatique"
    r"|respuesta autom[aá]tica|risposta automatica|risposta non al computer"
    r"|automatisch antwoord|resposta autom[aá]tica|automatiskt? svar|autosvar"
    r"|automatyczna odpowied[źz]|automaattinen vastaus|automatick[aá] odpov[ěe][ďd]"
    r"|absen(ce|t|te)( du bureau)?|abwesend|fuera de la oficina|fuori sede"
    r"|afwezig|niet aanwezig|ausente|fora do escrit[óo]rio|fr[åa]nvaro(nde)?"
    r"|frav[æa]r(ende)?|ikke p[åa] kontoret|nieobecno[śs][ćc]|poza biurem"
    r"|auto|read|undeliver(able|ed)|unzustellbar|non remis|non recapitabile"
    r"|no se puede entregar|onbestelbaar|n[ãa]o (foi )?entregue|niedostarczalne")
_REPLY_PREFIXES = r"((re|aw|antw|sv|vs|r|rif|odp|wg|fwd?|tr)\s*:\s*)*"
_SERVERS = (
    r"undelivered mail returned to sender|mail delivery failed: returning message to sender"
    r"|delivery status notification \((failure|delay)\)|returned mail: .+"
    r"|delivery failure(: .+)?|mail system error - returned mail|failure notice"
    r"|non[- ]delivery (report|notification)(: .+)?|undeliverable mail"
    r"|mail failure - .+|delivery notification: .+|message delivery has failed.*"
    r"|postmaster notify: .+|warning: message \S+ delayed .+"
    r"|warning: could not send message for past .+|delayed mail \(still being retried\)"
    r"|auto: .*\bout of (the )?office\b.*")  # Lotus Notes: "AUTO: Lena is out of the office …"
_SUBJECTS = re.compile(
    rf"^\s*(({_MARKERS})\s*[:\-–—]?\s*{_REPLY_PREFIXES}\[#[0-9]+\]|({_SERVERS})\s*$)",
    re.I)


def automatic(message: Message, sender: str) -> str | None:
    """The reason ``message`` is automatic mail (``"Auto-Submitted: auto-replied"``,
    ``"a delivery-status report"``…), or None when a person seems to have written it.
    ``sender`` is the From address, lower case."""
    submitted = str(message.get("auto-submitted", "")).strip().lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted[:40]}"
    for header in _PRESENT:
        if header in message:
            return f"it carries {header.title()}"
    precedence = str(message.get("precedence", "")).strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    if "return-path" in message and _null_path(str(message.get("return-path", ""))):
        return "its Return-Path is empty (a bounce)"
    for part in message.walk():
        if part.get_content_type() in _REPORTS:
            return f"a report ({part.get_content_type()})"
    if _DAEMONS.match(sender):
        return f"it comes from {sender.split('@')[0]}"
    if _SUBJECTS.match(headers.text(message, "subject")):
        return "its subject is an automatic reply's or a bounce's"
    return None


def _null_path(value: str) -> bool:
    return value.strip().strip("<>").strip() == ""


_RESULT = re.compile(r"\b(dmarc|spf)\s*=\s*([a-z]+)", re.I)


def authentication_failure(message: Message, authserv_id: str | None) -> str | None:
    """``"dmarc=fail"`` or ``"spf=fail"`` when an ``Authentication-Results`` header added
    by ``authserv_id`` (compared case-insensitively) reports it; None when the check is
    off (``authserv_id`` None), passed, or no such header was added."""
    if not authserv_id:
        return None
    wanted = authserv_id.strip().lower()
    for header in message.get_all("authentication-results", []):
        text = re.sub(r"\([^()]*\)", " ", str(header))  # RFC 8601 comments
        server, _, results = text.partition(";")
        if server.strip().split(" ")[0].lower() != wanted:
            continue
        for method, result in _RESULT.findall(results):
            if result.lower() in ("fail", "permerror") and method.lower() == "dmarc":
                return "dmarc=fail"
            if result.lower() == "fail" and method.lower() == "spf":
                return "spf=fail"
    return None
