"""The core answers every kind of message politely and never raises."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dispatcher import Dispatcher, clean_text
from bot.messages import Address, Inbound
from knowledge.snapshot import Knowledge

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def dispatcher(example_knowledge: Knowledge) -> Dispatcher:
    return Dispatcher(lambda: example_knowledge)


async def _ask(
    dispatcher: Dispatcher, text: str, choice: str | None = None
) -> tuple[str, str | None]:
    answer = await dispatcher.handle(Inbound(Address("test", "1"), text, NOW, choice))
    assert answer.text.strip()
    return answer.text, answer.source


BAD_INPUTS = [
    "",
    "   \n\t ",
    "😀😀🎉",
    "<script>alert(1)</script>",
    "\x00\x01\x02 \x1b[31m",
    "?!?!",
    "What time does the town hall open on Saturday?",
    "¿Dónde puedo renovar mi pasaporte?",
    "mot " * 500,
    "a" * 100_000,
    "\u202e\u200b\ufeff",
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
async def test_bad_input_gets_a_polite_reply(dispatcher: Dispatcher, text: str) -> None:
    reply, _source = await _ask(dispatcher, text)
    assert "Traceback" not in reply and "<script>" not in reply


async def test_a_failing_answer_still_gets_a_polite_reply(
    example_knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise AssertionError("a bug in an answerer")

    monkeypatch.setattr(example_knowledge, "answer", broken)
    reply, source = await _ask(Dispatcher(lambda: example_knowledge), "poubelle jaune mardi ?")
    assert source is None and "mairie" in reply
    assert example_knowledge.pack.commune.contact.phone in reply
    assert "a bug in an answerer" in caplog.text  # logged for the agents, not shown


async def test_oversized_message_asks_to_shorten(dispatcher: Dispatcher) -> None:
    reply, source = await _ask(dispatcher, "bonjour " * 2_000)
    assert source is None and "long" in reply


async def test_greeting_and_help(dispatcher: Dispatcher, example_knowledge: Knowledge) -> None:
    reply, source = await _ask(dispatcher, "Bonjour !")
    assert source == "accueil"
    reply, source = await _ask(dispatcher, "/aide")
    assert source == "aide" and example_knowledge.pack.commune.name in reply
    reply, source = await _ask(dispatcher, "/inconnue")
    assert "/aide" in reply


async def test_unknown_question_gets_the_fallback(
    dispatcher: Dispatcher, example_knowledge: Knowledge
) -> None:
    reply, source = await _ask(dispatcher, "Quelle est la capitale de l'Australie ?")
    assert source is None
    assert reply.startswith(example_knowledge.fallback)


async def test_tapped_suggestion_answers_that_entry(
    dispatcher: Dispatcher, example_knowledge: Knowledge
) -> None:
    entry = example_knowledge.pack.faq[0]
    reply, source = await _ask(dispatcher, "", choice=f"faq:{entry.id}")
    assert source == entry.id and reply == entry.answer.strip()
    reply, source = await _ask(dispatcher, "", choice="faq:n-existe-pas")
    assert source == "aide"


async def test_question_is_answered_from_its_entry(
    dispatcher: Dispatcher, example_knowledge: Knowledge
) -> None:
    entry = example_knowledge.pack.faq[0]
    _reply, source = await _ask(dispatcher, entry.question)
    assert source == entry.id


def _plain_clean(text: str) -> str:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", text).strip()


def test_clean_text_drops_controls_and_invisible_characters() -> None:
    assert clean_text("\u200bBonjour\x00la\u00admairie\ufeff\n") == "Bonjour lamairie"
    assert clean_text("e\u0301te\u0301\t?") == "été\t?"
    # the same as the plain rules for every character, however many the table remembers
    for code in range(0, 0x110000, 7):
        text = f"a{chr(code)}é {chr(code)}"
        assert clean_text(text) == _plain_clean(text), hex(code)
