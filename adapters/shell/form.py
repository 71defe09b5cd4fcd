"""The shell's ticket form: fields inline (``key=value``), asked one by one when missing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.characters import trim
from core.config import CategoryField, DeskConfig
from core.desk import NewTicket
from core.errors import Invalid
from core.form_fields import FORM_KEYS, SHARE_NO, SHARE_YES, watcher_words
from core.identity import Actor, Person
from core.validation import (
    ACCOUNT_MAX,
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    clean_category,
    clean_field,
    clean_priority,
    clean_text,
)

BASE_KEYS = FORM_KEYS
REQUIRED_BASE = ("category", "subject", "description")
YES, NO = SHARE_YES, SHARE_NO | {""}  # at the prompt, Enter is no
PROMPTS = {
    "category": "Category? ({choices})",
    "subject": f"Subject? (one line, up to {SUBJECT_MAX} characters)",
    "description": f"Description? (up to {DESCRIPTION_MAX} characters)",
    "priority": "Priority? (low, normal, high, urgent; Enter for normal)",
    "account": "Account / program id? (Enter to skip)",
    "share": "Share with your organisation? (yes/no; Enter for no)",
    "cc": "Watchers? (names or e-mail addresses, separated by commas; Enter for none)",
}


@dataclass
class Form:
    """A ticket form being filled. ``values`` by key; ``asking`` the field awaited."""

    config: DeskConfig
    interactive: bool
    # How the shell reads one watcher as typed (a name or an address); raises Invalid.
    watcher: Callable[[str, str], Person] | None = None
    requester: Actor | None = None
    values: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    asking: str | None = None

    def fill(self, subject: str | None, fields: Mapping[str, str]) -> None:
        """The fields given on the ``/ticket new`` line (``core.grammar`` has read them:
        keys lower-case, none twice, none unknown)."""
        self.values.update(fields)
        if subject is not None:
            self.values["subject"] = subject

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
            wanted += ["priority", "account", "share"]  # cc= only inline
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
        """Take the answer, checked at once by the core's rule for that field; returns
        why it cannot be taken, in which case the same field is asked again (PRODUCT.md
        §8)."""
        try:
            self.check(key, text)
        except Invalid as err:
            return f"{err.field}: {err.reason}"
        if trim(text):
            self.values[key] = trim(text)
        else:
            self.skipped.add(key)
        return None

    def check(self, key: str, text: str) -> None:
        """Raises ``Invalid`` if ``text`` cannot be field ``key``'s answer (the same rules
        the desk applies when the ticket is opened: ``core.validation``)."""
        if not text.strip() and self.required(key):
            raise Invalid(key, "is required and cannot be empty")
        if key == "category":
            clean_category(self.config, text)
        elif key == "subject":
            clean_text(key, text, max_length=SUBJECT_MAX, multiline=False)
        elif key == "description":
            clean_text(key, text, max_length=DESCRIPTION_MAX, multiline=True)
        elif key == "priority":
            clean_priority(text or None)
        elif key == "account":
            clean_text(key, text, max_length=ACCOUNT_MAX, multiline=False, required=False)
        elif key == "share":
            if text.strip().lower() not in YES | NO:
                raise Invalid("share", "answer yes or no")
        elif key == "cc":
            self.watchers(text)
        else:
            spec = self.spec(key)
            if spec is not None:
                clean_field(spec, text)

    def watchers(self, text: str) -> tuple[Person, ...]:
        """``cc=``: names and e-mail addresses separated by commas; raises
        ``Invalid("cc", …)`` naming the first one that is neither."""
        if self.watcher is None:
            raise Invalid("cc", "watchers cannot be named here")
        return tuple(self.watcher(word, "cc") for word in watcher_words(text))

    def spec(self, key: str) -> CategoryField | None:
        """The chosen category's own field ``key``, if it has one."""
        category = self.config.category(self.values.get("category", ""))
        return next((f for f in category.fields if f.key == key), None) if category else None

    def sensitive(self, key: str) -> bool:
        spec = self.spec(key)
        return bool(spec and spec.sensitive)

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
            watchers=self.watchers(v["cc"]) if v.get("cc") else (),
        )
