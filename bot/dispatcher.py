"""The core: turns one `Inbound` message into one `Answer`, whatever the channel.

It screens bad input (empty, symbols only, oversized), handles the conversation commands,
and asks the knowledge for everything else. No channel I/O happens here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot import texts
from bot.conversations import Conversations
from bot.messages import Answer, Choice, Inbound
from knowledge.reply import FAQ_CHOICE, STREET_CHOICE, Reply
from knowledge.snapshot import Knowledge
from knowledge.text import words

MAX_QUESTION_CHARS = 1_000
_GREETINGS = frozenset(
    {"bonjour", "bonsoir", "salut", "coucou", "hello", "bjr", "slt", "hey", "yo"}
)
_THANKS = frozenset({"merci", "mrc", "thanks", "parfait", "super", "ok", "d'accord", "top"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Drop control and invisible formatting characters, normalise to NFC."""
    text = _CONTROL.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", text).strip()


class Dispatcher:
    """Answers inbound messages from the current knowledge snapshot."""

    def __init__(
        self, knowledge: Callable[[], Knowledge], conversations: Conversations | None = None
    ) -> None:
        self._knowledge = knowledge  # called per message, so a reload is seen at once
        self.conversations = conversations or Conversations()

    async def handle(self, inbound: Inbound) -> Answer:
        knowledge = self._knowledge()
        text = clean_text(inbound.text)
        if inbound.choice is not None:
            if not inbound.choice.startswith(STREET_CHOICE):
                return self._choice(knowledge, inbound.choice)
            text = inbound.choice.removeprefix(STREET_CHOICE)
        if not text:
            return Answer(texts.EMPTY, "accueil")
        if len(text) > MAX_QUESTION_CHARS:
            return Answer(texts.TOO_LONG.format(contact=_contact(knowledge)), None)
        if text.startswith("/"):
            return self._command(knowledge, text)
        folded = words(text)
        if not folded:
            return Answer(texts.NO_WORDS, "accueil")
        if set(folded) <= _GREETINGS | {"madame", "monsieur", "a", "tous", "vous"}:
            return Answer(texts.GREETING_REPLY, "accueil")
        if set(folded) <= _THANKS | {"beaucoup", "bien", "tres", "c", "est", "bonne", "journee"}:
            return Answer(texts.THANKS_REPLY, "accueil")
        context = self.conversations.context(inbound.address, inbound.received_at)
        reply = knowledge.answer(text, inbound.received_at, context)
        self.conversations.update(inbound.address, text, reply, inbound.received_at)
        return _to_answer(reply)

    def _command(self, knowledge: Knowledge, text: str) -> Answer:
        command = text.split()[0].lower().split("@")[0]
        if command in ("/aide", "/help", "/start"):
            return Answer(texts.HELP.format(commune=knowledge.pack.commune.name), "aide")
        return Answer(texts.UNKNOWN_COMMAND.format(command=command[:40]), "aide")

    def _choice(self, knowledge: Knowledge, payload: str) -> Answer:
        reply = None
        if payload.startswith(FAQ_CHOICE):
            reply = knowledge.entry(payload.removeprefix(FAQ_CHOICE))
        if reply is None:
            return Answer(texts.UNKNOWN_CHOICE, "aide")
        return _to_answer(reply)


def _to_answer(reply: Reply) -> Answer:
    choices = tuple(Choice(s.label, s.payload) for s in reply.suggestions)
    return Answer(reply.text, reply.source, reply.score, choices, reply.links)


def _contact(knowledge: Knowledge) -> str:
    contact = knowledge.pack.commune.contact
    return ", ".join(part for part in (contact.email, contact.phone) if part) or "la mairie"
