"""The ``helpthread`` command (typer): run, shell, db upgrade, doctor, deliveries, and the
rest."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Coroutine
from importlib import metadata
from typing import Any, TypeVar

import typer
from sqlalchemy.engine import make_url

from bot import logs
from bot.settings import ConfigError, Credentials, Settings, load_settings
from core.config import DeskConfig

# Plain (click) help: typer's rich help panel prints a type after every option, flags
# too (``--agent <bool>``); click's shows a flag as a flag.
app = typer.Typer(help="Helpthread: a support-ticket desk that lives in chat.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False)
db = typer.Typer(help="Database commands.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db, name="db")
deliveries = typer.Typer(
    help="The outbox: list pending and parked deliveries; re-queue parked ones.",
    invoke_without_command=True, rich_markup_mode=None)
app.add_typer(deliveries, name="deliveries")


def _version(asked: bool) -> None:
    if asked:
        typer.echo(f"helpthread {metadata.version('helpthread')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_flag=True, is_eager=True,
                                 callback=_version,
                                 help="Print the installed version and exit."),
) -> None:
    pass


def _settings() -> tuple[Settings, DeskConfig, Credentials]:
    try:
        return load_settings()
    except ConfigError as err:
        typer.echo(f"helpthread: {err}", err=True)
        raise typer.Exit(2) from err


T = TypeVar("T")


def _started(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a setting found wrong on the way (the database URL names no database,
    a platform refuses a token) exits 2, something unreachable exits 1, one line each."""
    from bot.runtime import StartupError
    from core.lanes import LanesLoop

    try:
        # the event loop with an answer lane (``core.lanes``): Discord's interactions
        with asyncio.Runner(loop_factory=LanesLoop) as runner:
            return runner.run(work)
    except ConfigError as err:
        typer.echo(f"helpthread: {err}", err=True)
        raise typer.Exit(2) from err
    except StartupError as err:
        typer.echo(f"helpthread: {err}", err=True)
        raise typer.Exit(1) from err


def _default_persona() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry in some containers
        return "you"


@app.command(short_help="Start the desk: every platform that has credentials, else the shell.")
def run() -> None:
    """Start every platform that has credentials (and e-mail when [email] is configured);
    with no chat platform, the shell platform — beside e-mail when it is configured —
    with /healthz and /metrics on HELPTHREAD_PORT when it is set."""
    settings, config, credentials = _settings()
    if credentials.slack or credentials.discord:
        logs.configure(settings.log_format)
        from bot.platforms import run_platforms

        _started(run_platforms(settings, config, credentials))
        return
    logs.configure(settings.log_format, logging.WARNING)
    from bot.runtime import run_shell

    _started(run_shell(settings, config, _default_persona(), agent=False, serve_http=True,
                       credentials=credentials))


@app.command(short_help="Type /ticket commands as a requester or an agent.")
def shell(
    as_: str = typer.Option(None, "--as", metavar="NAME", help="Who you are in the shell."),
    agent: bool = typer.Option(False, "--agent", is_flag=True, help="Act as an agent."),
) -> None:
    """The shell platform: type /ticket commands as a requester or an agent."""
    from adapters.shell.repl import PERSONA_NAME

    if as_ is not None and not PERSONA_NAME.fullmatch(as_):
        typer.echo("helpthread: --as: a name of 1-40 letters, digits, . _ - (as /as takes)",
                   err=True)
        raise typer.Exit(2)
    settings, config, _ = _settings()
    logs.configure(settings.log_format, logging.WARNING)
    from bot.runtime import run_shell

    _started(run_shell(settings, config, as_ or _default_persona(), agent=agent))


@db.command("upgrade", short_help="Apply the database migrations (Alembic).")
def db_upgrade() -> None:
    """Apply the database migrations (Alembic) to HELPTHREAD_DATABASE_URL."""
    settings, _, _ = _settings()
    from bot.runtime import migrate_database

    done = _started(migrate_database(settings.database_url))
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    if not done.applied:
        typer.echo(f"database already up to date at {done.after}: {shown}")
        return
    typer.echo("applied:")  # one line a migration: titles are whole, never cut
    for rev, title in done.applied:
        typer.echo(f"  {rev} {title}" if title else f"  {rev}")
    typer.echo(f"database now at {done.after}: {shown}")


@db.command("embed", short_help="Store the embedding of every ticket that has none "
            "(semantic deflection).")
def db_embed() -> None:
    """Store the sentence embedding of every ticket that has none, for
    ``[deflection] ranking = "semantic"`` (tickets opened before it was switched on, or
    imported). Needs the optional extra helpthread[semantic]."""
    settings, config, _ = _settings()
    if config.deflection.ranking != "semantic":
        typer.echo('helpthread: db embed: [deflection] ranking is not "semantic"; nothing '
                   "to do", err=True)
        raise typer.Exit(2)
    from bot.runtime import embed_tickets

    done = _started(embed_tickets(settings.database_url, config))
    typer.echo(f"stored the embeddings of {done} ticket{'' if done == 1 else 's'}")


@deliveries.callback()
def deliveries_list(
    ctx: typer.Context,
    parked: bool = typer.Option(False, "--parked",
                                help="Only parked deliveries (dead letters)."),
) -> None:
    """List pending and parked deliveries: id, ticket, platform, purpose, state, attempts,
    due time (UTC) and last error. Piped: tab-separated lines under a header (tab, newline
    and backslash in a cell written \\t, \\n, \\\\), the count on stderr."""
    if ctx.invoked_subcommand is not None:
        return
    settings, _, _ = _settings()
    from rich.console import Console

    from bot.deliveries import show

    _started(show(settings, parked_only=parked, console=Console()))


@deliveries.command("retry")
def deliveries_retry(
    ids: list[str] = typer.Argument(None, metavar="ID", show_default=False,
                                    help="Parked deliveries to re-queue; none: all parked."),
) -> None:
    """Re-queue parked deliveries (all of them when no ID is given)."""
    wrong = [i for i in ids or [] if not (i.isascii() and i.isdigit())]
    if wrong:
        typer.echo(f"helpthread: deliveries retry: {wrong[0]!r} is not a delivery id (the "
                   "number `helpthread deliveries` shows); nothing was re-queued", err=True)
        raise typer.Exit(2)
    settings, _, _ = _settings()
    from bot.deliveries import NotParked, retry

    try:
        done = _started(retry(settings, [int(i) for i in ids] if ids else None))
    except NotParked as err:
        typer.echo(f"helpthread: deliveries retry: {err}; nothing was re-queued", err=True)
        raise typer.Exit(2) from err
    if not done:
        typer.echo("No parked deliveries to re-queue.")
        return
    typer.echo(f"Re-queued {len(done)} parked deliver{'y' if len(done) == 1 else 'ies'}: "
               f"{', '.join(map(str, done))}. A running helpthread delivers them now.")


@app.command(short_help="Print the desk's stats; write the chart (PNG) and an HTML report.")
def report(
    since: str = typer.Option("30d", "--since", metavar="PERIOD",
                              help="How far back: 7d, 30d, 90d, any duration, a date "
                              "(YYYY-MM-DD, UTC) or a date-time."),
    png: str = typer.Option(None, "--png", metavar="FILE",
                            help="Write the chart here (PNG; in a directory: report.png)."),
    html: str = typer.Option(None, "--html", metavar="FILE",
                             help="Write a self-contained HTML report here (in a "
                             "directory: report.html)."),
) -> None:
    """Opened, resolved, backlog; first-response and resolution times (median, p90);
    SLA met %; satisfaction; by category and by agent (PRODUCT.md §4)."""
    settings, config, _ = _settings()
    from rich.console import Console

    from adapters.shell.stats import WIDE, print_report
    from bot import report as reports
    from bot.paths import BadPath, output_path
    from core.errors import DeskError, Invalid

    try:  # before the report is made: a path that cannot be written wastes nothing
        paths = [(output_path(option, value, name), kind)
                 for option, value, name, kind in (("--png", png, "report.png", "png"),
                                                   ("--html", html, "report.html", "html"))
                 if value is not None]
        if len(paths) == 2 and os.path.realpath(paths[0][0]) == os.path.realpath(paths[1][0]):
            raise BadPath(f"--html {html}: the same file as --png; name another")
    except BadPath as err:
        typer.echo(f"helpthread: report: {err}", err=True)
        raise typer.Exit(2) from err
    try:
        made = _started(reports.make(settings, config, since))
    except Invalid as err:  # as `export --since` names it: the option, the value as typed
        named = f"--since {since!r}" if err.field == "period" else err.field
        typer.echo(f"helpthread: report: {named}: {err.reason}", err=True)
        raise typer.Exit(2) from err
    except DeskError as err:
        typer.echo(f"helpthread: report: {err}", err=True)
        raise typer.Exit(2) from err
    console = Console()
    if not console.is_terminal:  # piped: the whole table, not squeezed into 80 columns
        console = Console(width=WIDE)
    print_report(made.report, console)
    for path, kind in paths:
        data = made.png if kind == "png" else reports.html(made, config.desk.name).encode()
        try:
            path.write_bytes(data)
        except OSError as err:
            typer.echo(f"helpthread: report: cannot write {path}: {err.strerror}", err=True)
            raise typer.Exit(1) from err
        typer.echo(f"Wrote {path}")


@app.command(short_help="Check the config, the database and each platform's credentials.")
def doctor(
    offline: bool = typer.Option(False, "--offline", is_flag=True,
                                 help="Ask no server (Slack, Discord, SMTP, IMAP, "
                                 "PostgreSQL): those checks are skipped."),
) -> None:
    """Check this set-up as `helpthread run` would use it: the config, the database and
    its migrations, and each platform's credentials against its servers. One line per
    check: ok, warning, FAILED or skipped. Exit 0 when nothing FAILED, else 1."""
    from rich.console import Console

    from bot import doctor as checkup
    from bot.doctor_view import show

    logging.disable(logging.ERROR)  # the SDKs' own log lines: the report says it all
    checks = asyncio.run(checkup.diagnose(offline=offline))
    show(checks, Console())
    raise typer.Exit(1 if checkup.failures(checks) else 0)


@app.command("slack-manifest")
def slack_manifest(
    url: str = typer.Option(None, "--url", metavar="URL",
                            help="Public base URL Slack reaches, e.g. "
                            "https://support.example.com (HTTP mode). Default: Socket Mode "
                            "when SLACK_APP_TOKEN is set, else a placeholder URL."),
) -> None:
    """Print the Slack app manifest (YAML) for this config."""
    _, config, credentials = _settings()
    from adapters.slack.app import EVENTS_PATH
    from adapters.slack.manifest import https_base, manifest_yaml

    if url is not None and credentials.slack_app_token is not None:
        typer.echo("helpthread: SLACK_APP_TOKEN is set, so `helpthread run` uses Socket Mode "
                   "and Slack needs no URL; drop --url, or unset SLACK_APP_TOKEN for HTTP "
                   "mode", err=True)
        raise typer.Exit(2)
    if url is not None:
        try:
            base = https_base(url, EVENTS_PATH)
        except ValueError as err:
            typer.echo(f"helpthread: --url: {url!r} {err}", err=True)
            raise typer.Exit(2) from err
        url = base.removesuffix(EVENTS_PATH)  # given with the events path: not doubled
    if url is None and credentials.slack_app_token is None:
        url = "https://YOUR-HELPTHREAD-HOST"
    typer.echo(manifest_yaml(config, url), nl=False)


@app.command("discord-invite",
             short_help="Print the Discord invite URL with the permissions needed.")
def discord_invite() -> None:
    """Print the Discord invite URL with the scopes and permissions the bot needs."""
    settings, _, credentials = _settings()
    if credentials.discord_token is None:
        typer.echo("helpthread: set DISCORD_TOKEN; the invite is for the token's application",
                   err=True)
        raise typer.Exit(2)
    from adapters.discord.invite import InviteError, fetch_application_id, invite_text
    from adapters.discord.platform import apply_urls

    apply_urls(credentials.discord_api_url, credentials.discord_gateway_url)
    try:
        app_id = asyncio.run(fetch_application_id(credentials.discord_token.get_secret_value()))
    except InviteError as err:
        typer.echo(f"helpthread: {err}", err=True)
        raise typer.Exit(1) from err
    typer.echo("\n".join(invite_text(app_id, settings.discord.guild_id)))


@app.command("export", short_help="Write every ticket as JSON lines or CSV.")
def export_tickets(
    format: str = typer.Option("jsonl", "--format", metavar="jsonl|csv",
                               help="jsonl: everything, to import again; csv: one row a "
                               "ticket (columns in the README)."),
    since: str = typer.Option(None, "--since", metavar="PERIOD",
                              help="Only tickets opened since PERIOD: 30d (any duration), "
                              "a date (YYYY-MM-DD, UTC) or a date-time."),
    out: str = typer.Option("-", "--out", metavar="FILE", help="Where to write; - is stdout."),
    include_sensitive: bool = typer.Option(False, "--include-sensitive", is_flag=True,
                                           help="Keep category fields marked sensitive."),
) -> None:
    """Write every ticket with its fields, comments, notes, events, threads, read marks and
    timers (a progress bar on stderr when it is a terminal)."""
    from bot.porting import CannotWrite, OutRefused, export
    from core.clock import SystemClock
    from core.errors import Invalid
    from core.periods import parse_period

    if format not in ("jsonl", "csv"):
        typer.echo(f"helpthread: export: --format {format!r}: use jsonl or csv", err=True)
        raise typer.Exit(2)
    try:
        since_at = None if since is None else parse_period(since, SystemClock().now())[0]
    except Invalid as err:  # the same forms and reasons as `report --since`
        typer.echo(f"helpthread: export: --since {since!r}: {err.reason}", err=True)
        raise typer.Exit(2) from None
    settings, config, _ = _settings()
    from core.errors import Unavailable

    try:
        _started(export(settings, config, out=out, format=format,  # type: ignore[arg-type]
                        since=since_at, include_sensitive=include_sensitive))
    except CannotWrite as err:  # as `report --png`: refused at once 2, failed midway 1
        typer.echo(f"helpthread: {err}", err=True)
        raise typer.Exit(2 if isinstance(err, OutRefused) else 1) from err
    except Unavailable as err:
        typer.echo(f"helpthread: export: {err}", err=True)
        raise typer.Exit(1) from err


@app.command("import", short_help="Load an export (JSON lines) into an empty database.")
def import_tickets(
    file: str = typer.Argument(..., metavar="FILE.jsonl", help="The export; - is stdin."),
) -> None:
    """Load a `helpthread export` into the empty database HELPTHREAD_DATABASE_URL names:
    numbers, times, history, threads, read marks and timers kept."""
    from bot.porting import ONLY_EXPORTS, import_file
    from core.errors import Unavailable
    from core.store.import_sql import BadExport, NotEmpty

    settings, _, _ = _settings()
    try:
        done = _started(import_file(settings, file))
    except NotEmpty as err:
        typer.echo(f"helpthread: import: {err}; import loads an export into an empty "
                   "database only (name a new one in HELPTHREAD_DATABASE_URL)", err=True)
        raise typer.Exit(2) from err
    except BadExport as err:
        hint = f"; {ONLY_EXPORTS}" if err.foreign else ""
        typer.echo(f"helpthread: import: {file}: {err}{hint}; nothing was imported", err=True)
        raise typer.Exit(2) from err
    except Unavailable as err:
        typer.echo(f"helpthread: import: {err}", err=True)
        raise typer.Exit(1) from err
    span = f" (up to #{done.highest})" if done.tickets else ""
    typer.echo(f"Imported {done.tickets} ticket{'' if done.tickets == 1 else 's'}{span}; "
               f"new tickets continue at #{done.next_number}.")
    if not done.sensitive:
        typer.echo("Note: the export left out sensitive fields (written without "
                   "--include-sensitive); the tickets are imported without them.", err=True)


@app.command("mail-in", short_help="Take one e-mail on stdin (for an MTA pipe).")
def mail_in() -> None:
    """Read one RFC 5322 message on stdin and take it into the desk: a reply becomes a
    comment on its ticket, a new message a ticket (email.open_from_mail). Exit 0 when
    taken or refused (bounced where the sender is told), 75 when it must be retried."""
    from bot import mailin

    try:
        settings, config, _ = load_settings()
    except ConfigError as err:
        typer.echo(f"helpthread: mail-in: {err}", err=True)
        raise typer.Exit(mailin.EX_TEMPFAIL) from err
    logs.configure(settings.log_format, logging.INFO)
    problem = mailin.refuse_setup(settings)
    if problem is not None:
        typer.echo(f"helpthread: mail-in: {problem}", err=True)
        raise typer.Exit(mailin.EX_TEMPFAIL)
    raw, size = mailin.read_limited(sys.stdin.buffer, settings.email.max_message_bytes)
    try:
        taken = asyncio.run(mailin.mail_in(settings, config, raw, size))
    except mailin.Temporary as err:
        mailin.log_temporary(err)
        raise typer.Exit(mailin.EX_TEMPFAIL) from err
    except Exception as err:  # never lose a message to a bug: the MTA keeps it queued
        logging.getLogger("helpthread.email").exception("mail-in failed")
        mailin.log_temporary(mailin.Temporary(f"{type(err).__name__}: {err}"))
        raise typer.Exit(mailin.EX_TEMPFAIL) from err
    typer.echo(mailin.report(taken), err=True)
    raise typer.Exit(mailin.EX_OK)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
