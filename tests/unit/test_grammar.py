"""Issue 9 point 4: one ``/ticket`` grammar (core/grammar.py), one rule per test."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import commands as cmd
from core import grammar
from core.errors import Invalid, every_problem
from core.form_fields import watcher_words
from core.grammar import (
    AssignTo,
    Help,
    ListTickets,
    NewForm,
    Queue,
    Search,
    Show,
    Stats,
    Transcript,
    parse,
    parse_listing,
)
from core.tickets import LinkKind


def refused(text: str, field: str, *, thread: int | None = None, keys: tuple[str, ...] = ()
            ) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse(text, thread=thread, field_keys=keys)
    assert caught.value.field == field, caught.value
    return caught.value


# ---- ticket numbers outside a thread ----------------------------------------------

@pytest.mark.parametrize("text", ["show 12", "show #12", "show 000000012"])
def test_a_ticket_is_n_or_hash_n(text: str) -> None:
    assert parse(text) == Show(12)


@pytest.mark.parametrize("word", ["1x", "-1", "+1", "abc", "0x10", "3" * 30, "0", "#0", "#",
                                  "1234567890", "١٢", "²", "#-3", "1.5"])
def test_anything_else_where_a_ticket_goes_is_refused_by_name(word: str) -> None:
    for command in ("show", "claim", "reply", "priority", "close"):
        refused(f"{command} {word} high", "number")


def test_nine_digits_are_a_number_ten_are_not() -> None:
    assert parse("claim 999999999") == cmd.Claim(999_999_999)
    assert "at most 9 digits" in refused("claim 1000000000", "number").reason


def test_a_ticket_must_be_named_outside_a_thread() -> None:
    for command in ("show", "claim", "reply", "close", "priority", "assign", "link"):
        assert "say which ticket" in refused(command, "number").reason


# ---- inside a thread -------------------------------------------------------------------

def test_in_a_thread_text_commands_read_every_other_word_as_text() -> None:
    assert parse("reply 2 weeks is the usual time", thread=1) == \
        cmd.Reply(1, "2 weeks is the usual time")
    assert parse("reply #2 thanks", thread=1) == cmd.Reply(2, "thanks")
    assert parse("note #1 mine", thread=1) == cmd.Note(1, "mine")
    assert parse("wait which order?", thread=5) == cmd.RequestInfo(5, "which order?")
    assert parse("hold 3rd party", thread=5) == cmd.Hold(5, "3rd party")
    assert parse("resolve #7 Fixed it", thread=5) == cmd.Resolve(7, "Fixed it")
    assert parse("escalate 1x bigger", thread=5) == cmd.Escalate(5, "1x bigger")
    assert parse("close", thread=5) == cmd.Close(5, None)
    assert parse("close 2 duplicates", thread=5) == cmd.Close(5, "2 duplicates")


def test_outside_a_thread_text_commands_take_the_ticket_then_the_text() -> None:
    assert parse("reply 2 weeks is the usual time") == cmd.Reply(2, "weeks is the usual time")
    assert parse("close #4") == cmd.Close(4, None)
    refused("reply weeks", "number")


def test_in_a_thread_a_command_without_text_takes_hash_n_or_this_ticket() -> None:
    assert parse("claim", thread=1) == cmd.Claim(1)
    assert parse("claim 1", thread=1) == cmd.Claim(1)
    assert parse("claim #2", thread=1) == cmd.Claim(2)
    assert parse("show", thread=3) == Show(3)
    assert parse("transcript", thread=3) == Transcript(3)
    for command in ("unassign", "reopen", "resume"):
        assert parse(command, thread=3).number == 3  # type: ignore[union-attr]


def test_in_a_thread_another_bare_number_is_refused_with_a_hint() -> None:
    err = refused("claim 2", "number", thread=1)
    assert "#2" in err.reason
    refused("claim 1x", "number", thread=1)
    refused("show 0", "number", thread=1)
    # the hint is the whole command to type, its argument kept
    assert "(/ticket priority #2 urgent)" in refused("priority 2 urgent", "number",
                                                     thread=1).reason
    assert "(/ticket priority #2 …)" in refused("priority 2 \x07", "number", thread=1).reason


def test_fixed_arguments_follow_the_ticket_rule_then_parse_strictly() -> None:
    assert parse("priority 4 URGENT") == cmd.SetPriority(4, "urgent")
    assert parse("priority high", thread=4) == cmd.SetPriority(4, "high")
    assert parse("priority #5 low", thread=4) == cmd.SetPriority(5, "low")
    assert "#5" in refused("priority 5 low", "number", thread=4).reason
    assert "'extreme'" in refused("priority 4 extreme", "priority").reason
    refused("priority 4", "priority")
    assert parse("assign 4 @sam") == AssignTo(4, "@sam")
    assert parse("assign sam", thread=4) == AssignTo(4, "sam")
    refused("assign 4", "assignee")
    assert parse("link 4 related 5") == cmd.Link(4, LinkKind.RELATED, 5)
    assert parse("link duplicate_of #5", thread=4) == cmd.Link(4, LinkKind.DUPLICATE_OF, 5)
    refused("link 4 follow_up_of 5", "link")
    refused("link 4 related", "link")
    refused("link 4 related 5x", "link")


# ---- left-over words ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "field"), [
    ("show 2 3", "show"), ("claim 2 now", "claim"), ("list open junk", "list"),
    ("priority 2 high now", "priority"), ("assign 2 sam ann", "assign"),
    ("link 2 related 3 4", "link"), ("queue all", "queue"), ("help me", "help"),
    ("claim now", "claim"),
])
def test_words_left_over_are_refused_never_ignored(text: str, field: str) -> None:
    thread = 2 if text == "claim now" else None
    if text == "claim now":
        refused(text, "number", thread=thread)  # "now" is not a ticket, not "this one"
    else:
        refused(text, field)


# ---- list, search, stats, unknown ---------------------------------------------------------

def test_list_words() -> None:
    assert parse("list") == ListTickets()
    assert parse("LIST closed mine unread page 2") == ListTickets("closed", True, False, True, 2)
    refused("list open closed", "list")
    refused("list mine mine", "list")
    refused("list mine org", "list")
    refused("list page", "page")
    refused("list page 0", "page")


def test_search_takes_the_query_as_typed_and_refuses_an_open_quote() -> None:
    assert parse('search refund "double charge" -paypal #3') == \
        Search('refund "double charge" -paypal #3')
    assert parse("search can't log in") == Search("can't log in")
    refused('search "double charge', "search")
    refused("search", "search")


def test_an_empty_list_names_every_filter_asked_for() -> None:
    assert parse("list").nothing() == "No open tickets."
    assert parse("list all").nothing() == "No tickets."
    assert parse("list open unread").nothing() == "No unread open tickets."
    assert parse("list closed mine").nothing() == "No closed tickets of yours."
    assert parse("list all org unread").nothing() == "No unread tickets in your organisation."


def test_queue_help_stats_and_an_empty_command() -> None:
    assert parse("queue") == Queue() and parse("help") == Help()
    assert parse("queue page 3") == Queue(3) and parse("QUEUE Page 2") == Queue(2)
    refused("queue later", "queue")
    refused("queue page", "page")
    refused("queue page 0", "page")
    refused("queue page 2 more", "queue")
    assert parse("") == NewForm() and parse("   ") == NewForm()
    assert parse("stats 7d") == Stats("7d") and parse("stats") == Stats("30d")
    refused("stats 8d", "period")


def test_an_unknown_command_is_named_with_control_characters_escaped() -> None:
    err = refused("fro\x07b\u202e", "command")
    assert "\\u0007" in err.reason and "\x07" not in err.message
    assert "\u202e" not in err.message


# ---- quoting ------------------------------------------------------------------------------

def test_quotes_group_words_and_an_apostrophe_inside_a_word_is_a_letter() -> None:
    form = parse("new subject=\"Can't log in\" description='It says \"no\"' Category=general")
    assert form == NewForm("Can't log in", {"description": 'It says "no"',
                                            "category": "general"})
    assert parse("new Can't log in") == NewForm("Can't log in")
    assert parse("new \u201cSmart quotes\u201d") == NewForm("Smart quotes")


def test_an_unbalanced_quote_is_refused_by_name() -> None:
    refused('new subject="Can\'t log in', "subject")
    refused('new description="oops category=general', "description")
    refused('new "oops', "subject")
    refused('priority "4 high', "number")
    # the quote that seems to close `subject` opens `description`: nothing is swallowed
    refused('new subject="unterminated description="d"', "subject")
    refused("new category=general subject='no end priority='high'", "subject")
    assert parse('new subject="a = b" description="x"') == NewForm(
        "a = b", {"description": "x"})


def test_nothing_typed_is_dropped_or_joined_silently() -> None:
    # a backslash escapes a quote inside double quotes, as in a shell
    assert parse('new subject="escaped \\"quote\\"" description=d') == NewForm(
        'escaped "quote"', {"description": "d"})
    assert parse(r'new subject="C:\\temp" description=d').subject == "C:\\temp"
    # a closing quote glued to the next word would join the two
    refused('new subject="x"description="y"', "subject")
    # several words are the subject as typed, quotes and all; one quoted phrase is not
    assert parse('new He said "hi" description=d category=general').subject == 'He said "hi"'
    assert parse('new "Printer on fire"').subject == "Printer on fire"
    # a word with "=" that is no key=value (a URL) is part of the subject
    assert parse("new Login fails at https://x.test/?a=1&b=2 category=general") == NewForm(
        "Login fails at https://x.test/?a=1&b=2", {"category": "general"})
    refused("new categry=general", "categry")  # a misspelt key is not taken as subject
    refused("new for:@bob for:@carl", "for")


def test_free_text_is_taken_exactly_as_written() -> None:
    text = 'He said "it\'s  broken"\nsince\tMonday'
    assert parse(f"note 3 {text}") == cmd.Note(3, text)


# ---- new -----------------------------------------------------------------------------------

def test_new_for_only_as_its_first_word() -> None:
    assert parse("new for:@lena Laptop broken") == NewForm("Laptop broken", {}, "@lena")
    assert parse("for:lena") == NewForm(None, {}, "lena")
    assert parse("new Waiting for: payout") == NewForm("Waiting for: payout")
    refused("new for: payout", "for")


def test_new_fields_any_case_unknown_or_twice_refused_by_name() -> None:
    form = parse("new CATEGORY=refund Receipt=RC-1 visibility=shared priority=High",
                 field_keys=("receipt",))
    assert form == NewForm(None, {"category": "refund", "receipt": "RC-1",
                                  "share": "shared", "priority": "High"})
    refused("new colour=red", "colour")
    refused("new receipt=1", "receipt")  # no category has it here
    refused("new subject=a Subject=b", "subject")
    refused("new share=yes visibility=private", "visibility")  # the second, as typed
    refused("new =x", "command")
    # not key=value (no key can hold a control character): a subject word, refused
    # where subjects are checked (core.validation), never echoed raw
    assert parse("new ba\x07d=1").subject == "ba\x07d=1"
    err = refused('new subject="Refund" stray', "new")
    assert "'stray'" in err.reason


@pytest.mark.parametrize("typed", ["category=", "Subject=", "description=", "priority=",
                                   "account=", "share=", "cc=", "receipt=", "CARD_LAST4=",
                                   'account=""', "account=''", 'account="  "'])
def test_new_refuses_a_typed_key_with_nothing_after_it(typed: str) -> None:
    """README "An empty value is refused": ``key=`` is never read as "not given"."""
    key = typed.partition("=")[0].lower()
    given = " ".join(f"{k}={v}" for k, v in (("category", "refund"), ("subject", '"e1"'),
                                              ("description", '"x"')) if k != key)
    err = refused(f"new {given} {typed}", key, keys=("receipt", "card_last4"))
    assert err.reason.startswith("is empty; "), err.reason


def test_an_empty_value_says_what_the_field_takes() -> None:
    assert refused("new priority=", "priority").reason == (
        "is empty; say one of low, normal, high, urgent")  # core.validation's words
    assert refused("new account=", "account").reason == (
        "is empty; write a value after account= or leave it out")
    assert "leave category= out to be asked" in refused("new category=", "category").reason
    assert refused("new share=", "share").reason == "is empty; say yes or no"
    # an alias is named as typed, with what it takes
    assert refused("new Visibility=", "visibility").reason == (
        "is empty; say private or shared")
    # a field not typed at all is simply not given
    assert parse("new category=general Printer").fields == {"category": "general"}


def test_every_empty_value_of_the_line_is_named() -> None:
    err = refused('new category=general subject="" priority= share=maybe', "subject")
    assert [p.field for p in every_problem(err)] == ["subject", "priority", "share"]
    assert str(err).startswith("subject: is empty; ") and "; share: 'maybe'" in str(err)


def test_visibility_and_share_name_the_key_typed_and_what_it_takes() -> None:
    err = refused('new category=general subject="e7" description="x" visibility=bogus',
                  "visibility")
    assert err.reason == "'bogus' is not a visibility; say private or shared"
    assert refused("new share=maybe", "share").reason == (
        "'maybe' is not yes or no; say yes or no")
    for value in ("private", "SHARED", "yes", "no"):
        assert parse(f"new visibility={value}").fields == {"share": value}
        assert parse(f"new share={value}").fields == {"share": value}


def test_ticket_number_rule_is_shared() -> None:
    assert grammar.ticket_number("#7") == 7
    with pytest.raises(Invalid):
        grammar.ticket_number("7 ")


def test_only_blanks_and_unicode_spaces_separate_words() -> None:
    assert parse("claim\u30003") == cmd.Claim(3)  # an ideographic space separates
    refused("claim\x1d3", "command")  # a group separator is no space: refused by name
    assert parse("note 3 text\x1c").text == "text\x1c"  # kept, for validation to refuse


def test_a_more_control_carries_the_listing_and_reads_it_back() -> None:
    """The words a "more" button carries (issue 12, point 2) name the same listing's next
    page; anything else a forged control could carry is refused."""
    for request in (ListTickets(), ListTickets("closed", True, False, True, 4),
                    ListTickets("all", org=True), Queue(), Queue(7),
                    Search('"page 2" -x status:open'), Search("printer page 3", 2)):
        words = request.words(request.page + 1)
        if not isinstance(request, Search):  # a search's words are as long as typed
            assert len(words) <= 60  # with "more:", inside Discord's 100-character custom_id
        assert parse_listing(words) == replace(request, page=request.page + 1)
    assert ListTickets("all", org=True).words(2) == "list all org page 2"
    for forged in ("close 5", "note 5 hi", "new", "show 1", "list page 0", "queue now"):
        with pytest.raises(Invalid):
            parse_listing(forged)


def test_a_search_ends_with_its_page() -> None:
    assert parse("search printer jam page 2") == Search("printer jam", 2)
    assert parse("search printer PAGE 12  ") == Search("printer", 12)
    assert parse("search page 2") == Search("page 2")  # nothing else: the words
    assert parse('search "see page 2"') == Search('"see page 2"')  # quoted: the words
    assert parse("search page 2 of the manual") == Search("page 2 of the manual")
    refused("search printer page 0", "page")


def test_in_its_own_thread_a_tickets_number_before_text_names_it() -> None:
    """A new user in #1's thread typed ``reply 1 Hi Ana``: the number is the ticket's, as
    it would be outside; another number is text (PRODUCT.md §4), ``#N`` another ticket."""
    assert grammar.parse("reply 1 Hi Ana", thread=1) == cmd.Reply(1, "Hi Ana")
    assert grammar.parse("resolve 1 Tag reinstalled", thread=1) == cmd.Resolve(
        1, "Tag reinstalled")
    assert grammar.parse("reply 2 weeks is usual", thread=1) == cmd.Reply(1, "2 weeks is usual")
    assert grammar.parse("reply 1", thread=1) == cmd.Reply(1, "1")
    assert grammar.parse("reply #2 hello", thread=1) == cmd.Reply(2, "hello")


@pytest.mark.parametrize("text", [
    'new category=refund subject="R" description="D" receipt=RC-1 stray',
    'new category=refund subject="R" stray description="D"'])
def test_a_word_that_cannot_be_placed_is_refused_by_name(text: str) -> None:
    """It once blamed the subject: "subject: is given twice (also as the words …)"."""
    with pytest.raises(Invalid) as caught:
        parse(text, field_keys=("receipt",))
    assert caught.value.field == "new"
    assert caught.value.reason.startswith("'stray' cannot be placed: ")


def test_a_new_forms_fields_remember_the_key_as_typed() -> None:
    form = parse("new visibility=private Subject")
    assert isinstance(form, NewForm)
    assert form.fields == {"share": "private"} and form.named("share") == "visibility"
    assert form.named("category") == "category"


def test_a_space_before_the_equals_sign_names_the_field() -> None:
    """A new user's trial: `subject = "x"` was refused as `command: '=' …`."""
    err = refused('new category=general subject = "Printer"', "subject")
    assert "no space before '='" in err.reason
    refused("new = x", "command")  # no field before it: the command is what is wrong


def test_a_watchers_field_lists_its_words_and_refuses_one_naming_no_one() -> None:
    """The shell's ``cc=``, Discord's watchers field and Slack's e-mail field read one
    way (``core.form_fields.watcher_words``): ``",,"`` was taken as no watchers."""
    assert watcher_words(" ann, ,bo@example.com ,") == ["ann", "bo@example.com"]
    assert watcher_words("") == [] and watcher_words("   ") == []
    with pytest.raises(Invalid) as refused:
        watcher_words(",,", "cc_emails")
    assert refused.value.field == "cc_emails"
    assert refused.value.reason.startswith("',,' names no one")
