"""Slack modals: the ticket form and the one-field forms (reply, resolution, escalation).

Limits (Block Kit reference, "Modal view", "Plain-text input", "Select menus"):
modal title, submit and close ≤ 24 characters; ≤ 100 blocks; a plain-text input
holds ≤ 3000 characters; an option's text ≤ 75; ``private_metadata`` ≤ 3000.
The form only shows the limits; every rule is checked again by the desk, and a
refusal comes back as ``response_action: errors`` keyed by the block that holds
the offending field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from adapters.slack import ids
from adapters.slack.text import OPTION_TEXT_MAX, shorten
from core.config import Category, DeskConfig
from core.desk import NewTicket
from core.errors import Invalid, every_problem
from core.form_fields import watcher_words
from core.identity import Actor, Person
from core.tickets import PRIORITIES
from core.validation import ACCOUNT_MAX, SUBJECT_MAX
from core.watching import email_watcher

TITLE_MAX = 24  # modal title, submit and close texts
INPUT_MAX = 3000  # plain_text_input max_length, Slack's cap
METADATA_MAX = 3000

NEW_TITLE = "Open a ticket"
LABELS = {
    "category": "Category",
    "subject": "Subject",
    "description": "Description",
    "priority": "Priority",
    "account": "Account / program id",
    "visibility": "Sharing",
    "cc": "Watchers",
    "cc_emails": "Watchers by e-mail",
}
CC_USERS_MAX = 10  # a multi_users_select's max_selected_items here
PRIORITY_WORDS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(shorten(text, OPTION_TEXT_MAX)), "value": value}


def priority_options() -> list[dict[str, Any]]:
    return [_option(PRIORITY_WORDS[p], p) for p in PRIORITIES]


def _text_input(block_id: str, label: str, *, multiline: bool = False, max_length: int,
                min_length: int | None = None, optional: bool = False,
                initial: str | None = None, hint: str | None = None,
                placeholder: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": ids.ACTION_VALUE,
                               "multiline": multiline, "max_length": min(max_length, INPUT_MAX)}
    if min_length and min_length > 1:
        element["min_length"] = min(min_length, INPUT_MAX)
    if initial:
        element["initial_value"] = initial[:INPUT_MAX]
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": _plain(label),
                             "optional": optional, "element": element}
    if hint:
        block["hint"] = _plain(hint)
    return block


@dataclass
class FormMeta:
    """What a ticket form remembers between Slack round trips (``private_metadata``):
    ``on_behalf`` the requester's user id when an agent opens it for someone;
    ``source`` the channel and ts of the message it was made from."""

    on_behalf: str | None = None
    source: dict[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        data = {k: v for k, v in (("for", self.on_behalf), ("src", self.source)) if v}
        text = json.dumps(data, separators=(",", ":"))
        return text if len(text) <= METADATA_MAX else "{}"

    @classmethod
    def load(cls, text: str | None) -> FormMeta:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        source = data.get("src") if isinstance(data.get("src"), dict) else {}
        on_behalf = data.get("for") if isinstance(data.get("for"), str) else None
        return cls(on_behalf, {str(k): str(v) for k, v in source.items()})


def ticket_form(config: DeskConfig, meta: FormMeta, *, category: Category | None = None,
                subject: str = "", description: str = "", on_behalf_name: str | None = None,
                ) -> dict[str, Any]:
    """The ticket form (PRODUCT.md §2): category first — choosing one dispatches an
    action and the app adds that category's own fields with ``views.update``."""
    blocks: list[dict[str, Any]] = []
    notes = []
    if on_behalf_name:
        notes.append(f"Opening a ticket on behalf of {on_behalf_name}; they will be the "
                     "requester and get the receipt.")
    if meta.source:
        notes.append("Made from a Slack message: a link to it is added to the description.")
    if notes:
        blocks.append({"type": "context", "elements": [_plain(n) for n in notes]})
    select: dict[str, Any] = {
        "type": "static_select", "action_id": ids.ACTION_CATEGORY,
        "placeholder": _plain("Choose a category"),
        "options": [_option(c.name, c.key) for c in config.categories][:100],
    }
    if category is not None:
        select["initial_option"] = _option(category.name, category.key)
    blocks.append({"type": "input", "block_id": ids.BLOCK_CATEGORY, "dispatch_action": True,
                   "label": _plain(LABELS["category"]), "element": select})
    blocks.append(_text_input(ids.BLOCK_SUBJECT, LABELS["subject"], max_length=SUBJECT_MAX,
                              initial=subject, placeholder="One line that sums it up"))
    blocks.append(_text_input(ids.BLOCK_DESCRIPTION, LABELS["description"], multiline=True,
                              max_length=INPUT_MAX, initial=description,
                              placeholder="What happened, what you expected, what you tried"))
    for spec in category.fields if category else ():
        hint = "Kept private: stored, never shown in a thread." if spec.sensitive else None
        blocks.append(_text_input(ids.field_block(spec.key), spec.label,
                                  max_length=spec.max_length, min_length=spec.min_length,
                                  optional=not spec.required, hint=hint))
    blocks.append({"type": "input", "block_id": ids.BLOCK_PRIORITY,
                   "label": _plain(LABELS["priority"]),
                   "element": {"type": "static_select", "action_id": ids.ACTION_VALUE,
                               "options": priority_options(),
                               "initial_option": _option("Normal", "normal")}})
    blocks.append(_text_input(ids.BLOCK_ACCOUNT, LABELS["account"], max_length=ACCOUNT_MAX,
                              optional=True, placeholder="e.g. PID 1234"))
    blocks.append({"type": "input", "block_id": ids.BLOCK_SHARE, "optional": True,
                   "label": _plain(LABELS["visibility"]),
                   "element": {"type": "checkboxes", "action_id": ids.ACTION_VALUE, "options": [{
                       "text": _plain("Share with my organisation"),
                       "description": _plain("People of your workspace can see and follow it "
                                             "in the support channel"),
                       "value": "shared"}]}})
    blocks.append({"type": "input", "block_id": ids.BLOCK_CC_USERS, "optional": True,
                   "label": _plain(LABELS["cc"]),
                   "hint": _plain("They see the ticket, may comment and hear of every "
                                  "public update."),
                   "element": {"type": "multi_users_select", "action_id": ids.ACTION_VALUE,
                               "placeholder": _plain("Add people"),
                               "max_selected_items": CC_USERS_MAX}})
    blocks.append(_text_input(ids.BLOCK_CC_EMAILS, LABELS["cc_emails"], optional=True,
                              max_length=INPUT_MAX,
                              placeholder="name@example.com, other@example.com",
                              hint="Addresses separated by commas; they hear by e-mail."))
    return {"type": "modal", "callback_id": ids.FORM_NEW, "title": _plain(NEW_TITLE),
            "submit": _plain("Open ticket"), "close": _plain("Cancel"),
            "private_metadata": meta.dump(), "blocks": blocks}


def text_form(callback_id: str, number: int, *, title: str, label: str, submit: str,
              min_length: int | None = None, hint: str | None = None,
              optional: bool = False, remember: dict[str, str] | None = None,
              intro: str | None = None) -> dict[str, Any]:
    """A one-field form about ticket ``number`` (reply, resolution note, escalation, a
    close request's message, a rating's comment); ``remember`` is kept in
    ``private_metadata`` beside the number (``form_memo``); ``intro`` is mrkdwn shown
    above the field (already escaped)."""
    blocks: list[dict[str, Any]] = []
    if intro:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": intro}})
    blocks.append(_text_input(ids.BLOCK_TEXT, label, multiline=True, max_length=INPUT_MAX,
                              min_length=min_length, hint=hint, optional=optional))
    return {"type": "modal", "callback_id": callback_id,
            "title": _plain(shorten(title, TITLE_MAX)), "submit": _plain(submit),
            "close": _plain("Cancel"),
            "private_metadata": json.dumps({**(remember or {}), "n": number}),
            "blocks": blocks}


def form_memo(view: dict[str, Any], key: str) -> str | None:
    """What a one-field form remembered under ``key`` (``text_form(remember=…)``)."""
    try:
        value = json.loads(view.get("private_metadata") or "{}").get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def form_number(view: dict[str, Any]) -> int | None:
    """The ticket number a one-field form is about."""
    try:
        number = json.loads(view.get("private_metadata") or "{}").get("n")
    except ValueError:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        return None  # true is an int to Python; a forged form must not mean #1
    return number if 0 < number < 10**9 else None  # a store's number, never an overflow


# ---- reading what was submitted -------------------------------------------------


def label_of(view: dict[str, Any], block_id: str) -> str | None:
    """The label a person reads on input block ``block_id`` of ``view``."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == block_id:
            return str((block.get("label") or {}).get("text") or "") or None
    return None


def value_of(view: dict[str, Any], block_id: str) -> str | None:
    """The value of the input in ``block_id``, whatever its element type; None if empty.
    Checkboxes give their selected values joined by commas."""
    block = (view.get("state") or {}).get("values", {}).get(block_id) or {}
    for element in block.values():
        if not isinstance(element, dict):
            continue
        if "selected_option" in element:
            option = element.get("selected_option") or {}
            return option.get("value")
        if "selected_options" in element:
            return ",".join(o.get("value", "") for o in element.get("selected_options") or [])
        value = element.get("value")
        return value if isinstance(value, str) else None
    return None


def cc_users(view: dict[str, Any]) -> list[str]:
    """The user ids chosen in the form's watchers select."""
    block = (view.get("state") or {}).get("values", {}).get(ids.BLOCK_CC_USERS) or {}
    for element in block.values():
        if isinstance(element, dict):
            return [str(u) for u in element.get("selected_users") or [] if isinstance(u, str)]
    return []


def cc_emails(view: dict[str, Any]) -> tuple[Person, ...]:
    """The e-mail watchers typed in the form, separated by commas (or spaces); raises
    ``Invalid("cc_emails", …)`` naming the first address that is not one."""
    text = value_of(view, ids.BLOCK_CC_EMAILS) or ""
    listed = ",".join(text.replace(";", ",").split())  # spaces separate addresses too
    return tuple(email_watcher(w, "cc_emails") for w in watcher_words(listed, "cc_emails"))


def submitted_category(view: dict[str, Any], config: DeskConfig) -> Category | None:
    key = value_of(view, ids.BLOCK_CATEGORY)
    return config.category(key) if key else None


def new_ticket(view: dict[str, Any], requester: Actor | None,
               watchers: tuple[Person, ...] = ()) -> NewTicket:
    """The ticket form as the desk's ``NewTicket``; category fields from ``field:*``;
    ``watchers`` the chosen users (looked up by the caller) — the e-mail watchers are
    read here. Raises ``Invalid("cc_emails", …)`` for an address that is not one."""
    values = (view.get("state") or {}).get("values", {})
    fields = {
        block[len(ids.FIELD_PREFIX):]: value_of(view, block) or ""
        for block in values if block.startswith(ids.FIELD_PREFIX)
    }
    return NewTicket(
        category=value_of(view, ids.BLOCK_CATEGORY) or "",
        subject=value_of(view, ids.BLOCK_SUBJECT) or "",
        description=value_of(view, ids.BLOCK_DESCRIPTION) or "",
        priority=value_of(view, ids.BLOCK_PRIORITY),
        account=value_of(view, ids.BLOCK_ACCOUNT),
        visibility="shared" if "shared" in (value_of(view, ids.BLOCK_SHARE) or "") else "private",
        fields={k: v for k, v in fields.items() if v},
        requester=requester,
        watchers=(*watchers, *cc_emails(view)),
    )


def field_errors(view: dict[str, Any], config: DeskConfig, err: Invalid) -> dict[str, str]:
    """``field_error`` for every bad field ``err`` names (``core.errors.every_problem``):
    Slack marks each block at once; two on one block are joined."""
    errors: dict[str, str] = {}
    for problem in every_problem(err):
        for block, text in field_error(view, config, problem.field, problem.reason).items():
            errors[block] = f"{errors[block]}; {text}" if block in errors else text
    return errors


def field_error(view: dict[str, Any], config: DeskConfig, field_key: str,
                reason: str) -> dict[str, str]:
    """``response_action: errors`` content for the core's ``Invalid(field_key, reason)``:
    keyed by the block showing that field (the category block when no block does, e.g.
    a field of another category), with a message naming the field."""
    shown = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
    block = ids.block_for(field_key)
    category = submitted_category(view, config)
    labels = dict(LABELS)
    for spec in category.fields if category else ():
        labels[spec.key] = spec.label
    label = labels.get(field_key, field_key)
    if block not in shown:
        block = ids.BLOCK_CATEGORY if ids.BLOCK_CATEGORY in shown else next(iter(shown), block)
    return {block: f"{label} {reason}"}
