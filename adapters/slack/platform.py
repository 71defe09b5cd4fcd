"""The Slack platform as ``bot.platforms`` runs it (built by ``plugin.SlackPlugin.build``
with the desk): route, outbound, listeners, transport.

HTTP mode serves ``/slack/events`` (commands, interactivity and events on one URL);
with an app-level token (``SLACK_APP_TOKEN``, ``xapp-…``) it uses Socket Mode instead
and serves no HTTP route. Every Web API call — listeners, deliveries, Socket Mode's
``apps.connections.open`` — goes to ``api_url`` (``SLACK_API_URL``; GovSlack, proxies,
tests), default ``https://slack.com/api/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import EVENTS_PATH, build_app, http_handler
from adapters.slack.context import Shared
from adapters.slack.inbound import CatchUp, NotStored
from adapters.slack.outbound import SlackOutbound
from adapters.slack.people import LOOKUP_FAILURES, People
from adapters.slack.plugin import SlackSettings
from core.desk import Desk
from core.errors import DeskError
from core.ordering import CatchUpRunner
from core.platforms import SettingError
from core.routing import PlatformRoute

log = logging.getLogger("helpthread.slack")

DEFAULT_API_URL = "https://slack.com/api/"
STOP_GRACE_SECONDS = 5.0  # listeners still running get this long to finish at shutdown
SOCKET_CONNECT_SECONDS = 30.0  # to open Socket Mode's WebSocket at start-up
PLATFORM = "slack"
WEB_API_TIMEOUT = 30.0  # seconds for one Web API call (slack_sdk's default)
# auth.test errors that mean the token itself is wrong (Slack API: auth.test, "Errors").
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                           "token_expired", "not_allowed_token_type"})
# What start-up (and ``helpthread doctor``) asks for when Slack refuses a token.
BOT_TOKEN_WANTED = "the app's Bot User OAuth Token, xoxb-…"
APP_TOKEN_WANTED = "an app-level token (xapp-…) with connections:write"
# slack_sdk's loggers for Web API calls and response_url posts (their default names).
SDK_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.webhook.async_client")


class _HeldBack(logging.Filter):
    """Drops a logger's records that start with ``prefix`` (slack_sdk's retry messages,
    a traceback each), keeping the last one's first line for the one we write."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.last: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(self.prefix):
            return True
        self.last = message.splitlines()[0].removesuffix("; Retrying...")[:200]
        return False


def refused(err: SlackApiError, method: str, setting: str, wanted: str) -> Exception:
    """What start-up raises when Slack answers ``method`` with an error: a token it
    refuses is the operator's ``setting`` to fix (``SlackConfigError``), anything else
    a ``RuntimeError`` naming Slack's error code."""
    error = str(err.response.get("error"))
    if error in TOKEN_REFUSED:
        return SlackConfigError(f"{setting}: Slack refused it ({error}); use {wanted}")
    return RuntimeError(f"Slack answered {method} with {error}")


class SlackConfigError(SettingError):
    """A Slack setting or credential Slack refuses (the message names it)."""


def api_base(api_url: str | None) -> str:
    """``SLACK_API_URL`` as slack_sdk wants it: ending in ``/``."""
    url = (api_url or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


class SlackPlatform:
    """What ``bot.platforms`` composes: ``route``, ``outbound``, ``http_routes``,
    ``start``, ``stop``."""

    def __init__(self, shared: Shared, signing_secret: str, outbound: SlackOutbound,
                 app_token: str | None, route: PlatformRoute) -> None:
        self.config = shared.config
        self.shared = shared
        self.route = route
        self.outbound = outbound
        self.signing_secret = signing_secret
        self.app, self.events = build_app(shared, signing_secret)
        self.catch_up = CatchUp(shared.client, shared.team_id, self.events.store,
                                self.events.in_order.turn, self.events.backlog,
                                self.events.missed)
        self.catching_up = CatchUpRunner(PLATFORM, self._read_threads,
                                    (NotStored, DeskError, *LOOKUP_FAILURES),
                                    self.events.backlog)
        self.events.read_again = lambda: self.start_catching_up(at_once=True)
        self.socket: AsyncSocketModeHandler | None = None
        if app_token:
            self.socket = AsyncSocketModeHandler(self.app, app_token)

    @property
    def connected(self) -> bool:
        """Socket Mode: its WebSocket is open. HTTP mode: always (Slack calls in; a Web
        API outage shows as deliveries waiting, in ``/healthz``)."""
        if self.socket is None:
            return True
        session = self.socket.client.current_session
        return session is not None and not session.closed

    def http_routes(self) -> list[web.AbstractRouteDef]:
        if self.socket is not None:
            return []
        handler = http_handler(self.app, self.signing_secret, self.shared.pace)
        return [web.post(EVENTS_PATH, handler)]

    async def start(self) -> None:
        """Begin catching up (``caught_up``) with what ticket threads got while no
        process ran. Socket Mode: check the app token (``apps.connections.open``), then
        connect within ``SOCKET_CONNECT_SECONDS``. Raises ``SlackConfigError`` when Slack
        refuses the token, ``RuntimeError`` when Slack or its WebSocket cannot be reached
        (slack_sdk would otherwise retry for ever)."""
        self.start_catching_up()
        if self.socket is None:
            return
        client = self.socket.client
        try:
            answer = await self.shared.client.apps_connections_open(app_token=client.app_token)
        except SlackApiError as err:
            raise refused(err, "apps.connections.open", "SLACK_APP_TOKEN",
                          APP_TOKEN_WANTED) from err
        client.wss_uri = str(answer["url"])  # one URL, not asked for twice
        retries = _HeldBack("Failed to connect")  # at start a failure is said once, below
        client.logger.addFilter(retries)
        try:
            await asyncio.wait_for(self.socket.connect_async(),  # type: ignore[no-untyped-call]
                                   SOCKET_CONNECT_SECONDS)
        except TimeoutError:
            client.closed = True  # slack_sdk's own loop stops retrying
            raise RuntimeError(f"the Socket Mode WebSocket ({answer['url']}) could not be "
                               f"reached in {SOCKET_CONNECT_SECONDS:.0f} s"
                               + (f": {retries.last}" if retries.last else "")) from None
        finally:
            client.logger.removeFilter(retries)
        log.info("slack.socket_mode.connected")

    def start_catching_up(self, *, at_once: bool = False) -> None:
        """Begin a catch-up unless one runs (``core.ordering.CatchUpRunner``); ``at_once``: one
        waiting to try again is started over now (the desk answers again)."""
        self.catching_up.start(at_once=at_once)

    async def _read_threads(self) -> tuple[int, int]:
        """Prune old inbound keys, then store what every thread got while we were away."""
        await self.shared.desk.prune_inbound()
        cursors = await self.shared.desk.thread_cursors(PLATFORM)
        return len(cursors), await self.catch_up.run(cursors)

    async def caught_up(self) -> int:
        """Wait for the running catch-up; returns the messages it stored (tests)."""
        return await self.catching_up.done()

    async def stop(self) -> None:
        """Disconnect, give running listeners ``STOP_GRACE_SECONDS``, close the pool.
        Deliveries still pending stay in the outbox for the next start."""
        await self.catching_up.stop()
        await self.shared.namer.stop()
        if self.socket is not None and self.socket.client.current_session is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        elif self.socket is not None:  # never connected: only its HTTP session to close
            await self.socket.client.aiohttp_client_session.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.shared.inflight.idle(), STOP_GRACE_SECONDS)
        if self.shared.session is not None:
            await self.shared.session.close()

    async def idle(self) -> None:
        """Wait until no listener is running (tests: the work after ``ack`` is done)."""
        await self.shared.inflight.idle()


def _url(url: object) -> str | None:
    """``auth.test``'s workspace URL, ending in ``/``."""
    if not isinstance(url, str) or not url.startswith("https://"):
        return None
    return url if url.endswith("/") else url + "/"


def settle_sdk_loggers() -> None:
    """Pin slack_sdk's loggers to the level in effect now (``bot.logs`` has configured
    it). slack_sdk tests ``logger.level <= DEBUG`` — the logger's own level, 0 when
    unset — so with no level of their own it formats a debug line holding the whole
    request and the whole answer of every Web API call (a form view is ~4 kB each
    way), which logging then drops: CPU on the event loop that acknowledges requests.
    With the level pinned, that happens only when debug logging is really on."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logger.getEffectiveLevel())


async def build_slack(desk: Desk, settings: SlackSettings, route: PlatformRoute, *,
                      bot_token: str, signing_secret: str, app_token: str | None = None,
                      api_url: str | None = None) -> SlackPlatform:
    """The Slack platform serving ``desk``, placing tickets by ``route``. Calls
    ``auth.test`` once to learn the workspace (team id) and the app's own user id.
    Raises ``SlackConfigError`` when Slack refuses the token or it belongs to another
    workspace than ``slack.team_id``, ``RuntimeError`` for any other refusal, and the
    network's own errors when Slack cannot be reached."""
    config = desk.config
    base = api_base(api_url)
    settle_sdk_loggers()
    # One connection pool for every Web API call (slack_sdk opens a session per call
    # without it: a new TCP/TLS connection each time).
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEB_API_TIMEOUT))
    client = AsyncWebClient(token=bot_token, base_url=base, session=session,
                            timeout=int(WEB_API_TIMEOUT))
    # Deliveries: no retry inside a call. A 429 goes back to the outbox as that target's
    # due time (no sleep holds other channels); a call repeated after a lost answer could
    # post twice, so the delivery looks for its message first (outbound.SlackOutbound).
    outbound_client = AsyncWebClient(token=bot_token, base_url=base, session=session,
                                     timeout=int(WEB_API_TIMEOUT), retry_handlers=[])
    try:
        auth = await client.auth_test()
    except SlackApiError as err:
        await session.close()
        raise refused(err, "auth.test", "SLACK_BOT_TOKEN", BOT_TOKEN_WANTED) from err
    except BaseException:
        await session.close()
        raise
    team_id = str(auth["team_id"])
    if settings.team_id and settings.team_id != team_id:
        await session.close()
        raise SlackConfigError(f"slack.team_id is {settings.team_id}, but SLACK_BOT_TOKEN "
                               f"belongs to workspace {team_id}")
    # Agents are agents in this workspace only (issue 10, point 8): a user of another
    # workspace in a shared channel (Slack Connect) with the same id is nobody.
    rule = config.agents.get(PLATFORM)
    if rule is not None:
        config.agents[PLATFORM] = rule.within(team_id)
    shared = Shared(client=client, config=config,
                    people=People(client, settings.agent_groups),
                    team_id=team_id, bot_user_id=auth.get("user_id"),
                    workspace_url=_url(auth.get("url")),
                    desk_=desk, session=session)
    outbound = SlackOutbound(outbound_client, config, shared.pace, desk=desk,
                             escalation_group=settings.escalation_group, clock=desk.clock,
                             agent_groups=settings.agent_groups,
                             agent_users=settings.agent_users)
    return SlackPlatform(shared, signing_secret, outbound, app_token, route)
