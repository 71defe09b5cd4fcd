"""The typed errors every core use case raises (DESIGN.md, "Core vocabulary").

Each adapter renders the same error the same way: a modal error for ``Invalid``,
an ephemeral refusal for the rest. Messages are plain sentences meant for the
person who acted; they never contain user-provided markup unescaped by the
adapter.
"""

from __future__ import annotations


class DeskError(Exception):
    """Base of every refusal the desk gives. ``str(err)`` is the user-facing reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DeskError):
    """The ticket (or thing) does not exist, or the actor may not know it exists."""


def no_ticket(number: int) -> NotFound:
    """The one refusal for a ticket that does not exist and for one hidden from the
    actor: the same words, so that nobody learns which numbers exist by asking."""
    return NotFound(f"there is no ticket #{number} you can see")


class NotAllowed(DeskError):
    """The actor's role does not permit this action (PRODUCT.md §1)."""


class InvalidTransition(DeskError):
    """The life cycle does not allow this change from the current status (PRODUCT.md §3)."""


class Unchanged(InvalidTransition):
    """What was asked is already so (the same rating again); nothing was stored."""


class Invalid(DeskError):
    """Bad input for one field; ``field`` is its key (``subject``, ``receipt``…)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InvalidFields(Invalid):
    """Several fields of one form are bad (``problems``, in the form's order); ``field``
    and ``reason`` are the first's, so a front end that shows one error at a time shows
    that one, and one that can mark every field (Slack's modal) marks them all."""

    def __init__(self, problems: tuple[Invalid, ...]) -> None:
        super().__init__(problems[0].field, problems[0].reason)
        self.problems = problems
        # a refusal in one message (the shell, Discord) names every field too
        self.message = "; ".join(p.message for p in problems)
        self.args = (self.message,)


def every_problem(err: Invalid) -> tuple[Invalid, ...]:
    """Each bad field ``err`` names: its ``problems``, or itself alone."""
    return err.problems if isinstance(err, InvalidFields) else (err,)


class Limited(DeskError):
    """A per-user limit of PRODUCT.md §8 is reached; nothing was stored."""


class Conflict(DeskError):
    """Someone else changed the ticket first (for example, two claims at once)."""


class Unavailable(DeskError):
    """The desk's database cannot be reached right now (read-only file, disk full, server
    gone); the transaction was rolled back. Raised by the stores instead of the driver's
    own exception, so every front end answers with a line and goes on."""

    def __init__(self, message: str = "the desk's database cannot be reached right now; "
                 "nothing was changed") -> None:
        super().__init__(message)
