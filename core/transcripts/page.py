"""The transcript as one self-contained HTML page, in the look of Discord ticket bots'
transcripts (a dark log: avatar, author, time, text; attachments as named links; status
changes as system lines).

Every piece of text goes through ``html.escape`` (quotes included); links are only
those ``safe_url`` kept. No scripts, no remote assets (system fonts, avatars drawn in
CSS from the author's initial), and a Content-Security-Policy that allows inline styles
only — so even a missed escape could not run script or fetch anything.
"""

from __future__ import annotations

from html import escape

from core.transcripts.history import Entry, Fact, iso, safe_url, size_text
from core.views import TicketView

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")
PALETTE = 8  # avatar colours, chosen from the author's name

STYLE = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; background: #313338; color: #dbdee1;
  font: 15px/1.4 "gg sans", "Noto Sans", "Helvetica Neue", Helvetica, Arial, sans-serif; }
header.ticket { background: #2b2d31; padding: 20px 24px; border-bottom: 1px solid #1e1f22; }
header .desk { color: #949ba4; font-size: 13px; text-transform: uppercase;
  letter-spacing: .04em; }
header h1 { margin: 6px 0 14px; font-size: 22px; color: #f2f3f5; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
  gap: 8px 20px; margin: 0; }
dl.facts div { min-width: 0; }
dt { color: #949ba4; font-size: 12px; text-transform: uppercase; }
dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; unicode-bidi: plaintext; }
.audience { margin: 14px 0 0; color: #949ba4; font-size: 13px; }
main.log { padding: 12px 0 24px; }
.message, .note { display: flex; gap: 14px; padding: 8px 24px; }
.message:hover, .note:hover { background: #2e3035; }
.note { background: #3a3223; border-left: 3px solid #f0b232; }
.avatar { flex: none; width: 40px; height: 40px; border-radius: 50%; color: #fff;
  display: flex; align-items: center; justify-content: center; font-weight: 600; }
.a0 { background: #5865f2; } .a1 { background: #3ba55c; } .a2 { background: #faa61a; }
.a3 { background: #ed4245; } .a4 { background: #eb459e; } .a5 { background: #1abc9c; }
.a6 { background: #9b59b6; } .a7 { background: #747f8d; }
.content { min-width: 0; flex: 1; }
.author { color: #f2f3f5; font-weight: 600; }
.tag { margin-left: 6px; padding: 0 5px; border-radius: 3px; font-size: 11px;
  background: #f0b232; color: #1e1f22; text-transform: uppercase; }
time, .via { color: #949ba4; font-size: 12px; margin-left: 6px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext;
  margin-top: 2px; }
ul.files { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: 8px; }
ul.files li { background: #2b2d31; border: 1px solid #1e1f22; border-radius: 6px;
  padding: 8px 12px; max-width: 420px; overflow-wrap: anywhere; }
ul.files .size { display: block; color: #949ba4; font-size: 12px; }
a { color: #00a8fc; text-decoration: none; } a:hover { text-decoration: underline; }
.system { padding: 4px 24px 4px 78px; color: #b5bac1; font-size: 14px; }
.system::before { content: "\\2192"; color: #3ba55c; margin-right: 8px; }
.system .text { color: #dbdee1; border-left: 3px solid #4e5058; padding-left: 8px;
  margin: 4px 0 2px; }
footer { padding: 12px 24px 24px; color: #949ba4; font-size: 12px;
  border-top: 1px solid #1e1f22; }
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _avatar(name: str) -> str:
    initial = next((c for c in name if c.isalnum()), "?").upper()
    colour = sum(map(ord, name)) % PALETTE  # stable across runs, unlike hash()
    return f'<div class="avatar a{colour}" aria-hidden="true">{_e(initial)}</div>'


def _time(entry: Entry) -> str:
    stamp = iso(entry.at)
    return f'<time datetime="{stamp}">{stamp.replace("T", " ").replace("Z", " UTC")}</time>'


def _files(entry: Entry) -> str:
    if not entry.attachments:
        return ""
    items = []
    for f in entry.attachments:
        url = safe_url(f.url)
        name = _e(f.name or "file")
        shown = (f'<a href="{_e(url)}" rel="noopener noreferrer nofollow">{name}</a>'
                 if url else f"<span>{name}</span>")
        items.append(f'<li>{shown}<span class="size">{_e(size_text(f.size))}</span></li>')
    return f'<ul class="files">{"".join(items)}</ul>'


def _text(body: str | None) -> str:
    return f'<div class="text">{_e(body)}</div>' if body else ""


def _entry(entry: Entry) -> str:
    if entry.style == "system":
        return (f'<div class="system"><bdi class="author">{_e(entry.author)}</bdi> '
                f"{_e(entry.summary)}{_time(entry)}{_text(entry.body)}</div>")
    tag = '<span class="tag">internal note</span>' if entry.style == "note" else ""
    return (f'<article class="{entry.style}">{_avatar(entry.author)}<div class="content">'
            f'<div class="meta"><bdi class="author">{_e(entry.author)}</bdi>{tag}'
            f'<span class="via">via {_e(entry.via)}</span>{_time(entry)}</div>'
            f"{_text(entry.body)}{_files(entry)}</div></article>")


def page(ticket: TicketView, facts: list[Fact], entries: list[Entry], *, desk_name: str,
         audience: str) -> str:
    """The whole HTML document (UTF-8 text) of one ticket's transcript."""
    title = f"#{ticket.number} · {ticket.subject}"
    facts_html = "".join(f"<div><dt>{_e(f.label)}</dt><dd>{_e(f.value)}</dd></div>"
                         for f in facts)
    said = sum(1 for e in entries if e.style != "system")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} — {_e(desk_name)} transcript</title>
<style>{STYLE}</style>
</head>
<body>
<header class="ticket">
<div class="desk">{_e(desk_name)} · ticket transcript</div>
<h1>{_e(title)}</h1>
<dl class="facts">{facts_html}</dl>
<p class="audience">As seen by {_e(audience)}. Times are UTC.</p>
</header>
<main class="log">
{chr(10).join(_entry(e) for e in entries)}
</main>
<footer>#{ticket.number} · {said} messages · {len(entries)} entries</footer>
</body>
</html>
"""
