"""How often deflection offers the right past ticket, per ranking (issue 12, point 3).

    .venv/bin/python -m bench.deflection [--resolved 1500] [--queries 150]
                                         [--engine sqlite|postgres|both] [--pg DSN]

A generator writes resolved tickets of an affiliate network's desk straight into a
migrated database (migration 0007's triggers index them as the desk's writes would):
problems across six categories, each told in several wordings, with the details that
tell one case from another (a shop, a browser, an order number, a month, a currency).
Then new tickets each paraphrase one resolved ticket — another wording of the same
problem, words swapped for synonyms, some of its details kept — labelled with their
source. For each ranking (``fulltext``; ``semantic`` when the ``wordllama`` package is
installed) it prints how often the source is among the 3 past tickets the requester's
receipt offers (hit@3; hit@1 beside it) — and, since a paraphrase that forgot the one
detail telling its source from its twins cannot single it out, how often a past ticket of
the same problem (the same resolution) is among them (answer@3) — and the latency of the
whole deflection of one new ticket (``core.deflection.deflect``: the requester's and the
agents' reads, and the embedding of the new ticket for ``semantic``), p50 and p95.
Bounded: under two minutes with the defaults on both engines.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.databases import throwaway_postgres
from core.config import DeflectionSection
from core.deflection import deflect
from core.identity import Person, UserRef
from core.semantic import MODEL, WordLlamaEmbedder, embedder_for
from core.store.engine import make_engine
from core.store.migrate import upgrade_async
from core.store.sql import SqlStores
from core.tickets import Status, Ticket, Visibility
from core.visibility import Viewer
from tests.support.people import desk_config

PG_ADMIN_DSN = os.environ.get("HELPTHREAD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ORG = "acme"
ASKER = UserRef("shell", ORG, "newcomer")  # opens the paraphrases; sees the org's shared

SHOPS = ["acme-shoes", "bluefin-outdoor", "cedar-home", "dune-coffee", "ember-games",
         "fjord-knits", "granite-tools", "harbor-pets", "iris-beauty", "juniper-books",
         "kestrel-bikes", "lumen-lamps", "maple-toys", "nimbus-audio", "orchid-tea"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Brave"]
NETWORKS = ["Shopify", "WooCommerce", "Magento", "BigCommerce", "Wix"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK"]

# Each problem: category, wordings of the subject and of the description (slots filled
# per ticket), the resolution note. Wordings differ in their words, not just their order.
PROBLEMS: list[tuple[str, list[str], list[str], str]] = [
    ("technical", ["Tracking pixel not firing on {shop}", "Conversions missing for {shop}"],
     ["Since we moved the {network} checkout of {shop} to a new domain, the pixel records "
      "no sales in {browser}.", "Our {network} store {shop} stopped reporting conversions "
      "after the checkout domain changed; tested in {browser}."],
     "The pixel was still on the old checkout domain; re-installed the tag."),
    ("technical", ["Postback URL returns 404 for {shop}", "Server-to-server callback fails"],
     ["Our postback for {shop} gets HTTP 404 from your endpoint since {month}.",
      "The S2S callback of {shop} is rejected with not found errors, started in {month}."],
     "The postback path had a trailing slash; corrected the URL template."),
    ("technical", ["Deep links open the home page ({shop})", "Product links land on start"],
     ["Deep links for {shop} send shoppers to the home page instead of the product in "
      "{browser}.", "Every product link we share for {shop} ends up on the start page, "
      "seen in {browser}."],
     "The redirect dropped the path parameter; enabled deep linking on the campaign."),
    ("technical", ["API key rejected", "API returns 401 for {shop}"],
     ["The reporting API answers 401 unauthorized with the key for {shop} since {month}.",
      "Our script for {shop} cannot authenticate to the API any more: unauthorized since "
      "{month}."], "The key was rotated; issued a new API key and updated the docs."),
    ("technical", ["Banner not loading on {shop}", "Creative images broken in {browser}"],
     ["The banner creatives for {shop} show as broken images in {browser}.",
      "Ad images of {shop} do not render in {browser}; the placeholder icon shows."],
     "The CDN blocked hotlinking from the new domain; whitelisted it."),
    ("account", ["Cannot log in after password reset", "Login fails for {shop} manager"],
     ["The reset link says expired every time I try to sign in for {shop} in {browser}.",
      "I reset my password for the {shop} account but the sign-in page keeps saying the "
      "link expired, using {browser}."], "Reset links last 30 minutes; sent a fresh one."),
    ("account", ["Two-factor codes not accepted", "2FA code invalid for {shop}"],
     ["The authenticator codes for the {shop} account are always rejected as invalid.",
      "Every two-factor code I type for {shop} is refused, the phone clock is right."],
     "The account's 2FA secret was out of sync; reset two-factor authentication."),
    ("account", ["Add a second user to {shop}", "Invite a colleague to our account"],
     ["We need another login for our marketing manager at {shop}.",
      "How can a colleague at {shop} get their own access to the dashboard?"],
     "Added the user with the reporting role; the invite e-mail is on its way."),
    ("account", ["Account locked after failed attempts", "{shop} account is blocked"],
     ["After several wrong passwords the {shop} account is locked out.",
      "Our {shop} login is blocked since {month} after too many attempts."],
     "Unlocked the account; it unlocks by itself after 24 hours as well."),
    ("data", ["Payout report shows zero for {month}", "Empty earnings report {month}"],
     ["The monthly payout report for {shop} is empty for {month} in {currency}.",
      "Our earnings report of {month} for {shop} lists nothing, the currency is "
      "{currency}."], "The report was filtered to the wrong currency; switched it."),
    ("data", ["Clicks and sales do not match for {shop}", "Conversion rate looks wrong"],
     ["For {shop} the dashboard shows many clicks in {month} but far fewer sales than "
      "our {network} shop.", "The numbers of {shop} differ: {network} counts more orders "
      "in {month} than your report."],
     "Sales were attributed to the last click of another partner; explained the rules."),
    ("data", ["CSV export is missing columns", "Export of {shop} data incomplete"],
     ["The CSV export for {shop} has no sub ID column since {month}.",
      "When we download the {month} data of {shop} the sub ID field is gone."],
     "Sub IDs are an optional column now; enabled it in the export settings."),
    ("data", ["Dashboard time zone is wrong", "Stats of {shop} shifted by hours"],
     ["The daily stats of {shop} look shifted, sales from evening show on the next day.",
      "Our {shop} figures appear under the wrong day, as if the clock were off."],
     "The dashboard was on UTC; set the account time zone."),
    ("billing", ["Invoice address wrong for {shop}", "Old street on our invoice"],
     ["The {month} invoice of {shop} still shows our old street address.",
      "Our {shop} bill for {month} has the previous company address on it."],
     "Updated the billing address and re-issued the invoice."),
    ("billing", ["VAT missing on invoice", "Tax number not shown for {shop}"],
     ["Our VAT ID is not printed on the {month} invoice for {shop}.",
      "The tax number of {shop} is missing from the {month} bill."],
     "Added the VAT ID to the billing profile and re-issued the invoice."),
    ("billing", ["Charged twice for the monthly fee", "Double subscription charge {shop}"],
     ["The card of {shop} was charged twice for the {month} subscription in {currency}.",
      "We paid the {month} fee two times for {shop}, both in {currency}."],
     "Refunded the duplicate charge; it reaches the card in 5-10 business days."),
    ("billing", ["Payment failed with {currency} card", "Card declined for {shop}"],
     ["Paying the {month} invoice of {shop} fails, the {currency} card is declined.",
      "Our card in {currency} is refused when {shop} pays the {month} bill."],
     "The card's bank blocked the foreign charge; paid by bank transfer instead."),
    ("refund", ["Refund for a returned order at {shop}", "Money back for return"],
     ["A customer of {shop} returned order {order} but the commission is still counted.",
      "Order {order} at {shop} came back, yet we are still paying commission on it."],
     "Reversed the commission of the returned order."),
    ("refund", ["Where is my refund from {month}", "Refund not received yet"],
     ["The refund promised in {month} for {shop} has not reached our {currency} account.",
      "We still wait for the {month} money back for {shop}, currency {currency}."],
     "The refund was sent to an old IBAN; re-sent it to the current account."),
    ("refund", ["Chargeback on order {order}", "Disputed payment for {shop}"],
     ["A shopper disputed order {order} at {shop} with their bank.",
      "The bank of a buyer opened a dispute on {shop} order {order}."],
     "Sent the delivery proof to the bank; the chargeback was withdrawn."),
    ("general", ["How do commission tiers work", "Question about tier rates for {shop}"],
     ["What does {shop} need to reach the next commission tier in {month}?",
      "Could you explain how {shop} moves up to a higher rate tier in {month}?"],
     "Tiers go by the previous month's sales; sent the rate card."),
    ("general", ["Change the payout currency to {currency}", "Get paid in {currency}"],
     ["Can {shop} receive payouts in {currency} from {month} on?",
      "We would like the earnings of {shop} in {currency} starting {month}."],
     "Switched the payout currency; it applies from the next payout."),
    ("general", ["Close the account of {shop}", "Cancel our partnership"],
     ["{shop} is closing down in {month}; please end the account.",
      "We stop trading as {shop} in {month} and want to cancel."],
     "Scheduled the account closure after the final payout."),
]

SYNONYMS = {"stopped": "quit", "shows": "displays", "missing": "absent", "wrong": "incorrect",
            "since": "ever since", "fails": "does not work", "new": "different",
            "customer": "buyer", "want": "would like", "please": "kindly",
            "still": "yet", "our": "the", "every": "each", "cannot": "can't",
            "empty": "blank", "refused": "declined", "invoice": "bill", "bill": "invoice"}


@dataclass(frozen=True)
class Case:
    problem: int
    slots: dict[str, str]


def fill(template: str, slots: dict[str, str]) -> str:
    return template.format(**slots)


def make_case(rng: random.Random, problem: int) -> Case:
    return Case(problem, {"shop": rng.choice(SHOPS), "browser": rng.choice(BROWSERS),
                          "network": rng.choice(NETWORKS), "month": rng.choice(MONTHS),
                          "currency": rng.choice(CURRENCIES),
                          "order": str(rng.randint(10000, 99999))})


def told(rng: random.Random, case: Case, wording: int) -> tuple[str, str]:
    _, subjects, descriptions, _ = PROBLEMS[case.problem]
    return (fill(subjects[wording % len(subjects)], case.slots),
            fill(descriptions[wording % len(descriptions)], case.slots))


VAGUE = {"shop": "our shop", "browser": "the browser", "network": "the shop system",
         "month": "last month", "currency": "our currency", "order": "one order"}


def paraphrase(rng: random.Random, case: Case, wording: int) -> tuple[str, str]:
    """The case told in the other wording, with synonyms, one of its details left vague
    (as people retell a problem: most specifics kept, one forgotten)."""
    _, subjects, descriptions, _ = PROBLEMS[case.problem]
    used = sorted(set(re.findall(r"{(\w+)}", "".join(subjects + descriptions))))
    kept = dict(case.slots)
    forgotten = rng.choice(used)
    kept[forgotten] = VAGUE[forgotten]
    subject, description = told(rng, Case(case.problem, kept), wording + 1)
    swap = re.compile(r"\b(" + "|".join(SYNONYMS) + r")\b")
    return (swap.sub(lambda m: SYNONYMS[m.group(1)], subject),
            swap.sub(lambda m: SYNONYMS[m.group(1)], description))


def tickets(resolved: int, seed: int = 11) -> tuple[list[Ticket], list[tuple[int, Case]]]:
    rng = random.Random(seed)
    out, cases = [], []
    for number in range(1, resolved + 1):
        case = make_case(rng, rng.randrange(len(PROBLEMS)))
        subject, description = told(rng, case, rng.randrange(2))
        requester = Person(UserRef("shell", ORG, f"user{rng.randrange(400)}"), "someone")
        at = T0 + timedelta(minutes=number)
        out.append(Ticket(number=number, subject=subject, description=description,
                          category=PROBLEMS[case.problem][0], priority="normal",
                          requester=requester, opened_at=at, source="shell",
                          status=Status.RESOLVED, visibility=Visibility.SHARED,
                          resolved_at=at + timedelta(hours=2), last_activity_at=at,
                          resolution=PROBLEMS[case.problem][3]))
        cases.append((number, case))
    return out, cases


async def seed(url: str, rows: list[Ticket], semantic: bool) -> SqlStores:
    await upgrade_async(url)
    stores = SqlStores(make_engine(url))
    embedder = WordLlamaEmbedder() if semantic else None
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        vectors = embedder.embed_many([f"{t.subject}\n{t.description}" for t in batch]) \
            if embedder is not None else []
        async with stores.transaction() as store:
            for ticket in batch:
                await store.add_ticket(ticket)
            for ticket, vector in zip(batch, vectors, strict=False):
                await store.add_embedding(ticket.number, MODEL, vector)
    return stores


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(stores: SqlStores, ranking: str, queries: list[tuple[int, str, str]],
                  problem_of: dict[int, int]) -> tuple[float, float, float, float, float]:
    """hit@3, hit@1, answer@3, p50 ms, p95 ms of ``ranking`` over ``queries``."""
    config = desk_config(deflection=DeflectionSection(ranking=ranking))  # type: ignore[arg-type]
    embedder = embedder_for(config)
    viewer = Viewer(ASKER, is_agent=False)
    hits3 = hits1 = answers = 0
    took: list[float] = []
    for source, subject, description in queries:
        start = time.perf_counter()
        async with stores.reading() as store:
            found = await deflect(store, config, viewer, subject, description, embedder)
        took.append((time.perf_counter() - start) * 1000)
        numbers = [p.number for p in found.helpful]
        hits3 += source in numbers[:3]
        hits1 += numbers[:1] == [source]
        answers += any(problem_of[n] == problem_of[source] for n in numbers[:3])
    n = len(queries)
    return hits3 / n, hits1 / n, answers / n, statistics.median(took), pct(took, 95)


async def run_engine(name: str, url: str, rows: list[Ticket],
                     queries: list[tuple[int, str, str]], rankings: list[str],
                     problem_of: dict[int, int]) -> None:
    start = time.perf_counter()
    stores = await seed(url, rows, "semantic" in rankings)
    print(f"{name}: {len(rows)} resolved tickets stored in {time.perf_counter() - start:.1f} s")
    try:
        for ranking in rankings:
            hit3, hit1, answer3, p50, p95 = await measure(stores, ranking, queries,
                                                          problem_of)
            print(f"| {name} | {ranking} | {len(rows)} | {len(queries)} | {hit3:.0%} | "
                  f"{hit1:.0%} | {answer3:.0%} | {p50:.1f} | {p95:.1f} |")
    finally:
        await stores.engine.dispose()


async def main(args: argparse.Namespace) -> None:
    rows, cases = tickets(args.resolved)
    rng = random.Random(5)
    picked = rng.sample(cases, k=min(args.queries, len(cases)))
    queries = [(number, *paraphrase(rng, case, rng.randrange(2))) for number, case in picked]
    rankings = ["fulltext"]
    if importlib.util.find_spec("wordllama") is not None:
        rankings.append("semantic")
    else:
        print("semantic: skipped, the wordllama package (helpthread[semantic]) is not "
              "installed")
    source, subject, description = queries[0]
    print(f"example paraphrase of #{source}: {subject} / {description}")
    problem_of = {number: case.problem for number, case in cases}
    print("| engine | ranking | resolved | queries | hit@3 | hit@1 | answer@3 | p50 ms | "
          "p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    if args.engine in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await run_engine("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                             rows, queries, rankings, problem_of)
    if args.engine in ("postgres", "both"):
        async with throwaway_postgres(args.pg) as url:
            await run_engine("PostgreSQL", url, rows, queries, rankings, problem_of)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resolved", type=int, default=1500)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg", default=PG_ADMIN_DSN)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
