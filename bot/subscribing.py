"""The subscription conversation, the same on every channel: commands, buttons, plain French.

`/abonner <thème> [rue]`, `/desabonner [thème]`, `/abonnements`, `/stop`, their buttons
(`abo:…`, `desabo:…`), and sentences such as "je veux les alertes poubelles rue des Lilas".
Topics are Crieur's four (collecte, cantine, alertes, agenda) plus the pack's event tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot import texts
from bot.messages import Address, Answer, Choice
from knowledge.notices import topic_slug
from knowledge.pack.calendar_models import Zone
from knowledge.places import Place
from knowledge.snapshot import Knowledge
from knowledge.text import fold, words

if TYPE_CHECKING:  # the store is opened by the composition root, not here
    from bot.subscriptions import Subscription, Subscriptions

SUBSCRIBE_CHOICE = "abo:"
UNSUBSCRIBE_CHOICE = "desabo:"
SUBSCRIBE_COMMANDS = frozenset({"/abonner", "/abonnement", "/sabonner", "/inscrire"})
UNSUBSCRIBE_COMMANDS = frozenset({"/desabonner", "/désabonner", "/desinscrire"})
LIST_COMMANDS = frozenset({"/abonnements", "/mesabonnements"})
STOP_COMMANDS = frozenset({"/stop", "/arret", "/arrêt"})

_SUBSCRIBE_WORDS = frozenset(
    {"abonner", "abonne", "abonnee", "abonnement", "reabonner", "recevoir", "prevenir",
     "prevenu", "prevenue", "avertir", "averti", "notification", "notifications", "notif",
     "notifs", "rappel", "rappels", "alerter", "alerte", "alertes"}
)  # fmt: skip
_UNSUBSCRIBE_WORDS = frozenset(
    {"desabonner", "desabonne", "desabonnee", "desabonnement", "desinscrire", "desinscris",
     "desinscrit", "desactiver"}
)  # fmt: skip
# Also said of the electoral roll, the canteen or a club: these mean the notices only when
# nothing else is named ("me désinscrire des alertes", not "… des listes électorales ?").
_UNREGISTER_WORDS = frozenset({"desinscrire", "desinscris", "desinscrit"})
_NEGATIONS = ("ne plus", "n plus", "arreter", "arrete", "arretez", "stopper", "plus recevoir")
_FILLER = frozenset(
    {"je", "veux", "voudrais", "me", "m", "moi", "de", "des", "du", "la", "le", "les", "au",
     "aux", "tout", "tous", "ne", "n", "plus", "svp", "stp", "merci", "messages", "message",
     "arreter", "arretez", "arrete", "stopper", "stop", "envoyer", "envoyez", "envoi",
     "recevoir", "rien", "pas", "veut"}
)  # fmt: skip
_REQUEST_WORDS = frozenset({"je", "j", "veux", "voudrais", "me", "m", "moi", "svp", "stp"})
_QUESTION_WORDS = frozenset(
    {"comment", "pourquoi", "quand", "quel", "quelle", "quels", "quelles", "ou", "qui", "que",
     "quoi", "combien", "est", "peut", "peux", "puis", "dois", "doit", "faut", "a"}
)  # fmt: skip
# Words that say nothing of what a sentence is about: "comment faire pour m'abonner ?"
_PLAIN_WORDS = (
    _SUBSCRIBE_WORDS | _FILLER | _QUESTION_WORDS
    | frozenset({"s", "se", "t", "vous", "nous", "on", "il", "y", "ce", "faire", "pour",
                 "aimerais", "souhaite", "souhaiterais", "possible", "bonjour", "salut", "ca",
                 "marche", "fonctionne", "voulais", "un", "une", "votre", "vos", "ici", "aussi",
                 "oui", "bien", "sur", "et", "l", "d", "j", "qu", "mon", "ma", "mes"})
)  # fmt: skip
# Words that make a sentence a question wherever they stand ("quand" and "qui" also join a
# request: "un rappel quand le camion passe").
_ASKING_ANYWHERE = frozenset({"comment", "pourquoi", "combien"})
_EXPLICIT = frozenset({"abonner", "abonne", "abonnee", "abonnement", "abonnements", "reabonner"})


@dataclass(frozen=True, slots=True)
class Topic:
    """Something a resident can subscribe to."""

    name: str
    label: str  # French, short: "menu de la cantine"
    words: frozenset[str]  # folded words that name it
    needs_zone: bool = False
    detail: str = ""  # French: when notices come


def _named(names: str) -> frozenset[str]:
    return frozenset(names.split())


_BUILTIN = (
    Topic(
        "collecte",
        texts.TOPIC_COLLECTE,
        _named(
            "collecte collectes poubelle poubelles dechet dechets ordure ordures bac bacs tri "
            "ramassage eboueurs"
        ),
        needs_zone=True,
        detail=texts.TOPIC_COLLECTE_DETAIL,
    ),
    Topic(
        "cantine",
        texts.TOPIC_CANTINE,
        _named("cantine cantoche menu menus"),
        detail=texts.TOPIC_CANTINE_DETAIL,
    ),
    Topic(
        "alertes",
        texts.TOPIC_ALERTES,
        _named("alerte alertes urgence urgences urgent urgentes crise"),
        detail=texts.TOPIC_ALERTES_DETAIL,
    ),
    Topic(
        "agenda",
        texts.TOPIC_AGENDA,
        _named(
            "agenda evenement evenements animation animations manifestation manifestations "
            "sortie sorties"
        ),
        detail=texts.TOPIC_AGENDA_DETAIL,
    ),
)

_TOPIC_WORDS = frozenset().union(*(topic.words for topic in _BUILTIN))


def topics_of(knowledge: Knowledge) -> dict[str, Topic]:
    """Crieur's topics and the pack's event tags, by name."""
    found = {topic.name: topic for topic in _BUILTIN}
    for event in knowledge.pack.events:
        for tag in event.tags:
            name = topic_slug(tag)
            if name and name not in found:
                found[name] = Topic(
                    name,
                    texts.TOPIC_TAG.format(tag=tag),
                    frozenset({name}),
                    detail=texts.TOPIC_TAG_DETAIL,
                )
    return found


class SubscriptionDialog:
    """Answers subscription commands and requests for one message."""

    def __init__(self, subscriptions: Subscriptions | None) -> None:
        self.subscriptions = subscriptions

    def is_command(self, command: str) -> bool:
        return command in SUBSCRIBE_COMMANDS | UNSUBSCRIBE_COMMANDS | LIST_COMMANDS | STOP_COMMANDS

    @staticmethod
    def is_choice(payload: str) -> bool:
        return payload.startswith((SUBSCRIBE_CHOICE, UNSUBSCRIBE_CHOICE))

    @staticmethod
    def wants(text: str) -> str | None:
        """ "subscribe" or "unsubscribe" when a plain sentence asks for it, else None."""
        folded = words(text)
        present = set(folded)
        joined = " " + " ".join(folded) + " "
        asks = (
            text.rstrip().endswith("?")
            or (folded and folded[0] in _QUESTION_WORDS)
            or bool(present & _ASKING_ANYWHERE)  # "boîtier d'alerte pour mamie, comment l'avoir"
        )
        unregisters = present & _UNREGISTER_WORDS and not (asks or _names_another_subject(text))
        if (
            present & (_UNSUBSCRIBE_WORDS - _UNREGISTER_WORDS)
            or unregisters
            or (
                any(f" {negation} " in joined for negation in _NEGATIONS)
                and present & (_SUBSCRIBE_WORDS | {"messages", "message", "alertes", "rappels"})
            )
        ):
            return "unsubscribe"
        if not present & _SUBSCRIBE_WORDS:
            return None
        if asks and not present & _EXPLICIT:  # "qui prévenir pour les poubelles ?" is a question
            return None
        topics = [t for t in _BUILTIN if present & t.words]
        if topics:
            return "subscribe"
        # "l'abonnement à la médiathèque" is another service's, not Crieur's notices
        if present & {"abonner", "abonne", "abonnement"} and not present - _PLAIN_WORDS:
            return "subscribe"
        return None

    async def command(
        self, knowledge: Knowledge, address: Address, text: str, at: datetime, place: Place | None
    ) -> Answer:
        command, _, rest = text.partition(" ")
        command = command.lower().split("@")[0]
        if self.subscriptions is None:
            return Answer(texts.SUBSCRIPTIONS_UNAVAILABLE, "abonnement")
        if command in SUBSCRIBE_COMMANDS:
            return await self._subscribe(knowledge, address, rest, text, at, place)
        if command in UNSUBSCRIBE_COMMANDS:
            return await self._unsubscribe(knowledge, address, rest, text, at)
        if command in LIST_COMMANDS:
            return await self._list(knowledge, address)
        erased = await self.subscriptions.erase(address)
        return Answer(texts.STOPPED if erased else texts.STOPPED_NOTHING, "abonnement")

    async def sentence(
        self, knowledge: Knowledge, address: Address, text: str, at: datetime, place: Place | None
    ) -> Answer:
        if self.subscriptions is None:
            return Answer(texts.SUBSCRIPTIONS_UNAVAILABLE, "abonnement")
        if self.wants(text) == "unsubscribe":
            return await self._unsubscribe(knowledge, address, text, text, at)
        return await self._subscribe(knowledge, address, text, text, at, place)

    async def choice(
        self, knowledge: Knowledge, address: Address, payload: str, at: datetime
    ) -> Answer:
        if self.subscriptions is None:
            return Answer(texts.SUBSCRIPTIONS_UNAVAILABLE, "abonnement")
        if payload.startswith(UNSUBSCRIBE_CHOICE):
            named = payload.removeprefix(UNSUBSCRIBE_CHOICE)
            return await self._unsubscribe(knowledge, address, named, payload, at)
        name, _, zone = payload.removeprefix(SUBSCRIBE_CHOICE).partition(":")
        topic = topics_of(knowledge).get(name)
        if topic is None:
            return Answer(texts.UNKNOWN_CHOICE, "aide")
        if topic.needs_zone:
            zones = {z.id: z.name for z in _zones(knowledge)}
            if zone not in zones:
                return Answer(texts.ASK_STREET, "abonnement")
            return await self._add(address, topic, at, payload, zone, zones[zone])
        return await self._add(address, topic, at, payload)

    # ------------------------------------------------------------------ actions

    async def _subscribe(
        self,
        knowledge: Knowledge,
        address: Address,
        rest: str,
        words_said: str,
        at: datetime,
        place: Place | None,
    ) -> Answer:
        catalogue = topics_of(knowledge)
        topic = _find_topic(rest, catalogue)
        if topic is None:
            return _menu(catalogue, texts.WHICH_TOPIC if rest.strip() else texts.TOPICS_INTRO)
        if not topic.needs_zone:
            return await self._add(address, topic, at, words_said)
        if not _zones(knowledge):
            return Answer(texts.NO_COLLECTION_CALENDAR, "abonnement")
        said = _street_part(rest, topic)
        places = knowledge.dated.streets.find(said) if said else []
        if not said and place is not None:  # the street given earlier in the conversation
            places = [place]
        zones = {p.zone for p in places}
        if len(zones) == 1:
            return await self._add(address, topic, at, words_said, places[0].zone, places[0].name)
        if places:
            choices = tuple(
                Choice(p.name, f"{SUBSCRIBE_CHOICE}{topic.name}:{p.zone}") for p in places[:8]
            )
            return Answer(texts.WHICH_STREET, "abonnement", choices=choices)
        examples = [street for zone in _zones(knowledge) for street in zone.streets[:1]]
        message = texts.UNKNOWN_STREET.format(street=said[:80]) if said else texts.ASK_STREET
        hint = texts.STREET_EXAMPLES.format(examples=", ".join(examples[:3]))
        return Answer(f"{message} {hint}", "abonnement")

    async def _add(
        self,
        address: Address,
        topic: Topic,
        at: datetime,
        words_said: str,
        zone: str = "",
        street: str | None = None,
    ) -> Answer:
        assert self.subscriptions is not None
        created = await self.subscriptions.subscribe(address, topic.name, at, words_said, zone,
                                                     street)  # fmt: skip
        what = topic.label + (texts.FOR_STREET.format(street=street) if street else "")
        if not created:
            return Answer(texts.ALREADY_SUBSCRIBED.format(what=what), "abonnement")
        return Answer(texts.SUBSCRIBED.format(what=what, detail=topic.detail), "abonnement")

    async def _unsubscribe(
        self, knowledge: Knowledge, address: Address, rest: str, words_said: str, at: datetime
    ) -> Answer:
        assert self.subscriptions is not None
        catalogue = topics_of(knowledge)
        topic = _find_topic(rest, catalogue)
        if topic is None and _mentions_unknown_topic(rest):
            return _menu(catalogue, texts.WHICH_TOPIC)
        dropped = await self.subscriptions.unsubscribe(
            address, at, words_said, topic.name if topic else None
        )
        if not dropped:
            return Answer(texts.NOT_SUBSCRIBED, "abonnement")
        labels = [catalogue[name].label if name in catalogue else name for name in dropped]
        return Answer(texts.UNSUBSCRIBED.format(what=", ".join(labels)), "abonnement")

    async def _list(self, knowledge: Knowledge, address: Address) -> Answer:
        assert self.subscriptions is not None
        current = await self.subscriptions.of(address)
        if not current:
            return _menu(topics_of(knowledge), texts.NO_SUBSCRIPTION)
        catalogue = topics_of(knowledge)
        lines = [f"- {_describe(item, catalogue)}" for item in current]
        choices = tuple(
            Choice(
                texts.UNSUBSCRIBE_BUTTON.format(topic=item.topic), UNSUBSCRIBE_CHOICE + item.topic
            )
            for item in current
        )
        return Answer(texts.YOUR_SUBSCRIPTIONS + "\n" + "\n".join(lines), "abonnement",
                      choices=choices)  # fmt: skip


def _zones(knowledge: Knowledge) -> list[Zone]:
    collecte = knowledge.pack.collecte
    return list(collecte.zones) if collecte else []


def _find_topic(text: str, catalogue: dict[str, Topic]) -> Topic | None:
    present = set(words(text))
    named = [topic for topic in catalogue.values() if present & topic.words]
    if len(named) > 1:  # "les alertes poubelles": the bins, announced
        named = [topic for topic in named if topic.name != "alertes"] or named
    return named[0] if named else None


def _street_part(text: str, topic: Topic) -> str:
    """What is left of the request once the request and topic words are taken out."""
    kept = [
        word
        for word in text.split()
        if not set(words(word)) & (topic.words | _SUBSCRIBE_WORDS | _REQUEST_WORDS)
        and not word.startswith("/")
    ]
    return " ".join(kept).strip(" ,.;:!?")


def _names_another_subject(text: str) -> bool:
    """Whether the sentence names something else than Crieur's topics ("listes électorales")."""
    return bool(set(words(text)) - _UNSUBSCRIBE_WORDS - _SUBSCRIBE_WORDS - _FILLER - _TOPIC_WORDS)


def _mentions_unknown_topic(text: str) -> bool:
    meaningful = set(words(text)) - _UNSUBSCRIBE_WORDS - _SUBSCRIBE_WORDS - _FILLER
    return bool(meaningful) and not fold(text).startswith("/")


def _describe(item: Subscription, catalogue: dict[str, Topic]) -> str:
    label = catalogue[item.topic].label if item.topic in catalogue else item.topic
    if item.street:
        return label + texts.FOR_STREET.format(street=item.street)
    return label


def _menu(catalogue: dict[str, Topic], intro: str) -> Answer:
    lines = [f"- {topic.name} : {topic.label} ({topic.detail})" for topic in catalogue.values()]
    choices = tuple(
        Choice(texts.SUBSCRIBE_BUTTON.format(topic=topic.name), SUBSCRIBE_CHOICE + topic.name)
        for topic in catalogue.values()
        if not topic.needs_zone
    )
    return Answer(intro + "\n" + "\n".join(lines) + "\n" + texts.SUBSCRIBE_HOWTO, "abonnement",
                  choices=choices)  # fmt: skip
