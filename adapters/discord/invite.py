"""The bot's OAuth2 invite: scopes and exactly the permissions the adapter uses.

Each permission below is used by a named piece of ``adapters.discord`` (see ``WHY``);
``helpthread discord-invite`` prints the URL and these reasons. Permission names
and bits are Discord's (https://discord.com/developers/docs/topics/permissions).
The application id is read from the token's application
(``GET /oauth2/applications/@me``), never configured separately.
"""

from __future__ import annotations

import aiohttp
import discord

SCOPES: tuple[str, ...] = ("bot", "applications.commands")

# permission attribute (discord.py name) → why the adapter needs it
WHY: dict[str, str] = {
    "view_channel": "see the support, team and escalation channels it posts in",
    "send_messages": "post team cards, the escalation notices and the /ticket panel",
    "send_messages_in_threads": "post in ticket and team threads, and add people to them",
    "create_private_threads": "give each ticket its private thread under the support channel",
    "create_public_threads": "start the team thread from the team card in the team channel",
    "manage_threads": "add the requester and the assignee to a private thread that "
                      "members cannot invite others to (invitable off)",
    "embed_links": "show ticket cards and thread messages as embeds",
    "read_message_history": "start a thread from a card it posted and edit cards in place",
    "attach_files": "post closed tickets' transcripts (HTML and Markdown) in the "
                    "[transcripts] channel",
}

BOT_PERMISSIONS = discord.Permissions(**dict.fromkeys(WHY, True))


def invite_url(application_id: int, guild_id: int | None = None) -> str:
    """The OAuth2 URL that adds the bot with ``SCOPES`` and ``BOT_PERMISSIONS``;
    with ``guild_id`` the server is preselected."""
    guild = discord.Object(guild_id) if guild_id else discord.utils.MISSING
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, guild=guild,
                                   scopes=SCOPES)


def permission_lines() -> list[str]:
    """One line per permission: its name as Discord's settings show it, and why."""
    return [f"  {name.replace('_', ' ').title()}: {why}" for name, why in WHY.items()]


class InviteError(Exception):
    """The token's application could not be read; ``str()`` says why."""


async def fetch_application_id(token: str) -> int:
    """Log in with ``token`` (REST only, no gateway) and return its application's id.
    The REST base URL must already be applied (``platform.apply_urls``). Raises
    ``InviteError`` for a refused token or an unreachable API."""
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
    except discord.LoginFailure as err:
        raise InviteError("Discord refused DISCORD_TOKEN (is it the bot token?)") from err
    except (discord.HTTPException, aiohttp.ClientError, OSError) as err:
        raise InviteError(f"cannot read the token's application: {err}") from err
    finally:
        await client.close()
    assert client.application_id is not None
    return client.application_id


def invite_text(application_id: int, guild_id: int | None) -> list[str]:
    """What ``helpthread discord-invite`` prints."""
    return [
        invite_url(application_id, guild_id),
        "",
        f"Scopes: {' '.join(SCOPES)}. Permissions (integer {BOT_PERMISSIONS.value}):",
        *permission_lines(),
        "",
        "Also turn on the Message Content intent (Developer Portal → Bot → Privileged "
        "Gateway Intents): messages typed in ticket threads are read and recorded.",
    ]
