"""``helpthread doctor`` as a subprocess (PRODUCT.md §9: "checks config and
credentials"): one line per check, exit 0 when nothing FAILED, else 1 — against the
fake Slack Web API, the wire-level fake Discord, a real SMTP server (aiosmtpd) and
SQLite files; never a secret in the output, never a traceback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from core.store.migrate import head_revision, upgrade
from tests.e2e.conftest import HELPTHREAD, clean_env
from tests.platform.discord.wire import FakeDiscord, running
from tests.support.databases import drop_postgres, fresh_postgres_url, require_postgres
from tests.support.dovecot import dovecot
from tests.support.fake_slack import FakeSlack
from tests.support.smtp_server import free_port, smtp_server

BOT_TOKEN = "xoxb-1111-2222-doctorsecret"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
SLACK_CONFIG = '[slack]\nsupport_channel = "C0SUPPORT"\nteam_channel = "C0TEAM"\n'
DISCORD_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GdOcTr.doctor-secret-token-part-0123456789"
GUILD = 123_456_789_012_345_678
KEY = "a-signing-key-for-the-doctor-0123456789"


async def doctor(tmp_path: Path, env: dict[str, str], *args: str,
                 config: str | None = None) -> tuple[int, str]:
    """``helpthread doctor`` in ``tmp_path`` (stdout is a pipe: plain lines); its exit
    status and everything it wrote."""
    if config is not None:
        (tmp_path / "helpthread.toml").write_text(config)
    full = {k: v for k, v in {**clean_env(tmp_path), **env}.items() if "PROXY" not in k.upper()}
    proc = await asyncio.create_subprocess_exec(
        HELPTHREAD, "doctor", *args, env=full, cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode() + err.decode()
    assert "Traceback" not in text, text
    return proc.returncode or 0, text


def line(output: str, name: str) -> str:
    """The report's line for the check ``name`` (exactly one)."""
    found = [ln for ln in output.splitlines()
             if re.match(rf"^\S+\s+{re.escape(name)}\s{{2}}", ln)]
    assert len(found) == 1, f"{name!r} in:\n{output}"
    return found[0]


def outcome(output: str, name: str) -> str:
    return line(output, name).split()[0]


# ---- configuration and database ------------------------------------------------------

async def test_no_config_is_the_shell_desk_and_all_is_well(tmp_path: Path) -> None:
    status, out = await doctor(tmp_path, {})
    assert status == 0, out
    assert "no config file" in line(out, "Config") and "the defaults" in out
    assert outcome(out, "SQLite file") == "ok" and "does not exist yet" in out
    assert "FAILED" not in out and "Slack" not in out and "Discord" not in out
    assert not (tmp_path / "desk.db").exists(), "doctor makes nothing"
    assert out.rstrip().endswith("ready for `helpthread run`.")


@pytest.mark.parametrize(("config", "env", "says"), [
    ('[sla.urgent]\nresolution = "30m"\n', {},
     "sla.urgent.resolution: 30m is shorter than first_response (1h)"),
    ("", {"HELPTHREAD_SLAA__URGENT__FIRST_RESPONSE": "10m"},
     "HELPTHREAD_SLAA__URGENT__FIRST_RESPONSE: is not a setting"),
    ("[desk\n", {}, "cannot read the configuration in"),
])
async def test_a_bad_config_fails_naming_the_field_as_run_does(
        tmp_path: Path, config: str, env: dict[str, str], says: str) -> None:
    status, out = await doctor(tmp_path, env, config=config)
    assert status == 1, out
    assert outcome(out, "Config") == "FAILED" and says in line(out, "Config"), out
    assert outcome(out, "Database") == "skipped"


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://postgres@127.0.0.1/test?sslmode=bogus", "sslmode='bogus' is not one of"),
    ("postgresql://postgres@127.0.0.1/test?timeout=abc", "timeout='abc' is not a number"),
    ("sqlite:///desk.db?timeout=abc", "timeout='abc' is not a number"),
    ("sqlite:///desk.db?foo=1", "'foo' is not one SQLite's driver takes"),
])
async def test_a_bad_database_url_option_is_one_failed_line(tmp_path: Path, url: str,
                                                             says: str) -> None:
    status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
    assert status == 1, out
    assert [ln.split()[0] for ln in out.splitlines() if says in ln] == ["FAILED"], out
    assert f"HELPTHREAD_DATABASE_URL: the option {says}" in out


async def test_a_database_at_head_then_one_behind(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    await asyncio.to_thread(upgrade, url)
    status, out = await doctor(tmp_path, {})
    assert status == 0, out
    assert line(out, "Migrations").endswith(f"at {head_revision()}, the newest")
    assert "writable" in line(out, "SQLite file")

    older = tmp_path / "older"
    older.mkdir()
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{older / 'desk.db'}", "0008")
    status, out = await doctor(older, {})
    assert status == 0, out  # a warning: `run` upgrades at start
    assert outcome(out, "Migrations") == "warning"
    assert "at 0008" in out and "run `helpthread db upgrade`" in out \
        and "`helpthread run` also upgrades at start" in out


async def test_an_unreachable_postgresql_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://desk:hunter2-secret@127.0.0.1:9/desk"
    status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
    assert status == 1, out
    assert "hunter2" not in out
    assert "no PostgreSQL server answers at 127.0.0.1:9" in line(out, "Database")
    status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url}, "--offline")
    assert status == 0 and outcome(out, "Database") == "skipped", out
    assert "desk:***@127.0.0.1:9/desk" in out and "hunter2" not in out


# ---- Slack -------------------------------------------------------------------------------

@pytest.fixture
async def slack() -> Iterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake  # type: ignore[misc]
    await fake.stop()


def slack_env(fake: FakeSlack, **more: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url, **more}


async def test_slack_with_a_good_token(tmp_path: Path, slack: FakeSlack) -> None:
    status, out = await doctor(tmp_path, slack_env(slack), config=SLACK_CONFIG)
    assert status == 0, out
    assert outcome(out, "Slack credentials") == "ok" and "HTTP mode" in out
    assert "bot @helpthread (U0BOT) in workspace Test (T0TEST)" in line(out, "Slack auth.test")
    assert outcome(out, "Slack scopes") == "ok"
    assert outcome(out, "Slack channels") == "ok"
    assert {a["channel"] for a in slack.of("conversations.history")} == {"C0SUPPORT", "C0TEAM"}
    assert BOT_TOKEN not in out and SIGNING_SECRET not in out


async def test_slack_refusing_the_token_fails_naming_it(tmp_path: Path,
                                                        slack: FakeSlack) -> None:
    slack.fail("auth.test", error="invalid_auth")
    status, out = await doctor(tmp_path, slack_env(slack), config=SLACK_CONFIG)
    assert status == 1, out
    assert outcome(out, "Slack auth.test") == "FAILED"
    assert "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in out
    assert BOT_TOKEN not in out


async def test_scopes_the_app_was_not_granted_are_named(tmp_path: Path,
                                                        slack: FakeSlack) -> None:
    slack.scopes = tuple(s for s in slack.scopes if s not in ("files:write", "im:write"))
    status, out = await doctor(tmp_path, slack_env(slack), config=SLACK_CONFIG)
    assert status == 1, out
    assert outcome(out, "Slack scopes") == "FAILED"
    assert "the token lacks files:write, im:write" in out


async def test_socket_mode_checks_the_app_token(tmp_path: Path, slack: FakeSlack) -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-doctor-app-token",
           "SLACK_API_URL": slack.api_url}
    status, out = await doctor(tmp_path, env, config=SLACK_CONFIG)
    assert status == 0, out
    assert "Socket Mode" in line(out, "Slack credentials")
    assert outcome(out, "Slack Socket Mode") == "ok" and slack.of("apps.connections.open")
    slack.fail("apps.connections.open", error="invalid_auth")
    status, out = await doctor(tmp_path, env)
    assert status == 1 and "SLACK_APP_TOKEN: Slack refused it (invalid_auth)" in out, out


@pytest.mark.parametrize(("env", "named"), [
    ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET: needed to verify"),
    ({"SLACK_APP_TOKEN": "xapp-1-doctor"}, "SLACK_BOT_TOKEN: needed to use Slack"),
    ({"SLACK_BOT_TOKEN": "xoxp-user-token-doctor", "SLACK_SIGNING_SECRET": SIGNING_SECRET},
     "SLACK_BOT_TOKEN: is a user token"),
])
async def test_half_configured_slack_fails_naming_what_is_missing(
        tmp_path: Path, env: dict[str, str], named: str) -> None:
    status, out = await doctor(tmp_path, env, config=SLACK_CONFIG)
    assert status == 1, out
    assert outcome(out, "Slack credentials") == "FAILED" and named in out, out
    assert "Slack auth.test" not in out  # not asked with credentials run would refuse
    assert all(v not in out for v in env.values())


async def test_slack_unreachable_fails_and_offline_skips_it(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}
    status, out = await doctor(tmp_path, env, config=SLACK_CONFIG)
    assert status == 1, out
    assert "cannot reach Slack at http://127.0.0.1:" in line(out, "Slack auth.test")
    status, out = await doctor(tmp_path, env, "--offline")
    assert status == 0, out
    assert outcome(out, "Slack auth.test") == "skipped" and "--offline" in out


async def test_a_slack_section_missing_a_channel_is_named_as_run_names_it(
        tmp_path: Path) -> None:
    status, out = await doctor(tmp_path, {"HELPTHREAD_SLACK__SUPPORT_CHANNEL": "C1"})
    assert status == 1, out
    assert "slack.team_channel is not set" in line(out, "Slack [slack]")
    assert outcome(out, "Slack credentials") == "warning"  # another process may run Slack


async def test_a_transcripts_channel_of_a_platform_not_configured_is_a_warning(
        tmp_path: Path) -> None:
    config = '[transcripts]\nslack_channel = "C0LOGS"\ndiscord_channel_id = 42\n'
    status, out = await doctor(tmp_path, {}, config=config)
    assert status == 0, out
    assert outcome(out, "Slack [slack]") == "warning"
    assert "transcripts.slack_channel is set, but Slack is not" in out
    assert outcome(out, "Discord [discord]") == "warning"
    assert "transcripts.discord_channel_id is set, but Discord is not" in out


# ---- Discord -------------------------------------------------------------------------

async def test_discord_token_guild_and_channels(tmp_path: Path) -> None:
    async with running(FakeDiscord(GUILD, token=DISCORD_TOKEN)) as fake:
        support, team = fake.text_channel("support"), fake.text_channel("team")
        config = (f"[discord]\nguild_id = {GUILD}\nsupport_channel_id = {support}\n"
                  f"team_channel_id = {team}\n")
        env = {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": fake.api_url}
        status, out = await doctor(tmp_path, env, config=config)
        assert status == 0, out
        assert "bot helpthread (700000000000000001)" in line(out, "Discord API")
        assert outcome(out, "Discord guild") == "ok" and "Fake guild" in out
        assert outcome(out, "Discord channels") == "ok"
        assert DISCORD_TOKEN not in out

        (tmp_path / "helpthread.toml").write_text(config.replace(str(team), "42"))
        status, out = await doctor(tmp_path, env)
        assert status == 1, out
        assert "team 42: unknown to Discord" in line(out, "Discord channels")

        status, out = await doctor(tmp_path, {**env, "DISCORD_TOKEN": "not.the.token"},
                                   config=config)
    assert status == 1, out
    assert outcome(out, "Discord API") == "FAILED"
    assert "DISCORD_TOKEN: Discord refused it (401 Unauthorized)" in out
    assert "Discord guild" not in out


@pytest.mark.parametrize(("status", "body", "content_type"), [
    (200, "<html><body>a web page</body></html>", "text/html"),
    (200, "[1, 2]", "application/json"),
    (500, "<h1>Internal Server Error</h1>", "text/html"),
])
async def test_an_api_url_that_is_not_the_platform_fails_saying_so(
        tmp_path: Path, status: int, body: str, content_type: str) -> None:
    """A proxy or a wrong ``*_API_URL`` answering a web page, a list or a 500: one FAILED
    line asking whether the URL is the platform's API, within the 10 s a call has."""
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        discord = (f"[discord]\nguild_id = {GUILD}\nsupport_channel_id = 1\n"
                   "team_channel_id = 2\n")
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
               "DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": f"http://127.0.0.1:{port}/api"}
        began = asyncio.get_running_loop().time()
        code, out = await doctor(tmp_path, env, config=SLACK_CONFIG + discord)
        took = asyncio.get_running_loop().time() - began
    finally:
        await runner.cleanup()
    assert code == 1, out
    assert outcome(out, "Slack auth.test") == "FAILED"
    assert "is not Slack's: is SLACK_API_URL Slack's Web API" in line(out, "Slack auth.test")
    assert outcome(out, "Discord API") == "FAILED"
    assert any(why in line(out, "Discord API") for why in (
        "is not a Discord user", "within 10 s", "cannot reach Discord")), out
    assert "None" not in out and "AttributeError" not in out
    assert took < 60, f"{took:.0f} s"  # each call 10 s, not discord.py's retries


# ---- e-mail --------------------------------------------------------------------------

def email_config(port: int, login: bool = True) -> str:
    user = 'smtp_user = "desk"\n' if login else ""
    return (f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
            f'from_address = "Acme <support@example.com>"\n{user}')


@pytest.fixture
def smtp() -> Iterator[int]:
    with smtp_server(login=("desk", "smtp-pass-doctor"), auth_without_tls=True) as (_, port):
        yield port


async def test_smtp_login_works(tmp_path: Path, smtp: int) -> None:
    env = {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
           "HELPTHREAD_EMAIL__SMTP_PASSWORD": "smtp-pass-doctor"}
    status, out = await doctor(tmp_path, env, config=email_config(smtp))
    assert status == 0, out
    assert f"connected to 127.0.0.1:{smtp} without TLS, logged in as desk" in \
        line(out, "SMTP")
    assert outcome(out, "E-mail signing_key") == "ok" and "39 characters" in out
    assert "smtp-pass-doctor" not in out and KEY not in out


async def test_smtp_refusing_the_login_or_the_connection_fails(tmp_path: Path,
                                                               smtp: int) -> None:
    env = {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
           "HELPTHREAD_EMAIL__SMTP_PASSWORD": "wrong-pass-doctor"}
    status, out = await doctor(tmp_path, env, config=email_config(smtp))
    assert status == 1, out
    assert "email.smtp_user: the SMTP server at" in line(out, "SMTP") and "535" in out

    closed = free_port()
    status, out = await doctor(tmp_path, {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY},
                               config=email_config(closed, login=False))
    assert status == 1, out
    assert f"email.smtp_host: cannot connect to 127.0.0.1:{closed}" in line(out, "SMTP")
    status, out = await doctor(tmp_path, {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY}, "--offline")
    assert status == 0 and outcome(out, "SMTP") == "skipped", out


async def test_a_server_that_takes_logins_over_tls_only(tmp_path: Path) -> None:
    env = {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
           "HELPTHREAD_EMAIL__SMTP_PASSWORD": "smtp-pass-doctor"}
    with smtp_server(login=("desk", "smtp-pass-doctor")) as (_, port):
        status, out = await doctor(tmp_path, env, config=email_config(port))
    assert status == 1, out
    assert "email.security = none:" in line(out, "SMTP") and "AUTH" in out


async def doctor_imap(tmp_path: Path, env: dict[str, str], config: str) -> tuple[int, str]:
    """``doctor`` again while Dovecot answers the login ``[UNAVAILABLE]`` (its auth
    process slow on a loaded machine: RFC 5530's "try again later"), a bounded number
    of times, as ``tests.support.dovecot`` logs in."""
    for _ in range(5):
        status, out = await doctor(tmp_path, env, config=config)
        if "[UNAVAILABLE]" not in out:
            break
        await asyncio.sleep(0.5)
    return status, out


async def test_imap_login_and_folder_then_a_refused_login(tmp_path: Path, smtp: int) -> None:
    with dovecot(tmp_path / "imap") as imap:
        config = email_config(smtp) + (f'imap_host = "127.0.0.1"\nimap_port = {imap.port}\n'
                                       f'imap_security = "none"\nimap_user = "{imap.user}"\n')
        env = {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
               "HELPTHREAD_EMAIL__SMTP_PASSWORD": "smtp-pass-doctor",
               "HELPTHREAD_EMAIL__IMAP_PASSWORD": imap.password}
        imap.append(b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
        status, out = await doctor_imap(tmp_path, env, config)
        assert status == 0, out
        assert f"logged in to 127.0.0.1:{imap.port} as {imap.user}; INBOX holds 1 " \
               "message" in line(out, "IMAP")
        assert imap.count("INBOX") == 1 and imap.count("Helpthread") == -1, \
            "examined, nothing moved or made"

        status, out = await doctor(
            tmp_path, {**env, "HELPTHREAD_EMAIL__IMAP_PASSWORD": "wrong-imap-pass"},
            config=config)
    assert status == 1, out
    # [AUTHENTICATIONFAILED], or on a loaded machine Dovecot's [UNAVAILABLE]: refused
    assert "email.imap_user: the IMAP server at" in line(out, "IMAP")
    assert "wrong-imap-pass" not in out


async def test_imap_refusals_name_their_key_in_the_servers_words(tmp_path: Path,
                                                                   smtp: int) -> None:
    """No password set, a wrong one, a folder that does not exist: each line names the
    key to fix and quotes Dovecot as text, never as a Python bytes repr."""
    with dovecot(tmp_path / "imap") as imap:
        config = email_config(smtp) + (f'imap_host = "127.0.0.1"\nimap_port = {imap.port}\n'
                                       f'imap_security = "none"\nimap_user = "{imap.user}"\n')
        env = {"HELPTHREAD_EMAIL__SIGNING_KEY": KEY,
               "HELPTHREAD_EMAIL__SMTP_PASSWORD": "smtp-pass-doctor"}
        _, unset = await doctor_imap(tmp_path, env, config)
        _, wrong = await doctor_imap(
            tmp_path, {**env, "HELPTHREAD_EMAIL__IMAP_PASSWORD": "wrong-imap-pass"}, config)
        _, nope = await doctor_imap(
            tmp_path, {**env, "HELPTHREAD_EMAIL__IMAP_PASSWORD": imap.password},
            config + 'imap_folder = "Nope"\n')
    unset, wrong, nope = line(unset, "IMAP"), line(wrong, "IMAP"), line(nope, "IMAP")
    assert "FAILED" in unset and "email.imap_password: not set " \
        "(HELPTHREAD_EMAIL__IMAP_PASSWORD); the IMAP server at" in unset, unset
    assert f"login as {imap.user}: [AUTHENTICATIONFAILED]" in unset, unset
    assert f"email.imap_user: the IMAP server at 127.0.0.1:{imap.port} refused: login " \
        f"as {imap.user}: [AUTHENTICATIONFAILED]" in wrong, wrong
    assert f"email.imap_folder: the IMAP server at 127.0.0.1:{imap.port} cannot open " \
        "'Nope': NO Mailbox doesn't exist: Nope" in nope, nope
    for text in (unset, wrong, nope):
        assert "b'" not in text and 'b"' not in text, text


@pytest.mark.postgres
async def test_postgresql_opened_read_and_a_missing_database_named(tmp_path: Path) -> None:
    await require_postgres()
    url, name = await fresh_postgres_url()
    try:
        status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
        assert status == 0, out
        assert line(out, "Database").endswith(": opened") and "SQLite file" not in out
        assert "no tables yet" in line(out, "Migrations")
        await asyncio.to_thread(upgrade, url)
        status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
        assert status == 0 and line(out, "Migrations").endswith("the newest"), out
    finally:
        await drop_postgres(name)
    status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
    assert status == 1, out
    assert f"HELPTHREAD_DATABASE_URL: database {name!r} does not exist" in line(out, "Database")


@pytest.mark.postgres
async def test_postgresql_url_options_reach_the_driver_as_numbers(tmp_path: Path) -> None:
    """``command_timeout=7`` reached asyncpg as the text "7" (asyncpg adds it to a
    float); the doctor's read hands it over as a number, as the desk does."""
    await require_postgres()
    url, name = await fresh_postgres_url()
    try:
        await asyncio.to_thread(upgrade, url)
        with_options = f"{url}?sslmode=disable&command_timeout=7&statement_cache_size=0"
        status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": with_options})
        assert status == 0, out
        assert line(out, "Migrations").endswith("the newest")
    finally:
        await drop_postgres(name)


async def test_a_sqlite_uri_url_is_the_file_it_names(tmp_path: Path) -> None:
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")
    url = f"sqlite+aiosqlite:///file:{tmp_path / 'desk.db'}?mode=ro&uri=true"
    status, out = await doctor(tmp_path, {"HELPTHREAD_DATABASE_URL": url})
    assert status == 0, out
    assert f"{tmp_path / 'desk.db'} writable" in line(out, "SQLite file")
    assert line(out, "Migrations").endswith("the newest")
