"""The Slack app manifest for this desk (``helpthread slack-manifest``).

Paste it at https://api.slack.com/apps → "Create New App" → "From a manifest".
Shape: Slack's app manifest reference (``display_information``, ``features``,
``oauth_config``, ``settings``). ``display_information.name`` ≤ 35 characters.
With ``request_url`` (HTTP mode) every URL is ``{public base}/slack/events``;
without it the app uses Socket Mode and declares no URL.

``METHOD_SCOPES`` is the one list of Web API methods the adapter calls, each with
the bot scope it needs; the manifest asks for exactly those scopes plus what the
features need, and a test checks every method the app called is listed here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml  # type: ignore[import-untyped]

from adapters.slack import ids
from core.config import DeskConfig

NAME_MAX = 35

# Web API method → bot scope it needs (None: no scope, e.g. views.*, chat.getPermalink).
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": None,  # app-level token with connections:write
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "conversations.open": "im:write",
    # a delivery that may have posted looks for its message (also groups:/im:history)
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "usergroups.list": "usergroups:read",
    "views.open": None,
    "views.update": None,
    "views.publish": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
FEATURE_SCOPES = {
    "commands": "the /ticket command and the shortcuts",
    "chat:write.customize": "comments appear under their author's name",
    "channels:history": "thread messages in public channels (message.channels)",
    "groups:history": "thread messages in private channels (message.groups)",
    "im:history": "messages in the requester's DM thread (message.im)",
}
BOT_EVENTS = ("app_home_opened", "message.channels", "message.groups", "message.im")


def bot_scopes() -> list[str]:
    return sorted({s for s in METHOD_SCOPES.values() if s} | set(FEATURE_SCOPES))


def _bot_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-")
    return (slug or "helpthread")[:80]


def manifest(config: DeskConfig, request_url: str | None) -> dict[str, Any]:
    """The manifest as data; ``request_url`` None means Socket Mode."""
    name = config.desk.name[:NAME_MAX]
    command: dict[str, Any] = {
        "command": ids.COMMAND,
        "description": "Open, follow and work support tickets",
        "usage_hint": "[new | list | show 42 | search words | queue | help]",
        "should_escape": True,  # mentions arrive as <@U…> ids (new for:@user, assign)
    }
    if request_url:
        command["url"] = request_url
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": request_url is None,
        "token_rotation_enabled": False,
    }
    if request_url:
        settings["event_subscriptions"]["request_url"] = request_url
        settings["interactivity"]["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Support tickets that live in Slack threads",
            "background_color": "#2c4a6e",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": False},
            "bot_user": {"display_name": _bot_name(name), "always_online": True},
            "slash_commands": [command],
            "shortcuts": [
                {"name": "Open a ticket", "type": "global", "callback_id": ids.SHORTCUT_OPEN,
                 "description": "Open a support ticket"},
                {"name": "Create ticket from message", "type": "message",
                 "callback_id": ids.SHORTCUT_FROM_MESSAGE,
                 "description": "Open a ticket that starts from this message"},
            ],
        },
        "oauth_config": {"scopes": {"bot": bot_scopes()}},
        "settings": settings,
    }


def manifest_yaml(config: DeskConfig, public_url: str | None) -> str:
    """YAML for ``helpthread slack-manifest``: ``public_url`` is the base URL Slack
    reaches (``https://support.example.com``); None for Socket Mode."""
    request_url = public_url.rstrip("/") + "/slack/events" if public_url else None
    header = ("# Slack app manifest for Helpthread — paste at https://api.slack.com/apps\n"
              "# (Create New App → From a manifest). "
              + ("Socket Mode: also create an app-level token with connections:write "
                 "(SLACK_APP_TOKEN).\n" if request_url is None else
                 f"Requests go to {request_url}.\n"))
    body: str = yaml.safe_dump(manifest(config, request_url), sort_keys=False,
                               allow_unicode=True)
    return header + body


def https_base(url: str, path: str) -> str:
    """``url`` without a trailing ``/`` when it is a plain https:// address (a host, a
    valid port, a path; no query, fragment or spaces), else ``ValueError`` saying which
    of those is wrong (``path``: what the manifest appends to it, for the message)."""
    text = url.strip()
    parts = urlsplit(text)
    try:
        valid_port = parts.port is None or 0 < parts.port
    except ValueError:  # out of range
        valid_port = False
    if any(c.isspace() for c in text):
        raise ValueError("holds a space (or other white space); write the address "
                         "without it")
    if parts.scheme != "https":
        raise ValueError("is not an https:// address (Slack sends requests to HTTPS URLs "
                         "only); write it like https://help.example.com")
    if not parts.hostname:
        raise ValueError("names no host; write it like https://help.example.com")
    if not valid_port:
        raise ValueError("has a port outside 1-65535")
    if "?" in text or "#" in text:
        # the manifest's request URLs are this address plus a path: a query would sit
        # before the path and the path be lost in a fragment
        extra = text[min(i for i in (text.find("?"), text.find("#")) if i >= 0):]
        kind = " and ".join(k for c, k in (("?", "a query string"), ("#", "a fragment"))
                            if c in extra)
        bare = urlunsplit(parts._replace(query="", fragment="")).rstrip("/")
        raise ValueError(f"has {kind} ({extra}); Slack's requests go to this address plus "
                         f"{path}; give it as {bare}")
    return text.rstrip("/")
