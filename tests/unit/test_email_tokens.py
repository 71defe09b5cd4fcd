"""Reply tokens and the ``[email]`` section (issue 13 points 3–4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.email import tokens
from adapters.email.settings import EmailSettings
from bot.settings import ConfigError, load_settings

KEY = b"a-signing-key-of-some-length"


def test_a_token_verifies_for_its_ticket_and_recipient_only() -> None:
    text = tokens.sign(1042, "Ana@Example.com", KEY)
    token = tokens.find(f"support+{text}@example.com")
    assert token is not None and token.number == 1042
    assert token.verify("ana@example.com", KEY)
    assert not token.verify("eve@example.com", KEY)
    assert not token.verify("ana@example.com", b"another-key-entirely-here")


def test_a_forged_number_does_not_verify() -> None:
    text = tokens.sign(1042, "ana@example.com", KEY)
    forged = tokens.find(text.replace("1042-", "1043-", 1))
    assert forged is not None and forged.number == 1043
    assert not forged.verify("ana@example.com", KEY)


def test_tokens_survive_upper_casing_and_sit_in_message_ids() -> None:
    text = tokens.sign(7, "bo@example.com", KEY)
    found = tokens.find(f"<{text.upper()}.55@desk.example.com> <other@x>")
    assert found is not None and found.verify("bo@example.com", KEY)


def test_text_without_a_token_finds_none() -> None:
    assert tokens.find("<CAFx9w-123@mail.gmail.com>") is None
    assert tokens.find("Re: [#1042] printer") is None


@given(st.integers(min_value=1, max_value=999_999_999), st.emails())
def test_every_signed_token_is_found_and_verifies(number: int, address: str) -> None:
    text = tokens.sign(number, address, KEY)
    found = tokens.find(f"reply+{text}@example.com")
    assert found is not None and found.number == number and found.verify(address, KEY)


def test_email_settings_are_off_without_smtp_host() -> None:
    assert not EmailSettings().configured


def test_email_settings_name_what_is_missing_or_wrong() -> None:
    with pytest.raises(ValidationError, match=r"email\.from_address"):
        EmailSettings(smtp_host="smtp.example.com", signing_key="x" * 20)
    with pytest.raises(ValidationError, match=r"email\.signing_key"):
        EmailSettings(smtp_host="smtp.example.com", from_address="s@example.com",
                      signing_key="short")
    with pytest.raises(ValidationError, match=r"email\.reply_to"):
        EmailSettings(reply_to="not an address")


def test_email_settings_keep_a_display_name() -> None:
    settings = EmailSettings(smtp_host="h", from_address="Acme Support <Support@Example.com>",
                             signing_key="k" * 16)
    assert settings.address.lower() == "support@example.com"
    assert str(settings.from_address).startswith("Acme Support <")


def test_an_incomplete_email_section_stops_the_load_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text('[email]\nsmtp_host = "smtp.example.com"\n')
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"email\.from_address: is needed"):
        load_settings()


@pytest.mark.parametrize("value", [
    "Acme\nBcc: evil@example.com <support@example.com>",  # a header of its own
    "Acme\r\n <support@example.com>", "Acme\u2028<support@example.com>", "Acme\x00 <s@example.com>",
    "Acme <support@example.com>, other@example.com",
    "Acme <support@example.com> trailing",
    "Team: a@example.com, b@example.com;",
    "Acme <support@example.com",
])
@pytest.mark.parametrize("key", ["from_address", "reply_to"])
def test_a_from_or_reply_to_address_is_exactly_one_mailbox(value: str, key: str) -> None:
    with pytest.raises(ValidationError, match=rf"email\.{key}: "):
        EmailSettings(**{key: value})


def test_a_header_injection_in_from_address_stops_the_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text('[email]\nsmtp_host = "smtp.example.com"\nsigning_key = "' + "k" * 20
                    + '"\nfrom_address = "Acme\\nBcc: evil@example.com <support@example.com>"\n')
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"email\.from_address: .*line break"):
        load_settings()


def test_one_mailbox_with_a_quoted_or_foreign_name_is_taken() -> None:
    on = {"smtp_host": "smtp.example.com", "signing_key": "k" * 16}
    assert EmailSettings(**on, from_address='"Acme, Inc" <s@example.com>').from_address \
        == '"Acme, Inc" <s@example.com>'
    assert EmailSettings(**on, from_address="s@example.com",
                         reply_to="Ácme Süpport <s@example.com>").reply_to == \
        "Ácme Süpport <s@example.com>"
    assert EmailSettings(**on, from_address="  s@example.com ").from_address == \
        "s@example.com"


@pytest.mark.parametrize("section", [
    'from_address = "support@example.com"\nimap_host = "imap.example.com"\n',
    'smtp_host = ""\nfrom_address = "support@example.com"\n',
    'smtp_host = "  "\n',
])
def test_an_email_section_without_smtp_host_is_refused_not_silently_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text("[email]\n" + section)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"email\.smtp_host: is (needed|blank)"):
        load_settings()


def test_a_blank_authserv_id_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"email\.authserv_id: is blank"):
        EmailSettings(smtp_host="smtp.example.com", from_address="s@example.com",
                      signing_key="k" * 16, authserv_id="")
    assert EmailSettings(smtp_host="smtp.example.com", from_address="s@example.com",
                         signing_key="k" * 16, authserv_id="mx.example.com").authserv_id \
        == "mx.example.com"


@pytest.mark.parametrize(("file", "env", "named", "in_file"), [
    ("", {"HELPTHREAD_EMAIL__SMTP_PORT": "25"}, "HELPTHREAD_EMAIL__SMTP_PORT", False),
    ("", {"HELPTHREAD_EMAIL__SIGNING_KEY": "k" * 20}, "HELPTHREAD_EMAIL__SIGNING_KEY", False),
    ("smtp_port = 25\n", {}, "email.smtp_port", True),
    ("smtp_port = 25\n", {"HELPTHREAD_EMAIL__SIGNING_KEY": "k" * 20},
     "HELPTHREAD_EMAIL__SIGNING_KEY, email.smtp_port", True),
    ("smtp_port = 25\n", {"HELPTHREAD_EMAIL__SMTP_PORT": "26"},
     "HELPTHREAD_EMAIL__SMTP_PORT (also set in the file)", True),
])
def test_a_missing_smtp_host_names_only_the_keys_set_and_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, env: dict[str, str],
        named: str, in_file: bool) -> None:
    path = tmp_path / "helpthread.toml"
    path.write_text("[email]\n" + file)
    monkeypatch.setenv("HELPTHREAD_CONFIG", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    where = f" in {path}" if in_file else ""
    assert str(refused.value) == (
        f"invalid configuration{where}: email.smtp_host: is needed when other e-mail keys "
        f"are set ({named}); without it e-mail is off — set it, or remove those")
