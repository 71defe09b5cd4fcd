"""The ticket form's fields as typed on a ``/ticket new`` line (``key=value``,
``core.grammar``): the form's own keys, ``visibility`` as another name for ``share``,
what a typed value may be before the form or the desk reads it (README: "An empty
value is refused"), and the line itself read into a ``NewForm`` (``read_new``).

A typed ``key=`` with nothing after it (or only spaces, ``key=""``) is refused naming
the key as typed, never taken as "not given": leaving a field out is how one does not
give it. Platform forms (Slack and Discord modals) do not come this way, so an optional
field left blank there stays simply not given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core.characters import trim
from core.errors import Invalid
from core.validation import clean_priority, collect, raise_all, shown
from core.words import Words, is_key

FORM_KEYS = ("category", "subject", "description", "priority", "account", "share", "cc")
KEY_ALIASES = {"visibility": "share"}  # another name for a form key

# What ``share=`` / ``visibility=`` may say: shared with the requester's organisation,
# or private (PRODUCT.md §2 visibility).
SHARE_YES = frozenset({"yes", "y", "true", "shared"})
SHARE_NO = frozenset({"no", "n", "false", "private"})

_CHOICE = {"share": "yes or no", "visibility": "a visibility"}  # what a value must be
_ASKS = {
    "share": "say yes or no",
    "visibility": "say private or shared",
    "category": "say which category, or leave category= out to be asked",
    "cc": "name watchers (names or e-mail addresses, separated by commas), "
          "or leave cc= out",
}


def check_typed(key: str, value: str) -> None:
    """Refuses the value typed as ``key=value`` (``key`` lower-case, as typed: an alias
    is named as such) with ``Invalid(key, …)``: an empty one for every key (``priority``
    in ``clean_priority``'s words), and a ``share``/``visibility`` that says neither
    shared nor private. Any other value is left for the form and the desk to check."""
    text = trim(value)
    if not text:
        if key == "priority":
            clean_priority(value)  # "priority: is empty; say one of low, normal, …"
        raise Invalid(key, "is empty; " + _ASKS.get(
            key, f"write a value after {key}= or leave it out"))
    if key in _CHOICE and text.lower() not in SHARE_YES | SHARE_NO:
        raise Invalid(key, f"{shown(text)} is not {_CHOICE[key]}; {_ASKS[key]}")


def watcher_words(text: str, field_name: str = "cc") -> list[str]:
    """The names and e-mail addresses a watchers field lists, separated by commas (an
    empty place between two commas is skipped). Blank text lists no one; text that is
    not blank but names no one (``",,"``) is refused with ``Invalid(field_name, …)``,
    never taken as no watchers."""
    words = [word.strip() for word in text.split(",") if word.strip()]
    if text.strip() and not words:
        raise Invalid(field_name, f"{shown(text)} names no one; name watchers (names or "
                      "e-mail addresses, separated by commas), or leave it empty")
    return words


@dataclass(frozen=True, slots=True)
class NewForm:
    """``/ticket``, ``/ticket new [for:NAME] [subject words] [key=value…]``: open the
    form. ``fields`` by lower-case key (``share`` for ``visibility=`` too); ``for_``
    is the requester as typed after ``for:`` (a name, ``@name`` or a platform mention)."""

    subject: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    for_: str | None = None
    # field key → the key as typed; not part of what the line asks for
    typed: Mapping[str, str] = field(default_factory=dict, compare=False)

    def named(self, key: str) -> str:
        """``key`` as the person typed it (``visibility`` for ``share``), for a refusal."""
        return self.typed.get(key, key)


def read_new(words: Words, field_keys: Iterable[str]) -> NewForm:
    """The rest of a ``/ticket new`` line after ``new`` (``field_keys``: the categories'
    own field keys). Raises ``Invalid`` naming the key as typed, or ``for``, ``field``,
    ``command`` or ``new`` for what cannot be placed."""
    known = {*FORM_KEYS, *KEY_ALIASES, *(k.lower() for k in field_keys)}
    fields: dict[str, str] = {}
    keys_typed: dict[str, str] = {}
    loose: list[tuple[str, str]] = []  # (as read, as typed)
    typed_wrong: list[Invalid] = []  # empty values, refused together at the end
    for_: str | None = None
    first = True
    while (word := words.next("subject")) is not None:
        if word.lower().startswith("for:") and (first or for_ is not None):
            if for_ is not None:
                raise Invalid("for", "is given twice; name one requester")
            for_ = trim(word[4:])
            if not for_:
                raise Invalid("for", "name the requester with a mention right after it, "
                              "like for:@someone")
        elif "=" in word and (is_key(word.partition("=")[0]) or word.startswith("=")):
            raw_key, _, value = word.partition("=")
            key = raw_key.lower()
            if not raw_key:
                if loose and loose[-1][0].lower() in known:  # `subject = x`: name the key
                    raise Invalid(loose[-1][0].lower(), "write it with no space before "
                                  f"'=', like {loose[-1][0].lower()}=value")
                raise Invalid("command", f"{shown(word)}: a field needs a name before '='")
            if not is_key(raw_key) or key not in known:
                raise Invalid(key if is_key(raw_key) else "field",
                              f"{shown(raw_key)} is not a field of the ticket form"
                              if not is_key(raw_key) else "is not a field of the ticket form")
            # empty, or a share/visibility that is neither: every such field is named,
            # after the line is read
            collect(typed_wrong, check_typed, key, value)
            as_typed, key = key, KEY_ALIASES.get(key, key)
            if key in fields:
                raise Invalid(as_typed, "is given twice")
            fields[key] = value
            keys_typed[key] = as_typed
        else:
            loose.append((word, words.raw))
        first = False
    raise_all(typed_wrong)
    subject = fields.pop("subject", None)
    if loose:
        typed = " ".join(raw for _, raw in loose)
        if subject is not None:
            # The stray words are what is wrong, not the subject: name them (README).
            raise Invalid("new", f"{shown(typed)} cannot be placed: words outside "
                          "key=value are the subject, and subject= is given; put them "
                          "inside a field's quotes or leave them out")
        # one quoted phrase is the subject without its quotes; several words are kept
        # as typed, quotes and all (`He said "hi"`)
        subject = loose[0][0] if len(loose) == 1 else typed
    return NewForm(subject, fields, for_, keys_typed)
