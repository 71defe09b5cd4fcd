"""The ticket form's fields as typed on a ``/ticket new`` line (``key=value``,
``core.grammar``): the form's own keys, ``visibility`` as another name for ``share``,
and what a typed value may be before the form or the desk reads it (README: "An empty
value is refused").

A typed ``key=`` with nothing after it (or only spaces, ``key=""``) is refused naming
the key as typed, never taken as "not given": leaving a field out is how one does not
give it. Platform forms (Slack and Discord modals) do not come this way, so an optional
field left blank there stays simply not given.
"""

from __future__ import annotations

from core.characters import trim
from core.errors import Invalid
from core.validation import clean_priority, shown

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
