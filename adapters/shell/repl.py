"""The shell platform: ``/ticket`` commands typed or piped on stdin (PRODUCT.md §9).

Like Hubot's shell adapter: a person — or a script — acts as requester or agent
(``/as NAME [--agent]``) and sees every thread message and notification the desk
delivers. Plain text typed while in a ticket's thread is a message there.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

from adapters.shell import stats, views
from adapters.shell.confirm import done
from adapters.shell.form import Form
from adapters.shell.help import HELP
from adapters.shell.outbound import PLATFORM, WORKSPACE, Printer
from adapters.shell.terminal import NoEcho
from core import commands as cmd
from core import grammar, report, report_chart
from core import views as core_views
from core.characters import is_separator, trim
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.errors import DeskError, Invalid, NotAllowed, Unavailable, every_problem
from core.events import Audience
from core.identity import Actor, Person, UserRef
from core.policy import Action
from core.validation import shown
from core.watching import email_watcher, looks_like_email

PERSONA_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
# What a byte that is not UTF-8 decodes to (``surrogateescape``: 0x80–0xFF → U+DC80–DCFF).
NOT_UTF8 = re.compile("[\udc80-\udcff]")
TRANSCRIPTS = Path("transcripts")  # /ticket transcript N writes here (under the cwd)
AGENT_GROUP = "agents"  # how the shell vouches for --agent personas (config: shell.agent_groups)


@dataclass
class Persona:
    name: str
    agent: bool = False
    thread: tuple[int, Audience] | None = None

    def actor(self) -> Actor:
        groups = frozenset({AGENT_GROUP}) if self.agent else frozenset()
        return Actor(UserRef(PLATFORM, WORKSPACE, self.name), self.name, groups)


def _write(pages: tuple[tuple[Path, str], ...]) -> None:
    """Each ``(path, text)`` as UTF-8, its directory created first. Raises ``OSError``."""
    for path, text in pages:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


class ShellSession:
    """One shell: personas, the form being filled, and what to print."""

    def __init__(self, desk: Desk, worker: DeliveryWorker, printer: Printer, *,
                 persona: str, agent: bool = False, echo: bool = False,
                 interactive: bool = False, terminal: NoEcho | None = None,
                 transcripts: Path = TRANSCRIPTS) -> None:
        self.desk = desk
        self.transcripts = transcripts
        self.worker = worker
        self.printer = printer
        self.echo = echo
        self.interactive = interactive
        if terminal is None and interactive and sys.stdin.isatty():
            terminal = NoEcho(sys.stdin)
        self.terminal = terminal
        self.personas: dict[str, Persona] = {}
        self.me = self._persona(persona, agent)
        self.form: Form | None = None
        self._delivering = asyncio.Lock()
        sensitive = {f.key for c in desk.config.categories for f in c.fields if f.sensitive}
        self._sensitive = re.compile(
            r"\b(" + "|".join(map(re.escape, sorted(sensitive))) + r')=("[^"]*"|\S+)',
            re.IGNORECASE) if sensitive else None

    # ---- input ---------------------------------------------------------------

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Handle every line, delivering after each; at the end deliver everything pending."""
        first = True
        try:
            async for raw in lines:
                if self.terminal and self.terminal.show():
                    self.printer.out.write("\n")
                line = raw.rstrip("\n")
                if first:  # a script saved by a Windows editor starts with a byte-order mark
                    line, first = line.removeprefix("\ufeff"), False
                if not self.form and (not trim(line) or trim(line).startswith("#")):
                    continue
                undecodable = NOT_UTF8.search(line)
                self._echo(NOT_UTF8.sub("\ufffd", line))  # never the raw byte back
                if undecodable:  # not a control character typed: bytes that are no text
                    asking = self.form.asking if self.form else None
                    self.say(f"That line is not valid UTF-8 (byte "
                             f"0x{ord(undecodable.group()) - 0xDC00:02X}); nothing was "
                             "done with it. Send text encoded as UTF-8.",
                             *([self.form.prompt(asking)] if self.form and asking else []))
                    continue
                if not await self.handle(line):
                    break
                await self.deliver()
        finally:
            if self.terminal:
                self.terminal.show()
        if self.form:
            self.say("The form was not finished; nothing was opened.")
        await self.deliver()

    def prompt(self) -> str:
        if self.form and self.form.asking:
            if self.terminal and self.form.sensitive(self.form.asking):
                self.terminal.hide()  # what is typed next is not shown
            return f"{self.me.name} ({self.form.asking})> "
        where = f" #{self.me.thread[0]}" if self.me.thread else ""
        return f"{self.me.name}{where}> "

    def _echo(self, line: str) -> None:
        if not self.echo:
            return
        shown = line
        asking = self.form.asking if self.form else None
        if asking and not line.lstrip().startswith("/") and self._is_sensitive(asking):
            shown = "••••"
        elif self._sensitive:
            shown = self._sensitive.sub(lambda m: f"{m.group(1)}=••••", line)
        self.printer.out.write(f"{self.prompt()}{views.printable(shown)}\n")

    def _is_sensitive(self, key: str) -> bool:
        return any(f.key == key and f.sensitive
                   for c in self.desk.config.categories for f in c.fields)

    async def handle(self, line: str) -> bool:
        """One line of input; False to stop."""
        text = trim(line)
        asking = self.form.asking if self.form else None
        if self.form and asking:
            if text.startswith("/"):
                self.form = None
                self.say("Form cancelled; nothing was opened.")
            else:
                problem = self.form.answer(asking, text)
                if problem:
                    self.say(problem, self.form.prompt(asking))
                    return True
                await self._continue_form()
                return True
        if not text:
            return True
        if not text.startswith("/"):
            await self._guard(self._message(text))
            return True
        cut = next((i for i, ch in enumerate(text) if is_separator(ch)), len(text))
        word, rest = text[:cut], trim(text[cut:])  # a space or a tab after the command
        if word in ("/quit", "/exit"):
            if rest.strip():
                self.say(f"{word} takes nothing after it; type {word} alone to leave.")
                return True
            return False
        if word == "/as":
            self._switch(rest)
        elif word == "/thread":
            await self._guard(self._enter_thread(rest))
        elif word == "/ticket":
            await self._guard(self._ticket(rest))
        elif word == "/help":
            self.say(f"{self.desk.config.desk.name} — the shell desk.", *HELP.splitlines())
        else:
            self.say(f"Unknown command {shown(word)}; try /ticket help.")
        return True

    async def deliver(self) -> None:
        """Deliver what is due — after each line, and when the scheduler fired something
        (one at a time: the two never interleave). A database that cannot be reached
        leaves the queue as it is (the store logged why; the command that met it already
        said so)."""
        async with self._delivering:
            try:
                await self.worker.run_until_idle()
            except Unavailable:
                return


    async def _guard(self, work: Awaitable[None]) -> None:
        try:
            await work
        except Invalid as err:
            self.say(err.message)  # "field: reason", each field when several are bad
        except DeskError as err:
            self.say(f"Refused: {err.message}")

    def say(self, *lines: str) -> None:
        self.printer.lines(f"(to {self.me.name})", list(lines))

    # ---- personas and threads -------------------------------------------------

    def _persona(self, name: str, agent: bool) -> Persona:
        persona = self.personas.setdefault(name, Persona(name))
        persona.agent = agent
        return persona

    def _switch(self, rest: str) -> None:
        words = rest.split()
        names = [w for w in words if w != "--agent"]
        if len(names) != 1 or not PERSONA_NAME.fullmatch(names[0]):
            self.say("Usage: /as NAME [--agent] (a name of letters, digits, . _ -)")
            return
        self.me = self._persona(names[0], "--agent" in words)

    async def _enter_thread(self, rest: str) -> None:
        words = rest.split()
        if not words:
            self.me.thread = None
            self.say("You left the thread.")
            return
        if len(words) > 2 or (len(words) == 2 and words[1] != "team"):
            self.say("Usage: /thread N [team]")
            return
        team = len(words) == 2
        number = grammar.ticket_number(words[0])
        await self.desk.check(self.me.actor(), number,
                              Action.SEE_INTERNAL if team else Action.SEE)
        self.me.thread = (number, Audience.INTERNAL if team else Audience.PUBLIC)
        kind = "team thread (internal notes)" if team else "ticket thread"
        self.say(f"You are in #{number}'s {kind}; what you type is posted there.")

    async def _message(self, text: str) -> None:
        if self.me.thread is None:
            self.say("You are not in a ticket thread: use /thread N, or /ticket help.")
            return
        number, audience = self.me.thread
        channel = "ticket" if audience is Audience.PUBLIC else "team"
        binding = await self.desk.binding_at(PLATFORM, channel, str(number))
        if audience is Audience.INTERNAL:
            if binding is not None:
                await self.desk.post_in_thread(self.me.actor(), binding, text)
            else:
                await self.desk.note(self.me.actor(), number, text)
            self.say(f"Internal note added to #{number}.")
            return
        outcome = (await self.desk.post_in_thread(self.me.actor(), binding, text)
                   if binding is not None else
                   await self.desk.comment(self.me.actor(), number, text))
        # Past the reopen window the message went to a follow-up (a new one, or the one
        # that already continues this ticket): follow it there, as /ticket new does.
        went_to = outcome.follow_up.number if outcome.follow_up else outcome.ticket.number
        if went_to != number:
            old = (outcome.ticket if outcome.follow_up else
                   (await self.desk.show(self.me.actor(), number)).ticket)
            self.me.thread = (went_to, Audience.PUBLIC)
            self.say(f"{core_views.continued_in(number, old.status, went_to)} You are in "
                     "its ticket thread.")

    # ---- /ticket ---------------------------------------------------------------

    async def _ticket(self, rest: str) -> None:
        """``/ticket …``: parsed by the one grammar (``core.grammar``), then run."""
        thread = self.me.thread[0] if self.me.thread else None
        keys = {f.key for c in self.desk.config.categories for f in c.fields}
        parsed = grammar.parse(rest, thread=thread, field_keys=keys)
        actor = self.me.actor()
        match parsed:
            case grammar.NewForm():
                await self._new(parsed)
            case grammar.Help():
                self.say(f"{self.desk.config.desk.name} — the shell desk.",
                         *HELP.splitlines())
            case grammar.ListTickets():
                await self._list(parsed)
            case grammar.Show(number):
                self.say(*views.details(await self.desk.show(actor, number),
                                        self.desk.clock.now()))
            case grammar.Transcript(number):
                await self._transcript(number)
            case grammar.Search(text, number):
                page = await self.desk.search_page(actor, text, number)
                self.say(*views.listing(list(page.items), f"Nothing found for {shown(text)}.",
                                        team=self.me.agent, now=self.desk.clock.now()),
                         *views.more(page, parsed))
            case grammar.Queue(number):
                page = await self.desk.queue_page(actor, number)
                self.say(*views.listing(list(page.items), "The queue is empty: nothing "
                                        "unassigned or overdue.", now=self.desk.clock.now()),
                         *views.more(page, parsed))
            case grammar.Stats(period):
                await self._stats(actor, period)
            case grammar.CcTo(number, who, remove):
                watcher = self.watcher(who)
                command = (cmd.RemoveWatcher(number, watcher) if remove
                           else cmd.AddWatcher(number, watcher))
                await self.desk.run(actor, command)
                self.say(f"Done: {watcher.name} {'no longer watches' if remove else 'watches'} "
                         f"#{number}.")
            case grammar.AssignTo(number, name):
                name = name.removeprefix("@")
                if not PERSONA_NAME.fullmatch(name):
                    raise Invalid("assignee", "name an agent, like sam")
                target = self.personas.get(name, Persona(name)).actor()
                await self.desk.run(actor, cmd.Assign(number, target))
                self.say(f"Done: #{number} is assigned to {name}.")
            case _:
                outcome = await self.desk.run(actor, parsed)
                self.say(done(parsed, outcome.ticket))

    def watcher(self, who: str, field: str = "cc") -> Person:
        """A watcher as typed: an e-mail address, or a persona's name (``@`` optional).
        Raises ``Invalid(field, …)``."""
        if looks_like_email(who):
            return email_watcher(who, field)
        name = who.removeprefix("@")
        if not PERSONA_NAME.fullmatch(name):
            raise Invalid(field, f"{shown(who)} is neither a name (like marco) nor an "
                          "e-mail address")
        return self.personas.get(name, Persona(name)).actor().person

    async def _stats(self, actor: Actor, period: str) -> None:
        """The figures as tables and the chart written to a file whose path is shown."""
        desk = self.desk
        found = await report.stats(actor, desk.config, desk.stores, desk.clock, period)
        png = await asyncio.to_thread(report_chart.chart_png, found,
                                      title=desk.config.desk.name)
        path = await asyncio.to_thread(stats.write_chart, png)
        self.say(*stats.report_text(found).splitlines(), f"Chart: {path}")

    async def _transcript(self, number: int) -> None:
        """Writes the HTML page and the Markdown to ``self.transcripts`` (created if
        absent) and prints both paths; a directory that cannot be written is said."""
        t = await self.desk.transcript(self.me.actor(), number)
        # One file per viewer and copy: the agents' (with internal notes) never lands
        # where a requester's path was printed. ``+`` is in no persona name.
        stem = f"ticket-{number}-{self.me.name}" + ("+internal" if t.internal else "")
        pages = ((self.transcripts / f"{stem}.html", t.html),
                 (self.transcripts / f"{stem}.md", t.markdown))
        try:
            await asyncio.to_thread(_write, pages)
        except OSError as err:
            self.say(f"Could not write the transcript of #{number} to {self.transcripts}/: "
                     f"{err.strerror or err}.")
            return
        self.say(f"Transcript of #{number}:", *(f"  {path}" for path, _ in pages))

    async def _list(self, request: grammar.ListTickets) -> None:
        page = await self.desk.list_page(self.me.actor(), request.scope, mine=request.mine,
                                         org=request.org, unread=request.unread,
                                         page=request.page)
        self.say(*views.listing(list(page.items), request.nothing(), team=self.me.agent,
                                now=self.desk.clock.now()), *views.more(page, request))

    # ---- the form ----------------------------------------------------------------

    async def _new(self, request: grammar.NewForm) -> None:
        form = Form(self.desk.config, self.interactive, watcher=self.watcher)
        form.fill(request.subject, request.fields)
        if request.for_ is not None:
            name = request.for_.removeprefix("@")
            if "@" in name:  # someone who writes by e-mail: for:ana@example.com
                if not self.me.agent:
                    raise NotAllowed("only agents can open a ticket on someone else's behalf")
                mailed = email_watcher(name, "for")  # an e-mail identity, answered by mail
                form.requester = Actor(mailed.ref, mailed.name)
            elif not PERSONA_NAME.fullmatch(name):
                raise Invalid("for", "name the requester, like for:lena or "
                              "for:ana@example.com")
            else:
                if not self.me.agent:
                    raise NotAllowed("only agents can open a ticket on someone else's behalf")
                form.requester = self.personas.get(name, Persona(name)).actor()
        else:
            await self.desk.check_may_open(self.me.actor())
        self.form = form
        await self._continue_form()

    async def _continue_form(self) -> None:
        form = self.form
        assert form is not None
        if form.asking == "category" and "category" in form.values \
                and self.desk.config.category(form.values["category"]) is None:
            self.say(f"category: {shown(form.values['category'])} is not a category.")
            form.forget("category")
        key = form.next_field()
        if key is not None:
            form.asking = key
            self.say(form.prompt(key))
            return
        try:
            opened = await self.desk.open_ticket(self.me.actor(), form.to_new_ticket())
        except Invalid as err:
            # asked again (PRODUCT.md §8) where someone is there to answer, or where the
            # form cannot do without it; from a script an optional field is not asked
            # (README): the next line is no answer, so the line is refused instead — as
            # it is when several fields are bad (each named; the next line would answer
            # only the first)
            several = len(every_problem(err)) > 1
            if form.askable(err.field) and (form.interactive or (form.required(err.field)
                                            and not several)):
                form.forget(err.field)
                form.asking = err.field
                self.say(err.message, form.prompt(err.field))
                return
            self.form = None
            self.say(err.message, "Nothing was opened.")
            return
        except DeskError as err:
            self.form = None
            self.say(f"Refused: {err.message}")
            return
        self.form = None
        t = opened.ticket
        if opened.duplicate:
            self.say(f"You already opened this as #{t.number} ({views.status(t.status)}); "
                     "nothing new was opened.")
        else:
            self.say(f"Opened #{t.number}: {t.subject}. You are in its ticket thread; "
                     "type to add a comment.")
        self.me.thread = (t.number, Audience.PUBLIC)
