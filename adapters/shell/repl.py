"""The shell platform: ``/ticket`` commands typed or piped on stdin (PRODUCT.md §9).

Like Hubot's shell adapter: a person — or a script — acts as requester or agent
(``/as NAME [--agent]``) and sees every thread message and notification the desk
delivers. Plain text typed while in a ticket's thread is a message there.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from adapters.shell import views
from adapters.shell.form import Form
from adapters.shell.outbound import PLATFORM, WORKSPACE, Printer
from core.delivery import DeliveryWorker
from core.desk import Desk
from core.errors import DeskError, Invalid, NotAllowed, Unavailable
from core.events import Audience
from core.identity import Actor, UserRef
from core.policy import Action
from core.tickets import LinkKind

NUMBER = re.compile(r"#?(\d{1,9})$")
AGENT_GROUP = "agents"  # how the shell vouches for --agent personas (config: shell.agent_groups)


@dataclass
class Persona:
    name: str
    agent: bool = False
    thread: tuple[int, Audience] | None = None

    def actor(self) -> Actor:
        groups = frozenset({AGENT_GROUP}) if self.agent else frozenset()
        return Actor(UserRef(PLATFORM, WORKSPACE, self.name), self.name, groups)


class ShellSession:
    """One shell: personas, the form being filled, and what to print."""

    def __init__(self, desk: Desk, worker: DeliveryWorker, printer: Printer, *,
                 persona: str, agent: bool = False, echo: bool = False,
                 interactive: bool = False) -> None:
        self.desk = desk
        self.worker = worker
        self.printer = printer
        self.echo = echo
        self.interactive = interactive
        self.personas: dict[str, Persona] = {}
        self.me = self._persona(persona, agent)
        self.form: Form | None = None
        sensitive = {f.key for c in desk.config.categories for f in c.fields if f.sensitive}
        self._sensitive = re.compile(
            r"\b(" + "|".join(map(re.escape, sorted(sensitive))) + r')=("[^"]*"|\S+)',
            re.IGNORECASE) if sensitive else None

    # ---- input ---------------------------------------------------------------

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Handle every line, delivering after each; at the end deliver everything pending."""
        async for raw in lines:
            line = raw.rstrip("\n")
            if not self.form and (not line.strip() or line.lstrip().startswith("#")):
                continue
            self._echo(line)
            if not await self.handle(line):
                break
            await self._deliver()
        if self.form:
            self.say("The form was not finished; nothing was opened.")
        await self._deliver()

    def prompt(self) -> str:
        if self.form and self.form.asking:
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
        text = line.strip()
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
        word, _, rest = text.partition(" ")
        if word in ("/quit", "/exit"):
            return False
        if word == "/as":
            self._switch(rest)
        elif word == "/thread":
            await self._guard(self._enter_thread(rest))
        elif word == "/ticket":
            await self._guard(self._ticket(rest.strip()))
        elif word == "/help":
            self.say(*views.HELP.splitlines())
        else:
            self.say(f"Unknown command {word}; try /ticket help.")
        return True

    async def _deliver(self) -> None:
        """Deliver what is due. A database that cannot be reached leaves the queue as it
        is (the store logged why; the command that met it already said so)."""
        try:
            await self.worker.run_until_idle()
        except Unavailable:
            return

    async def _guard(self, work: Awaitable[None]) -> None:
        try:
            await work
        except Invalid as err:
            self.say(f"{err.field}: {err.reason}")
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
        if len(names) != 1 or not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", names[0]):
            self.say("Usage: /as NAME [--agent] (a name of letters, digits, . _ -)")
            return
        self.me = self._persona(names[0], "--agent" in words)

    async def _enter_thread(self, rest: str) -> None:
        words = rest.split()
        if not words:
            self.me.thread = None
            self.say("You left the thread.")
            return
        match = NUMBER.match(words[0])
        if not match or len(words) > 2 or (len(words) == 2 and words[1] != "team"):
            self.say("Usage: /thread N [team]")
            return
        team = len(words) == 2
        number = int(match.group(1))
        await self.desk.check(self.me.actor(), number,
                              Action.SEE_INTERNAL if team else Action.SEE)
        self.me.thread = (number, Audience.INTERNAL if team else Audience.PUBLIC)
        kind = "team thread (internal notes)" if team else "ticket thread"
        self.say(f"You are in #{match.group(1)}'s {kind}; what you type is posted there.")

    async def _message(self, text: str) -> None:
        if self.me.thread is None:
            self.say("You are not in a ticket thread: use /thread N, or /ticket help.")
            return
        number, audience = self.me.thread
        channel = "ticket" if audience is Audience.PUBLIC else "team"
        binding = await self.desk.binding_at(PLATFORM, channel, str(number))
        if binding is not None:
            await self.desk.post_in_thread(self.me.actor(), binding, text)
        elif audience is Audience.PUBLIC:
            await self.desk.comment(self.me.actor(), number, text)
        else:
            await self.desk.note(self.me.actor(), number, text)
        if audience is Audience.INTERNAL:
            self.say(f"Internal note added to #{number}.")

    # ---- /ticket ---------------------------------------------------------------

    async def _ticket(self, rest: str) -> None:
        sub, _, args = rest.partition(" ")
        sub = sub.lower() or "new"
        handler = self._handlers().get(sub)
        if handler is None:
            self.say(f"Unknown subcommand {sub!r}; try /ticket help.")
            return
        await handler(args.strip())

    def _handlers(self) -> dict[str, Callable[[str], Awaitable[None]]]:
        return {
            "new": self._new, "list": self._list, "show": self._show, "search": self._search,
            "queue": self._queue, "reply": self._reply, "note": self._note,
            "claim": self._simple("claim"), "unassign": self._simple("unassign"),
            "resume": self._simple("resume"), "reopen": self._simple("reopen"),
            "assign": self._assign, "wait": self._with_text("request_info"),
            "hold": self._with_text("hold"), "resolve": self._with_text("resolve"),
            "escalate": self._escalate, "close": self._close,
            "priority": self._priority, "link": self._link, "transcript": self._transcript,
            "help": self._help,
        }

    async def _help(self, _: str) -> None:
        self.say(*views.HELP.splitlines())

    def _number(self, args: str) -> tuple[int, str]:
        """``(ticket number, the rest)``; the number may be omitted inside a thread."""
        first, _, rest = args.partition(" ")
        match = NUMBER.match(first)
        if match:
            return int(match.group(1)), rest.strip()
        if self.me.thread is not None:
            return self.me.thread[0], args.strip()
        raise Invalid("number", "say which ticket, like 12 or #12 (or use it inside a thread)")

    def _simple(self, method: str) -> Callable[[str], Awaitable[None]]:
        async def run(args: str) -> None:
            number, _ = self._number(args)
            ticket = await getattr(self.desk, method)(self.me.actor(), number)
            self.say(f"Done: #{ticket.number} is {views.status(ticket.status)}.")
        return run

    def _with_text(self, method: str) -> Callable[[str], Awaitable[None]]:
        async def run(args: str) -> None:
            number, text = self._number(args)
            ticket = await getattr(self.desk, method)(self.me.actor(), number, text)
            self.say(f"Done: #{ticket.number} is {views.status(ticket.status)}.")
        return run

    async def _escalate(self, args: str) -> None:
        number, reason = self._number(args)
        ticket = await self.desk.escalate(self.me.actor(), number, reason)
        self.say(f"Done: #{ticket.number} is escalated (level {ticket.escalation_level}).")

    async def _close(self, args: str) -> None:
        number, reason = self._number(args)
        ticket = await self.desk.close(self.me.actor(), number, reason or None)
        self.say(f"Done: #{ticket.number} is {views.status(ticket.status)}.")

    async def _assign(self, args: str) -> None:
        number, name = self._number(args)
        name = name.lstrip("@")
        if not name:
            raise Invalid("assignee", "say who: /ticket assign N NAME")
        target = self.personas.get(name, Persona(name)).actor()
        ticket = await self.desk.assign(self.me.actor(), number, target)
        self.say(f"Done: #{ticket.number} is assigned to {name}.")

    async def _priority(self, args: str) -> None:
        number, priority = self._number(args)
        ticket = await self.desk.set_priority(self.me.actor(), number, priority)
        self.say(f"Done: #{ticket.number} is now {ticket.priority} priority.")

    async def _link(self, args: str) -> None:
        number, rest = self._number(args)
        words = rest.split()
        if len(words) != 2 or not NUMBER.match(words[1]):
            raise Invalid("link", "usage: /ticket link N related|duplicate_of M")
        try:
            kind = LinkKind(words[0])
        except ValueError as err:
            raise Invalid("link", "must be related or duplicate_of") from err
        other = int(NUMBER.match(words[1]).group(1))  # type: ignore[union-attr]
        await self.desk.link(self.me.actor(), number, kind, other)
        self.say(f"Done: #{number} is linked to #{other}.")

    async def _reply(self, args: str) -> None:
        number, text = self._number(args)
        await self.desk.reply(self.me.actor(), number, text)
        self.say(f"Reply posted to #{number}.")

    async def _note(self, args: str) -> None:
        number, text = self._number(args)
        await self.desk.note(self.me.actor(), number, text)
        self.say(f"Internal note added to #{number}.")

    async def _show(self, args: str) -> None:
        number, _ = self._number(args)
        self.say(*views.details(await self.desk.show(self.me.actor(), number)))

    async def _transcript(self, args: str) -> None:
        number, _ = self._number(args)
        d = await self.desk.show(self.me.actor(), number)
        lines = [f"Transcript of #{number}: {d.ticket.subject}"]
        for e in d.events:
            said = views.event_lines(e, d.ticket, None, self.desk.config.desk.name)
            lines.append(f"{e.at:%Y-%m-%d %H:%M:%S} UTC, via {e.platform}: {said[0]}")
            lines += [f"  {line.strip()}" for line in said[1:]]
        self.say(*lines)

    async def _list(self, args: str) -> None:
        words = args.lower().split()
        scope = next((w for w in words if w in ("open", "closed", "all")), "open")
        unknown = [w for w in words if w not in ("open", "closed", "all", "mine", "org",
                                                 "unread")]
        if unknown:
            raise Invalid("list", f"{unknown[0]!r} is not one of open, closed, all, mine, "
                          "org, unread")
        items = await self.desk.list_tickets(self.me.actor(), scope, mine="mine" in words,
                                             org="org" in words, unread="unread" in words)
        self.say(*views.listing(items, "No tickets." if scope == "all" else f"No {scope} tickets."))

    async def _search(self, args: str) -> None:
        items = await self.desk.search(self.me.actor(), args)
        self.say(*views.listing(items, f"Nothing found for {args!r}."))

    async def _queue(self, _: str) -> None:
        items = await self.desk.queue(self.me.actor())
        self.say(*views.listing(items, "The queue is empty: nothing unassigned or overdue."))

    # ---- the form ----------------------------------------------------------------

    async def _new(self, args: str) -> None:
        form = Form(self.desk.config, self.interactive)
        try:
            tokens = shlex.split(args)
        except ValueError as err:
            raise Invalid("command", f"cannot be read ({err}); close the quotes") from err
        form.fill_inline(tokens)
        if form.requester_name is not None:
            if not self.me.agent:
                raise NotAllowed("only agents can open a ticket on someone else's behalf")
            form.requester = self.personas.get(form.requester_name,
                                               Persona(form.requester_name)).actor()
        self.form = form
        await self._continue_form()

    async def _continue_form(self) -> None:
        form = self.form
        assert form is not None
        if form.asking == "category" and "category" in form.values \
                and self.desk.config.category(form.values["category"]) is None:
            self.say(f"category: {form.values['category']!r} is not a category.")
            form.forget("category")
        key = form.next_field()
        if key is not None:
            form.asking = key
            self.say(form.prompt(key))
            return
        try:
            opened = await self.desk.open_ticket(self.me.actor(), form.to_new_ticket())
        except Invalid as err:
            if form.askable(err.field):
                form.forget(err.field)
                form.asking = err.field
                self.say(f"{err.field}: {err.reason}", form.prompt(err.field))
                return
            self.form = None
            self.say(f"{err.field}: {err.reason}", "Nothing was opened.")
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
