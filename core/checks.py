"""What ``helpthread doctor`` reports: one ``Check`` per line, as data.

Each platform plug-in says what to check of its own set-up (DESIGN.md, "Platforms
are plug-ins"): a ``Check`` it can decide at once (a credential missing, a section
that cannot place tickets), or a ``Probe`` — a call over the network that yields its
checks when it is run. ``bot.doctor`` runs the probes, each within a time limit,
turns any failure into one ``FAILED`` line, and skips them all with ``--offline``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """A check's result; only ``FAILED`` makes ``doctor`` exit 1."""

    OK = "ok"
    WARNING = "warning"  # works, but likely not as meant
    FAILED = "FAILED"  # `helpthread run` would refuse to start, or the part cannot work
    SKIPPED = "skipped"  # not checked (``--offline``, or what it needs failed first)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: ``name`` (``Slack auth.test``), its outcome, and a plain
    ``detail`` for a person (never a secret)."""

    name: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True, slots=True)
class Probe:
    """A check that talks to a server: ``run(seconds)`` returns its checks (one or
    more) and may raise; ``seconds`` is how long each call may take. ``name`` is the
    line shown when it is skipped, runs out of time or raises."""

    name: str
    run: Callable[[float], Awaitable[list[Check]]]


def ok(name: str, detail: str) -> Check:
    return Check(name, Outcome.OK, detail)


def warning(name: str, detail: str) -> Check:
    return Check(name, Outcome.WARNING, detail)


def failed(name: str, detail: str) -> Check:
    return Check(name, Outcome.FAILED, detail)


def skipped(name: str, detail: str) -> Check:
    return Check(name, Outcome.SKIPPED, detail)
