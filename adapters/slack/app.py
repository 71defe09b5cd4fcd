"""The Bolt app: one ``AsyncApp`` with every Helpthread listener, and its HTTP endpoint.

Bolt verifies each HTTP request's signature (``X-Slack-Signature`` over
``v0:{timestamp}:{body}`` with the signing secret; older than 5 minutes or wrong:
401) before any listener runs; a signed payload of a shape Slack does not send is
answered 400 (``shapes``). What a request asks to store is committed before its
``ack()`` (thread messages, forms, changing presses and commands); the rest
(reads, opening forms, answers) happens after it (``context.Inflight``), well
inside Slack's 3-second window.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from adapters.slack.asks import Asks
from adapters.slack.commands import Commands
from adapters.slack.context import Shared
from adapters.slack.events import Events
from adapters.slack.inbound import NotStored
from adapters.slack.interactions import Interactions
from adapters.slack.pacing import AckFirst
from adapters.slack.shapes import problem

EVENTS_PATH = "/slack/events"
log = logging.getLogger("helpthread.slack")


class _SameTokenWarning(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` itself and warns that the ``client`` we pass wins
    over it; our client carries that very token (``platform.build_slack``), so the
    warning at every start says nothing."""

    text = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.text


logging.getLogger("slack_bolt.AsyncApp").addFilter(_SameTokenWarning())


async def on_listener_error(error: Exception) -> BoltResponse | None:
    """A message the desk could not store is answered 503 (Slack sends it again), with
    one log line; any other listener failure stays Bolt's 500, logged with its trace."""
    if isinstance(error, NotStored):
        log.warning("slack.not_stored: %s; Slack will send it again", error)
        return BoltResponse(status=503, body="")
    log.error("Slack listener failed", exc_info=error)
    return None


async def refuse_unexpected_shapes(body: dict[str, Any], next: Any) -> BoltResponse | None:
    """Global middleware: a signed payload of a shape Slack does not send is refused
    with 400 and what is wrong (``shapes.problem``), before any listener reads it."""
    wrong = problem(body)
    if wrong is None:
        await next()
        return None
    log.warning("slack.malformed_payload: %s", wrong)
    return BoltResponse(status=400, body=json.dumps({"error": f"malformed payload: {wrong}"}),
                        headers={"content-type": "application/json"})


def build_app(shared: Shared, signing_secret: str) -> tuple[AsyncApp, Events]:
    """The Bolt app over ``shared.client`` (whose base URL is ``SLACK_API_URL``), and
    its thread-message listener (catch-up stores through it)."""
    # process_before_response=True: Bolt answers when the listener returns, and
    # Inflight.track returns as soon as the listener has called ack() (the listener
    # runs on as a task of its own). With False, Bolt would poll for the ack every
    # 10 ms instead. pacing.AckFirst relies on the answer not waiting for the work.
    app = AsyncApp(client=shared.client, signing_secret=signing_secret, name="helpthread",
                   process_before_response=True)
    app.error(on_listener_error)
    app.middleware(refuse_unexpected_shapes)
    Commands(shared).register(app)
    Interactions(shared).register(app)
    Asks(shared).register(app)
    events = Events(shared)
    events.register(app)
    return app, events


class FormSafeRequest(AsyncBoltRequest):
    """Bolt 1.30 parses any form body containing the word ``payload`` as an interactive
    payload, so ``/ticket new payload refund`` found no listener (404). A form body
    without a ``payload`` field is read as the plain form it is."""

    def __init__(self, *, body: str, **kwargs: Any) -> None:
        super().__init__(body=body, **kwargs)
        if self.body or not body or body.startswith("{"):
            return
        params = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in params:
            self.body = params
            self.context = build_async_context(AsyncBoltContext({}), self.body)


def http_handler(app: AsyncApp, signing_secret: str, pace: AckFirst | None = None) -> Any:
    """The aiohttp handler of ``/slack/events``: commands, interactivity and events.

    The signature is checked (slack_sdk's ``SignatureVerifier``, the one Bolt uses)
    before the body is parsed, so an unsigned request is a 401 whatever it holds — not
    a parse error — and nobody's garbage is parsed; Bolt checks it again. A signed body
    that is not what Slack sends answers 400. While it dispatches, ``pace`` holds back
    work nobody waits on."""
    pace = pace or AckFirst()
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
            signed = verifier.is_valid_request(body, request.headers)
        except (UnicodeDecodeError, ValueError):  # not UTF-8; a timestamp like "abc"
            signed = False
        if not signed:
            return web.json_response({"error": "invalid request"}, status=401)
        with pace.acknowledging():
            try:
                bolt_request = FormSafeRequest(body=body, query=request.query_string,
                                               headers=dict(request.headers))
            except (ValueError, TypeError, AttributeError):  # JSON that is not Slack's
                return web.json_response({"error": "malformed request"}, status=400)
            wrong = problem(bolt_request.body)
            if wrong is not None:  # before Bolt's own middleware reads it too
                log.warning("slack.malformed_payload: %s", wrong)
                return web.json_response({"error": f"malformed payload: {wrong}"}, status=400)
            response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    return handle
