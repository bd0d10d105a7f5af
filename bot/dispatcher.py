"""The core: turns one `Inbound` message into one `Answer`, whatever the channel.

It screens bad input (empty, symbols only, oversized), handles the conversation commands,
and asks the knowledge for everything else. No channel I/O happens here.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from bot import texts
from bot.conversations import ConversationMemory, Conversations
from bot.messages import Answer, Choice, Inbound
from bot.subscribing import STOP_COMMANDS, SubscriptionDialog
from knowledge.places import Place
from knowledge.reply import FAQ_CHOICE, STREET_CHOICE, Reply
from knowledge.snapshot import Knowledge
from knowledge.text import words

if TYPE_CHECKING:  # the store (SQLAlchemy) is only paid by commands that open it
    from bot.question_recorder import QuestionRecorder
    from bot.subscriptions import Subscriptions

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 1_000
_GREETINGS = frozenset(
    {"bonjour", "bonsoir", "salut", "coucou", "hello", "bjr", "slt", "hey", "yo"}
)
_THANKS = frozenset({"merci", "mrc", "thanks", "parfait", "super", "ok", "d'accord", "top"})
_ONLY_GREETINGS = _GREETINGS | {"madame", "monsieur", "a", "tous", "vous"}
_ONLY_THANKS = _THANKS | {"beaucoup", "bien", "tres", "c", "est", "bonne", "journee"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CLEAN_TABLE_LIMIT = 4_096  # distinct characters remembered by `_Cleaning`


class _Cleaning(dict[int, int | None]):
    """The `str.translate` table of `clean_text`: a control character becomes a space, an
    invisible formatting one (Unicode category Cf) is dropped, any other is kept. Filled as
    characters are met, so that a message is cleaned in one pass in C; bounded."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        if _CONTROL.match(char):
            value: int | None = ord(" ")
        elif unicodedata.category(char) == "Cf":
            value = None
        else:
            value = code
        if len(self) < _CLEAN_TABLE_LIMIT:
            self[code] = value
        return value


_CLEANING = _Cleaning()


def clean_text(text: str) -> str:
    """Drop control and invisible formatting characters, normalise to NFC."""
    return unicodedata.normalize("NFC", text.translate(_CLEANING)).strip()


class Dispatcher:
    """Answers inbound messages from the current knowledge snapshot."""

    def __init__(
        self,
        knowledge: Callable[[], Knowledge],
        conversations: ConversationMemory | None = None,
        subscriptions: Subscriptions | None = None,
        push_channels: Collection[str] = (),
        recorder: QuestionRecorder | None = None,
    ) -> None:
        self._knowledge = knowledge  # called per message, so a reload is seen at once
        self.conversations: ConversationMemory = conversations or Conversations()
        self.subscriptions = subscriptions
        self.push_channels = push_channels  # channels that can deliver notices
        self.recorder = recorder  # the questions log for agents, when there is a store

    def _dialog(self, inbound: Inbound) -> SubscriptionDialog:
        can_push = inbound.address.channel in self.push_channels
        return SubscriptionDialog(self.subscriptions if can_push else None)

    async def handle(self, inbound: Inbound) -> Answer:
        knowledge = self._knowledge()
        text = clean_text(inbound.text)
        if inbound.choice is not None:
            if SubscriptionDialog.is_choice(inbound.choice):
                return await self._dialog(inbound).choice(
                    knowledge, inbound.address, inbound.choice, inbound.received_at
                )
            if not inbound.choice.startswith(STREET_CHOICE):
                return self._choice(knowledge, inbound.choice)
            text = inbound.choice.removeprefix(STREET_CHOICE)
        if not text:
            return Answer(texts.EMPTY, "accueil")
        if len(text) > MAX_QUESTION_CHARS:
            return Answer(texts.TOO_LONG.format(contact=_contact(knowledge)), None)
        context = await self.conversations.context(inbound.address, inbound.received_at)
        if text.startswith("/"):
            return await self._command(knowledge, inbound, text, context.place)
        folded = words(text)
        if not folded:
            return Answer(texts.NO_WORDS, "accueil")
        if folded in (["stop"], ["arret"]):  # the SMS habit, also offered in WhatsApp templates
            return await self._command(knowledge, inbound, "/stop", context.place)
        if set(folded) <= _ONLY_GREETINGS:
            return Answer(texts.GREETING_REPLY, "accueil")
        if set(folded) <= _ONLY_THANKS:
            return Answer(texts.THANKS_REPLY, "accueil")
        if SubscriptionDialog.wants(text):
            return await self._dialog(inbound).sentence(
                knowledge, inbound.address, text, inbound.received_at, context.place
            )
        try:
            reply = knowledge.answer(text, inbound.received_at, context)
        except Exception:  # a bug in one answer must not leave the resident without one
            log.exception("dispatcher: no answer could be built for %r", text[:200])
            return Answer(texts.ANSWER_FAILED.format(contact=_contact(knowledge)), None)
        await self.conversations.update(inbound.address, context, text, reply, inbound.received_at)
        if self.recorder is not None:
            self.recorder.record(inbound.received_at, inbound.address.channel, text,
                                 reply.source is not None, reply.source, reply.score)  # fmt: skip
        return _to_answer(reply)

    async def _command(
        self, knowledge: Knowledge, inbound: Inbound, text: str, place: Place | None
    ) -> Answer:
        command = text.split()[0].lower().split("@")[0]
        if command in ("/aide", "/help", "/start"):
            return Answer(texts.HELP.format(commune=knowledge.pack.commune.name), "aide")
        dialog = self._dialog(inbound)
        if command in STOP_COMMANDS and self.subscriptions is not None:
            dialog = SubscriptionDialog(self.subscriptions)  # erasing is allowed everywhere
        if dialog.is_command(command):
            return await dialog.command(
                knowledge, inbound.address, text, inbound.received_at, place
            )
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
