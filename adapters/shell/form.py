"""The shell's ticket form: fields inline (``key=value``), asked one by one when missing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.config import DeskConfig
from core.desk import NewTicket
from core.errors import Invalid
from core.identity import Actor
from core.validation import DESCRIPTION_MAX, SUBJECT_MAX

BASE_KEYS = ("category", "subject", "description", "priority", "account", "share")
REQUIRED_BASE = ("category", "subject", "description")
YES, NO = frozenset({"yes", "y", "true", "shared"}), frozenset({"no", "n", "false", "private", ""})
PROMPTS = {
    "category": "Category? ({choices})",
    "subject": f"Subject? (one line, up to {SUBJECT_MAX} characters)",
    "description": f"Description? (up to {DESCRIPTION_MAX} characters)",
    "priority": "Priority? (low, normal, high, urgent; Enter for normal)",
    "account": "Account / program id? (Enter to skip)",
    "share": "Share with your organisation? (yes/no; Enter for no)",
}


@dataclass
class Form:
    """A ticket form being filled. ``values`` by key; ``asking`` the field awaited."""

    config: DeskConfig
    interactive: bool
    requester: Actor | None = None
    requester_name: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    asking: str | None = None

    def known_keys(self) -> set[str]:
        keys = set(BASE_KEYS)
        for category in self.config.categories:
            keys.update(f.key for f in category.fields)
        return keys

    def fill_inline(self, tokens: list[str]) -> None:
        """``key=value`` tokens (keys in any case), ``for:NAME``, and loose words as the
        subject. Raises ``Invalid`` naming what cannot be read; nothing is dropped."""
        loose: list[str] = []
        known = self.known_keys()
        for token in tokens:
            key, eq, value = token.partition("=")
            key = key.lower()
            if token.lower().startswith("for:") or (eq and key == "for"):
                name = (token[4:] if token.lower().startswith("for:") else value).lstrip("@")
                if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name):
                    raise Invalid("for", "name the requester, like for:lena")
                self.requester_name = name
            elif eq and key in known:
                if key in self.values:
                    raise Invalid(key, "is given twice")
                self.values[key] = value
            elif eq:
                raise Invalid(key or "command", "is not a field of the ticket form"
                              if key else "a field needs a name before '='")
            else:
                loose.append(token)
        if loose:
            if "subject" in self.values:
                raise Invalid("subject", f"is given twice (also as the words {' '.join(loose)!r})")
            self.values["subject"] = " ".join(loose)

    def askable(self, key: str) -> bool:
        """A field this form asks for: the base ones and the chosen category's own."""
        category = self.config.category(self.values.get("category", ""))
        return key in BASE_KEYS or bool(category and key in {f.key for f in category.fields})

    def required(self, key: str) -> bool:
        category = self.config.category(self.values.get("category", ""))
        own = {f.key for f in category.fields if f.required} if category else set()
        return key in REQUIRED_BASE or key in own

    def next_field(self) -> str | None:
        """The next field to ask: required ones always; optional ones only at a terminal."""
        wanted = ["category", "subject", "description"]
        category = self.config.category(self.values.get("category", ""))
        if category:
            wanted += [f.key for f in category.fields if f.required]
        if self.interactive:
            wanted += ["priority", "account", "share"]
            if category:
                wanted += [f.key for f in category.fields if not f.required]
        for key in wanted:
            if key not in self.values and key not in self.skipped:
                return key
        return None

    def prompt(self, key: str) -> str:
        if key == "category":
            return PROMPTS[key].format(choices=", ".join(c.key for c in self.config.categories))
        if key in PROMPTS:
            return PROMPTS[key]
        category = self.config.category(self.values.get("category", ""))
        spec = next((f for f in category.fields if f.key == key), None) if category else None
        if spec is None:
            return f"{key}?"
        optional = "" if spec.required else " (Enter to skip)"
        return f"{spec.label}?{optional}"

    def answer(self, key: str, text: str) -> str | None:
        """Take the answer; returns why it cannot be taken (a required field left empty),
        in which case the same field is asked again (PRODUCT.md §8)."""
        if text.strip():
            self.values[key] = text.strip()
        elif self.required(key):
            return f"{key}: is required and cannot be empty"
        else:
            self.skipped.add(key)
        return None

    def forget(self, key: str) -> None:
        self.values.pop(key, None)
        self.skipped.discard(key)

    def to_new_ticket(self) -> NewTicket:
        v = self.values
        category = self.config.category(v.get("category", ""))
        own = {f.key for f in category.fields} if category else set()
        extra = {k: val for k, val in v.items() if k not in BASE_KEYS}
        # Fields of another category are passed on so the desk names them as not belonging.
        fields = {k: val for k, val in extra.items() if k in own or k not in BASE_KEYS}
        share = v.get("share", "no").strip().lower()
        if share not in YES | NO:
            raise Invalid("share", "answer yes or no")
        return NewTicket(
            category=v.get("category", ""),
            subject=v.get("subject", ""),
            description=v.get("description", ""),
            priority=v.get("priority"),
            account=v.get("account"),
            visibility="shared" if share in YES else "private",
            fields=fields,
            requester=self.requester,
        )
