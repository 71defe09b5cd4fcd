"""The shell's ticket form: fields inline (``key=value``), asked one by one when missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import DeskConfig
from core.desk import NewTicket
from core.identity import Actor
from core.validation import DESCRIPTION_MAX, SUBJECT_MAX

BASE_KEYS = ("category", "subject", "description", "priority", "account", "share")
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
    values: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    asking: str | None = None

    def known_keys(self) -> set[str]:
        keys = set(BASE_KEYS)
        for category in self.config.categories:
            keys.update(f.key for f in category.fields)
        return keys

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

    def answer(self, key: str, text: str) -> None:
        if text.strip():
            self.values[key] = text.strip()
        else:
            self.skipped.add(key)

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
        return NewTicket(
            category=v.get("category", ""),
            subject=v.get("subject", ""),
            description=v.get("description", ""),
            priority=v.get("priority"),
            account=v.get("account"),
            visibility="shared" if share in ("yes", "y", "true", "shared") else "private",
            fields=fields,
            requester=self.requester,
        )
