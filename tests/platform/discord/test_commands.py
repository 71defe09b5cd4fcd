"""The other ``/ticket`` subcommands: reading, the queue, transcripts, assignment, help."""

from __future__ import annotations

from tests.platform.discord.conftest import World, open_ticket, told


async def test_list_show_search_and_transcript_for_the_requester(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice, subject="Printer on fire", description="Smoke")
    await open_ticket(w, w.dave, subject="Dave's own", description="Not for Alice")
    await w.deliver()

    listed = await w.alice.slash(w.support, "ticket list")
    assert listed.ephemeral
    assert f"**#{n}** [Open] Printer on fire" in listed.response.content
    assert "Dave's own" not in listed.response.content

    shown = await w.alice.slash(w.ticket_thread(n), "ticket show")  # number from the thread
    embed = shown.response.embeds[0]
    assert embed.title == f"#{n} · Printer on fire"
    threads = {f.name: f.value for f in embed.fields}["Threads"]
    assert str(w.ticket_thread(n).id) in threads and "team thread" not in threads

    found = await w.alice.slash(w.support, "ticket search", query="printer")
    assert f"#{n}**" in found.response.content
    hidden = await w.alice.slash(w.support, "ticket search", query="Dave's")
    assert hidden.response.content == "Nothing found."
    refused = await w.alice.slash(w.support, "ticket show", number=2)
    assert told(refused).content == "Refused: there is no ticket #2 you can see"

    await w.alice.send(w.ticket_thread(n), "It is still smoking <script>alert(1)</script>")
    await w.bob.send(w.team_thread(n), "Internal: smoke is normal for this model")
    transcript = await w.alice.slash(w.support, "ticket transcript", number=n)
    assert transcript.ephemeral and transcript.response.content == \
        f"Transcript of #{n}, as of now."
    page, markdown = transcript.response.attachments
    assert (page.filename, markdown.filename) == (f"ticket-{n}-transcript.html",
                                                  f"ticket-{n}-transcript.md")
    html = (await page.read()).decode()
    assert html.startswith("<!DOCTYPE html>") and "Printer on fire" in html
    assert "still smoking &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "smoke is normal" not in html
    assert "smoke is normal" not in (await markdown.read()).decode()
    theirs = await w.bob.slash(w.team, "ticket transcript", number=n)
    assert theirs.ephemeral
    assert "smoke is normal" in (await theirs.response.attachments[0].read()).decode()


async def test_agents_queue_assign_wait_and_resume_by_command(world: World) -> None:
    w = world
    n = await open_ticket(w, w.alice)
    await w.deliver()
    queue = await w.bob.slash(w.team, "ticket queue")
    assert f"**#{n}**" in queue.response.content
    assigned = await w.bob.slash(w.team_thread(n), "ticket assign", agent=w.erin)
    assert assigned.response.content == f"Done: #{n} is assigned to Erin."
    asked = await w.erin.slash(w.team_thread(n), "ticket wait", question="Which browser?")
    assert asked.response.content == f"Done: #{n} is waiting on the requester."
    await w.deliver()
    assert w.ticket_thread(n).history(viewer=w.erin), "the assignee joined the ticket thread"
    await w.alice.send(w.ticket_thread(n), "Firefox")  # the requester's answer resumes it
    await w.deliver()
    card = {f.name: f.value for f in w.team_card(n).embeds[0].fields}
    assert card["Status"] == "In progress" and card["Assignee"] == "Erin"
    outside = await w.bob.slash(w.team, "ticket claim")
    assert outside.response.content == ("**number**: say which ticket (or use the command "
                                        "inside its thread)")


async def test_help_lists_the_commands(world: World) -> None:
    shown = await world.dave.slash(world.support, "ticket help")
    assert shown.ephemeral and "/ticket new" in shown.response.content
