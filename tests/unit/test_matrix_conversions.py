"""Matrix's pure conversions: answers to m.notice contents, messages to inbound ones (who is
addressed, numbers picking suggestions), and homeserver refusals to outbox outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channel import RateLimited, RecipientGone, Rejected, TransientError
from bot.messages import Answer, Choice
from channels.matrix.channel import _txn
from channels.matrix.errors import delivery_error
from channels.matrix.inbound import (
    Message,
    Suggestions,
    invite_allowed,
    mentions,
    server_of,
    to_inbound,
    without_mentions,
)
from channels.matrix.render import CHOICE_HINT, MAX_CONTENT_BYTES, render, size, to_html, to_plain

BOT = "@crieur:morvelay.example"
NAMES = ["Crieur de Morvelay"]
NOW_MS = int(datetime(2026, 12, 2, 9, 0, tzinfo=UTC).timestamp() * 1000)


def _message(
    body: str,
    direct: bool = False,
    sender: str = "@lea:morvelay.example",
    content: dict[str, Any] | None = None,
) -> Message:
    full = {"body": body, **(content or {})}
    return Message("!salon:morvelay.example", sender, body, full, NOW_MS, direct)


def _inbound(message: Message, suggestions: Suggestions | None = None) -> Any:
    return to_inbound(message, BOT, NAMES, suggestions or Suggestions())


# ------------------------------------------------------------------ rendering


def test_markup_is_escaped_and_light_markdown_rendered() -> None:
    html = to_html(
        "**Mairie** <script>alert(1)</script> & [site](https://x.example/a?b=1&c=2)\n"
        "deuxième ligne\n- un\n- deux\n\nparagraphe"
    )
    assert html.startswith("<p><strong>Mairie</strong> &lt;script&gt;alert(1)&lt;/script&gt; ")
    assert '<a href="https://x.example/a?b=1&amp;c=2">site</a><br>deuxième ligne</p>' in html
    assert html.endswith("<ul><li>un</li><li>deux</li></ul><p>paragraphe</p>")
    assert "<script>" not in html


def test_the_plain_body_has_no_markup() -> None:
    plain = to_plain("**Mairie** : voir [le site](https://x.example).\n- un")
    assert plain == "Mairie : voir le site (https://x.example).\n- un"


def test_a_reply_is_a_notice_with_html_and_numbered_choices() -> None:
    answer = Answer(
        "Votre question porte peut-être sur :",
        None,
        choices=(Choice("Carte d'identité", "faq:cni"), Choice("Passeport <b>", "faq:passeport")),
        links=("https://service-public.fr",),
    )
    (message,) = render(answer)
    assert message["msgtype"] == "m.notice"
    assert message["format"] == "org.matrix.custom.html"
    assert message["body"] == (
        "Votre question porte peut-être sur :\n\nhttps://service-public.fr\n\n"
        f"1. Carte d'identité\n2. Passeport <b>\n\n{CHOICE_HINT}"
    )
    assert (
        "<ol><li>Carte d'identité</li><li>Passeport &lt;b&gt;</li></ol>"
        in (message["formatted_body"])
    )


def test_long_answers_are_split_below_the_event_size_limit() -> None:
    paragraphs = [f"Paragraphe {n} : " + "éléphant " * 400 for n in range(12)]
    answer = Answer("\n\n".join(paragraphs), "x", choices=(Choice("Un", "faq:un"),))
    parts = render(answer)
    assert len(parts) > 1
    assert all(size(part) <= MAX_CONTENT_BYTES for part in parts)
    assert all(part["body"].startswith("Paragraphe") for part in parts)
    assert "1. Un" in parts[-1]["body"] and all("1. Un" not in p["body"] for p in parts[:-1])
    huge = render(Answer("x" * 100_000, None))
    assert "".join(part["body"] for part in huge) == "x" * 100_000
    assert all(size(part) <= MAX_CONTENT_BYTES for part in huge)


# ------------------------------------------------------------------ inbound


def test_in_a_direct_room_every_message_is_for_the_bot() -> None:
    inbound = _inbound(_message("Bonjour", direct=True))
    assert inbound.text == "Bonjour" and inbound.address.chat_id == "!salon:morvelay.example"
    assert inbound.address.channel == "matrix" and inbound.choice is None
    assert inbound.received_at == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "content", "question"),
    [
        ("Crieur de Morvelay : horaires ?", {}, "horaires ?"),
        ("crieur de morvelay, horaires ?", {}, "horaires ?"),
        ("@crieur:morvelay.example horaires ?", {}, "horaires ?"),
        ("@crieur horaires ?", {}, "horaires ?"),
        ("horaires ?", {"m.mentions": {"user_ids": [BOT]}}, "horaires ?"),
        ("Crieur: horaires", {"formatted_body":
         '<a href="https://matrix.to/#/%40crieur%3Amorvelay.example">Crieur</a>: horaires'},
         "Crieur: horaires"),
        ("/aide", {}, "/aide"),
        ("!aide", {}, "/aide"),
        ("Crieur de Morvelay !abonner cantine", {}, "/abonner cantine"),
    ],
)  # fmt: skip
def test_in_a_group_the_bot_hears_mentions_and_commands(
    body: str, content: dict[str, Any], question: str
) -> None:
    inbound = _inbound(_message(body, content=content))
    assert inbound is not None and inbound.text == question


@pytest.mark.parametrize(
    "body",
    ["Bonjour à tous", "le crieur:morvelay n'est pas là", "!!!", "écrivez à crieur@morvelay.fr"],
)
def test_in_a_group_other_talk_is_left_alone(body: str) -> None:
    assert _inbound(_message(body, content={"m.mentions": {"user_ids": ["@paul:x"]}})) is None


def test_own_messages_and_edits_are_ignored() -> None:
    assert _inbound(_message("horaires", direct=True, sender=BOT)) is None
    edit = {"m.relates_to": {"rel_type": "m.replace", "event_id": "$e"}}
    assert _inbound(_message("* horaires", direct=True, content=edit)) is None


def test_a_reply_loses_the_quoted_fallback() -> None:
    reply = {"m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}}
    body = "> <@crieur:morvelay.example> La mairie ouvre à 9h\n> suite\n\net le samedi ?"
    assert _inbound(_message(body, direct=True, content=reply)).text == "et le samedi ?"


def test_mentions_and_their_removal() -> None:
    assert mentions(_message("Crieur de Morvelay?"), BOT, NAMES)
    assert not mentions(_message("Crieur de Morvelayville"), BOT, NAMES)
    assert without_mentions("horaires, Crieur de Morvelay ?", BOT, NAMES) == "horaires, ?"


def test_a_number_picks_the_last_suggestion_shown() -> None:
    clock = [0.0]
    suggestions = Suggestions(limit=2, ttl=60, clock=lambda: clock[0])
    choices = (Choice("Carte", "faq:cni"), Choice("Passeport", "faq:passeport"))
    suggestions.remember("!salon:morvelay.example", "@lea:morvelay.example", choices)
    for text in ("2", " 2. ", "n°2", "#2"):
        picked = _inbound(_message(text, direct=True), suggestions)
        assert (picked.text, picked.choice) == ("", "faq:passeport")
    assert _inbound(_message("3", direct=True), suggestions).text == "3"  # out of range
    assert _inbound(_message("2", direct=False), suggestions).choice == "faq:passeport"
    other = _message("2", direct=False, sender="@paul:morvelay.example")
    assert _inbound(other, suggestions) is None  # in a group, only the one who asked
    clock[0] = 61.0
    assert _inbound(_message("2", direct=True), suggestions).choice is None  # expired
    assert len(suggestions) == 0


def test_suggestions_are_bounded_and_cleared_by_an_answer_without_choices() -> None:
    suggestions = Suggestions(limit=2)
    one = (Choice("Un", "faq:un"),)
    for room in ("!a", "!b", "!c"):
        suggestions.remember(room, "@lea:x", one)
    assert len(suggestions) == 2
    assert suggestions.pick("!a", "@lea:x", "1", any_sender=True) is None  # forgotten first
    assert suggestions.pick("!c", "@lea:x", "1", any_sender=True) == "faq:un"
    suggestions.remember("!c", "@lea:x", ())
    assert suggestions.pick("!c", "@lea:x", "1", any_sender=True) is None


def test_invites_are_accepted_from_the_allowed_servers_only() -> None:
    assert server_of("@lea:Morvelay.example") == "morvelay.example"
    assert invite_allowed("@lea:morvelay.example", ["Morvelay.example"])
    assert not invite_allowed("@spam:ailleurs.example", ["morvelay.example"])
    assert not invite_allowed("", ["morvelay.example"])
    assert invite_allowed("@lea:ailleurs.example", ["*"])


# ------------------------------------------------------------------ errors and transactions


def test_homeserver_refusals_map_to_outbox_outcomes() -> None:
    limited = delivery_error("M_LIMIT_EXCEEDED", 429, "Too Many Requests", 2500)
    assert isinstance(limited, RateLimited) and limited.retry_after == 2.5
    assert delivery_error(None, 429).retry_after == 5.0  # type: ignore[attr-defined]
    assert isinstance(delivery_error("M_FORBIDDEN", 403, "not in room"), RecipientGone)
    assert isinstance(delivery_error("M_NOT_FOUND", 404, "Unknown room"), RecipientGone)
    assert isinstance(delivery_error(None, 502), TransientError)
    assert isinstance(delivery_error("M_UNKNOWN", 500), TransientError)
    assert isinstance(delivery_error("M_UNKNOWN_TOKEN", 401), TransientError)
    assert isinstance(delivery_error("M_TOO_LARGE", 413, "event too large"), Rejected)
    too_large = delivery_error("M_TOO_LARGE", 413, "event too large")
    assert str(too_large) == "M_TOO_LARGE event too large (HTTP 413)"


def test_transaction_ids_repeat_for_the_same_send_only() -> None:
    key = "annonce:" + "x" * 500 + "/42"
    assert _txn("push", key, 0) == _txn("push", key, 0)
    assert len({_txn("push", key, 0), _txn("push", key, 1), _txn("reply", key, 0)}) == 3
    assert len(_txn("push", key, 0)) < 64
