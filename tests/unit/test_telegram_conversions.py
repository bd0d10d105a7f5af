"""Telegram's pure conversions: answers to HTML messages, updates to inbound messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from telegram import Update

from bot.messages import Answer, Choice
from channels.telegram.inbound import to_inbound
from channels.telegram.render import MAX_TEXT, CallbackEncoder, render, split, to_html

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
BOT = "crieur_test_bot"
BOT_ID = 4242


def _message(text: str, chat_type: str = "private", chat_id: int = 7, **extra: Any) -> Update:
    data: dict[str, Any] = {
        "update_id": 1,
        "message": {
            "message_id": 10,
            "date": int(NOW.timestamp()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": 7, "is_bot": False, "first_name": "Léa"},
            "text": text,
            **extra,
        },
    }
    return Update.de_json(data, None)


def test_markup_is_escaped_and_light_markdown_rendered() -> None:
    html = to_html(
        "**Mairie** <script>alert(1)</script> & [site](https://x.example/a?b=1&c=2)\n- un"
    )
    assert html.startswith("<b>Mairie</b> &lt;script&gt;")
    assert '<a href="https://x.example/a?b=1&amp;c=2">site</a>' in html
    assert html.endswith("• un")
    assert "<script>" not in html


def test_long_answers_are_split_at_paragraphs_below_the_limit() -> None:
    paragraphs = [f"Paragraphe {n} : " + "mot " * 300 for n in range(8)]
    parts = split("\n\n".join(paragraphs))
    assert len(parts) > 1
    assert all(len(to_html(part)) <= MAX_TEXT for part in parts)
    assert all(part.startswith("Paragraphe") for part in parts)
    huge = split("x" * 20_000)
    assert all(len(to_html(part)) <= MAX_TEXT for part in huge) and "".join(huge) == "x" * 20_000


def test_suggestions_become_buttons_on_the_last_message() -> None:
    encoder = CallbackEncoder()
    long_payload = "rue:" + "chemin des Grands Champs de la Vallée de l'Arvelle" * 2
    answer = Answer(
        "Votre question porte peut-être sur :",
        None,
        choices=(Choice("Carte d'identité", "faq:cni"), Choice("Rue", long_payload)),
    )
    (message,) = render(answer, encoder)
    assert message.buttons[0].data == "faq:cni"
    token = message.buttons[1].data
    assert len(token.encode()) <= 64 and encoder.decode(token) == long_payload


def test_private_messages_and_callbacks_reach_the_core() -> None:
    inbound = to_inbound(_message("Bonjour"), BOT, BOT_ID, NOW)
    assert inbound is not None and inbound.address.chat_id == "7" and inbound.text == "Bonjour"
    callback = Update.de_json(
        {
            "update_id": 2,
            "callback_query": {
                "id": "99",
                "from": {"id": 7, "is_bot": False, "first_name": "Léa"},
                "chat_instance": "1",
                "data": "faq:cni",
                "message": {"message_id": 3, "date": int(NOW.timestamp()),
                            "chat": {"id": 7, "type": "private"}, "text": "?"},
            },
        },
        None,
    )  # fmt: skip
    inbound = to_inbound(callback, BOT, BOT_ID, NOW)
    assert inbound is not None and inbound.choice == "faq:cni"


def test_groups_are_answered_only_when_addressed() -> None:
    group = {"chat_type": "supergroup", "chat_id": -100}
    assert to_inbound(_message("qui vient ce soir ?", **group), BOT, BOT_ID, NOW) is None
    mentioned = to_inbound(_message(f"@{BOT} horaires mairie", **group), BOT, BOT_ID, NOW)
    assert mentioned is not None and mentioned.text == "horaires mairie"
    command = to_inbound(_message(f"/aide@{BOT}", **group), BOT, BOT_ID, NOW)
    assert command is not None and command.text == "/aide"
    assert to_inbound(_message("/aide@autre_bot", **group), BOT, BOT_ID, NOW) is None
    reply = _message(
        "et le samedi ?",
        **group,
        reply_to_message={
            "message_id": 9,
            "date": int(NOW.timestamp()),
            "chat": {"id": -100, "type": "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Crieur"},
            "text": "La mairie est ouverte…",
        },
    )
    assert to_inbound(reply, BOT, BOT_ID, NOW) is not None


def test_html_never_leaks_unbalanced_tags() -> None:
    html = to_html("**gras non fermé et <b> littéral")
    assert re.sub(r"</?b>", "", html).count("<") == 0
