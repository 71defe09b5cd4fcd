"""Input rules shared by every form and command (PRODUCT.md §2, §8).

Bad input is refused with ``Invalid(field, why)``; nothing is truncated or silently
cleaned. Text is checked as it arrived — a control character or separator at either
end is refused like one inside (``str.strip()`` would have removed U+001C–U+001F,
U+0085, U+2028 and U+2029 unseen) — and only then are surrounding spaces (and, in
multi-line text, surrounding line breaks and tabs) trimmed. Multi-line text keeps its
lines; a Windows line end (CR LF) is stored as LF.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from core.characters import BIDI_CONTROLS, is_control
from core.config import Category, CategoryField, DeskConfig
from core.errors import Invalid, InvalidFields, every_problem
from core.tickets import PRIORITIES

SUBJECT_MAX = 140  # PRODUCT.md §2
DESCRIPTION_MAX = 4000  # PRODUCT.md §2
COMMENT_MAX = 4000  # same cap as a description: Discord's text input maximum
ACCOUNT_MAX = 64

SHOWN_MAX = 40


def shown(value: str, limit: int = SHOWN_MAX) -> str:
    """``value`` quoted for an error message: control characters as ``\\u0007``
    escapes, never raw; at most ``limit`` characters of it (then ``…``)."""
    cut = value[:limit]
    text = "".join(f"\\u{ord(ch):04x}" if is_control(ch) else ch for ch in cut)
    return f"'{text}{'…' if len(value) > limit else ''}'"


def clean_text(field: str, value: str | None, *, max_length: int, multiline: bool,
               required: bool = True, min_length: int = 1) -> str:
    """Trimmed ``value``; raises ``Invalid(field, …)`` if empty (when required), longer
    than ``max_length`` characters, on several lines when ``multiline`` is False, or
    holding control or bidirectional-override characters (one-line: any control, tab
    and format characters included; multiline keeps line breaks and tabs) or lone
    surrogates (a NUL or a surrogate would fail on PostgreSQL, or on both engines:
    refused here, by name, on every store alike)."""
    raw = value or ""
    refuse_controls(field, raw, multiline)
    text = raw.strip(" \t\n\r" if multiline else " ")
    if not text:
        if required:
            raise Invalid(field, "is required and cannot be empty")
        return ""
    if len(text) > max_length:
        raise Invalid(field, f"is {len(text)} characters long; the limit is {max_length}")
    if len(text) < min_length:
        raise Invalid(field, f"needs at least {min_length} characters")
    return text.replace("\r\n", "\n")


def refuse_controls(field: str, text: str, multiline: bool) -> None:
    """``Invalid(field, …)`` for the first character ``clean_text`` refuses in ``text``."""
    for ch in text:
        if ch in "\n\r\u2028\u2029" and not multiline:
            raise Invalid(field, "must be a single line")
        if ch in BIDI_CONTROLS:
            raise Invalid(field, "contains a text-direction control character")
        if multiline and ch in "\n\r\t":
            continue
        kind = unicodedata.category(ch)
        if kind == "Cc" or (not multiline and is_control(ch)):
            what = "an invisible formatting character" if kind == "Cf" else "a control character"
            raise Invalid(field, f"contains {what} (U+{ord(ch):04X})")
        if kind == "Cs":  # half of a UTF-16 pair: no database can store it as text
            raise Invalid(field, f"contains a broken character (U+{ord(ch):04X})")


def clean_priority(value: str | None) -> str:
    """``value`` as a priority key, ``normal`` when not given (None). Given but empty
    (``priority=``) is refused naming the field, not taken as normal (PRODUCT.md §8).
    Raises ``Invalid("priority", …)``."""
    if value is None:
        return "normal"
    priority = value.strip().lower()
    if not priority:
        raise Invalid("priority", f"is empty; say one of {', '.join(PRIORITIES)}")
    if priority not in PRIORITIES:
        raise Invalid("priority", f"must be one of {', '.join(PRIORITIES)}")
    return priority


def clean_category(config: DeskConfig, value: str | None) -> Category:
    if not value or not value.strip():
        raise Invalid("category", "is required; choose one of " + _category_list(config))
    category = config.category(value)
    if category is None:
        raise Invalid("category", f"{shown(value.strip())} is not a category; choose one of "
                      + _category_list(config))
    return category


def _category_list(config: DeskConfig) -> str:
    return ", ".join(c.key for c in config.categories)


def clean_field(spec: CategoryField, value: str | None) -> str:
    text = clean_text(spec.key, value, max_length=spec.max_length, multiline=False,
                      required=spec.required, min_length=spec.min_length)
    if text and spec.pattern and not re.fullmatch(spec.pattern, text):
        raise Invalid(spec.key, f"is not a valid {spec.label.lower()}")
    return text


def clean_category_fields(category: Category, values: dict[str, str]) -> dict[str, str]:
    """The declared fields of ``category``, validated; unknown keys are refused."""
    declared = {f.key: f for f in category.fields}
    for key in values:
        if key not in declared:
            raise Invalid(key, f"is not a field of category {category.key!r}")
    cleaned: dict[str, str] = {}
    problems: list[Invalid] = []
    for spec in category.fields:
        if text := collect(problems, clean_field, spec, values.get(spec.key)):
            cleaned[spec.key] = text
    raise_all(problems)
    return cleaned


T = TypeVar("T")
P = ParamSpec("P")


def collect(problems: list[Invalid], check: Callable[P, T], *args: P.args,
            **kwargs: P.kwargs) -> T | None:
    """``check(*args, **kwargs)``'s result; when it raises ``Invalid``, each bad field it
    names is added to ``problems`` (to ``raise_all`` once every field is checked) and
    None is returned."""
    try:
        return check(*args, **kwargs)
    except Invalid as err:
        problems.extend(every_problem(err))
        return None


def raise_all(problems: list[Invalid]) -> None:
    """Raise the one problem, or ``InvalidFields`` for several; nothing for none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidFields(tuple(problems))
