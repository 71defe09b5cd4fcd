"""The bare discord.py bot of ``bench/discord.py``: the same interactions answered at
once with no work — ``/ticket new`` with the same options and the same form as ours
(the fields ours shows for the bench's category), a button or select with a short
message, a Resolve press with a one-field form. Its garbage collector is run as ours'
(``bot/collector.py``: start-up's heap frozen, full collections at quiet moments): with
CPython's defaults its own full collections (20–50 ms, 1–7 a run) fell inside rounds
and set its p99 at random — its p99 over two halves of its rounds (the noise floor)
ranged 0.2–8×. Started by ``python -m bench.discord --bare API GATEWAY`` in its own
process."""

from __future__ import annotations

from typing import Any, Literal


def serve_bare(api: str, gateway: str, guild: int) -> None:
    """Run the bare bot against the fake Discord at ``api`` / ``gateway`` until stopped."""
    import asyncio
    import time

    import discord
    import yarl
    from discord import app_commands

    from bot.collector import IdleCollector, freeze_startup_heap

    discord.http.Route.BASE = api
    # discord.py reads a command's options from its annotations, resolved as text in
    # this module's globals, where the bare bot's import is not
    globals()["discord"] = discord
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)

    class Form(discord.ui.Modal):
        def __init__(self, custom_id: str) -> None:
            super().__init__(title="Form", custom_id=custom_id, timeout=None)
            self.add_item(discord.ui.TextInput(label="Text", custom_id="text"))

        async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("Done.", ephemeral=True)

    class NewTicketForm(discord.ui.Modal):
        """The same form ours shows for the bench's category (subject, description,
        watchers; kept answerable as long), with nothing behind it."""

        def __init__(self, category: str) -> None:
            super().__init__(title=f"New ticket: {category}", timeout=1800.0)
            self.add_item(discord.ui.TextInput(
                label="Subject", custom_id="subject", max_length=140,
                placeholder="One line: what is it about?"))
            self.add_item(discord.ui.TextInput(
                label="Description", custom_id="description", max_length=4000,
                style=discord.TextStyle.paragraph))
            self.add_item(discord.ui.TextInput(
                label="Watchers (optional)", custom_id="cc", required=False,
                max_length=1000, placeholder="Members or e-mail addresses, separated by commas"))

    class Claim(discord.ui.DynamicItem[discord.ui.Button[Any]],
                template=r"ticket:claim:(?P<n>\d+)"):
        def __init__(self, n: int) -> None:
            super().__init__(discord.ui.Button(custom_id=f"ticket:claim:{n}"))

        @classmethod
        async def from_custom_id(cls, interaction: Any, item: Any, match: Any, /) -> Any:
            return cls(int(match["n"]))

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("You have it.", ephemeral=True)

    class Resolve(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"ticket:resolve:(?P<n>\d+)"):
        def __init__(self, n: int) -> None:
            super().__init__(discord.ui.Button(custom_id=f"ticket:resolve:{n}"))
            self.n = n

        @classmethod
        async def from_custom_id(cls, interaction: Any, item: Any, match: Any, /) -> Any:
            return cls(int(match["n"]))

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_modal(
                Form(f"ticket:form:resolve:{self.n}:{interaction.user.id}"))

    class Priority(discord.ui.DynamicItem[discord.ui.Select[Any]],
                   template=r"ticket:priority:(?P<n>\d+)"):
        def __init__(self, n: int) -> None:
            # the same menu as ours (adapters/discord/views.PrioritySelect)
            super().__init__(discord.ui.Select(
                custom_id=f"ticket:priority:{n}", placeholder="Priority",
                options=[discord.SelectOption(label=f"Priority: {p}", value=p)
                         for p in ("low", "normal", "high", "urgent")]))

        @classmethod
        async def from_custom_id(cls, interaction: Any, item: Any, match: Any, /) -> Any:
            return cls(int(match["n"]))

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("Done.", ephemeral=True)

    class Bare(discord.Client):
        def __init__(self) -> None:
            super().__init__(intents=discord.Intents.default())
            self.tree = app_commands.CommandTree(self)
            group = app_commands.Group(name="ticket", description="tickets", guild_only=True)

            @group.command(name="new", description="Open a ticket")
            @app_commands.rename(for_="for")
            async def new(interaction: discord.Interaction[Any], category: str,
                          priority: Literal["low", "normal", "high", "urgent"] | None = None,
                          account: str | None = None, subject: str | None = None,
                          shared: bool = False, for_: discord.Member | None = None,
                          watcher: discord.Member | None = None) -> None:
                await interaction.response.send_modal(NewTicketForm(category))

            self.tree.add_command(group, guild=discord.Object(guild))

        async def setup_hook(self) -> None:
            self.add_dynamic_items(Claim, Resolve, Priority)
            await self.tree.sync(guild=discord.Object(guild))
            freeze_startup_heap()
            self.collector = asyncio.create_task(
                IdleCollector(lambda: last_interaction[0]).run(asyncio.Event()))

        def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
            if event == "interaction":
                last_interaction[0] = time.monotonic()
            super().dispatch(event, *args, **kwargs)

    last_interaction = [0.0]  # time.monotonic() of the latest, for the collector
    Bare().run("bench-token", log_handler=None)
