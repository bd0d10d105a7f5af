"""Decides whether a question is about a date-dependent subject, and answers it.

The order matters: an event named by its title ("la collecte de sang") is not a waste
collection; a street or a precise date makes a collection question dated even when a FAQ
entry also matches; a question without either is left to the FAQ.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from knowledge import phrases
from knowledge.analysis import Analyzer
from knowledge.answers.agenda import AgendaAnswers
from knowledge.answers.collecte import COLLECTION_NAMED, CollecteAnswers
from knowledge.answers.horaires import HOURS_WORDS, OpeningAnswers
from knowledge.answers.menus import MenuAnswers
from knowledge.answers.question import Question, asked_part, fold_words
from knowledge.calendars.canteen import CanteenCalendar
from knowledge.calendars.collection import CollectionCalendar
from knowledge.calendars.holidays import HolidayCalendar
from knowledge.calendars.opening import OpeningCalendar
from knowledge.dates import find_when, normalise
from knowledge.pack.models import FaqEntry, Pack
from knowledge.places import Place, StreetIndex
from knowledge.reply import STREET_CHOICE, Context, Reply, Suggestion

# Not "ramassé" nor "collecté": they name the collection (or an animal picked up, "ma
# chatte a-t-elle été ramassée ?"), they do not ask when. Nor "passe" alone: "le camion
# passe jeudi" can be said in passing.
ASKS_WHEN_ONLY = (
    r"quand|quel jour|quels jours|quelle date|c est quand|prochaine|maintenue?|kan|"
    r"kand|qd|qnd|kel jour|repass\w*"
)
ASKS_WHEN = ASKS_WHEN_ONLY + r"|passe|passent"

# A question that asks who, why, whether one must or may, or what to do about a bin stolen
# or broken or bags left lying: about the bins, not the day ("qui doit remplacer ma poubelle
# cassée ce matin ?", "il me faut une carte ?", "bac volé cette nuit, je fais quoi ?"). "Où"
# and "comment" stay: "comment me débarrasser d'un canapé ?" is for the calendar. No word
# of a street's name ("neuf" of "rue du Moulin-Neuf").
ASKS_OTHER = (
    r"qui|pourquoi|faut|droit|dois|doit|doivent|interdit|autorise|signaler|"
    r"volee?s?|cassee?s?|abimee?s?|fendue?s?|disparue?s?|roues?|couvercle|"
    r"remplac\w*|obtenir|ravoir|dans le bac|dans la poubelle|quelle poubelle|"
    r"quel bac|va dans|vont dans|dedans|laissee?s?|abandonnee?s?|traine\w*"
)
# Whether one may ("je peux faire un feu samedi ?") is not when, unless where is asked too
# ("où est-ce que je peux jeter mes bouteilles ?").
ASKS_MAY = r"je peux|peut on|on peut|puis je"
ASKS_WHERE = r"ou est ce|ou (?:je|j|on|puis|peut|peux)"
# Never the collection day, even with "quand": the bin tax ("quand est-elle prélevée ?"), a
# collection missed ("le camion n'est pas passé").
NOT_COLLECTION_DAY = (
    r"taxe|redevance|teom|factur\w*|pas passee?s?|pas ete (?:ramasse|collecte)\w*|"
    # an animal "ramassé" is at the pound, not collected with the bins
    r"chiens?|chiots?|chats?|chattes?|chatons?|animal|animaux"
)


class DatedAnswers:
    """Router and answerers for the pack's calendars."""

    def __init__(self, pack: Pack, holidays: HolidayCalendar, analyzer: Analyzer) -> None:
        self.holidays = holidays
        places = [
            Place(name, zone.id)
            for zone in (pack.collecte.zones if pack.collecte else ())
            for name in (*zone.streets, *zone.hamlets)
        ]
        self.streets = StreetIndex(places)
        self.collection_calendar = (
            CollectionCalendar(pack.collecte, holidays, pack.path) if pack.collecte else None
        )
        self.collecte = (
            CollecteAnswers(pack.collecte, self.collection_calendar, analyzer)
            if pack.collecte and self.collection_calendar
            else None
        )
        self.menus = MenuAnswers(CanteenCalendar(pack.menus, holidays)) if pack.menus else None
        calendars = {s.id: OpeningCalendar(s, holidays, tz=pack.commune.tz) for s in pack.services}
        self.opening = OpeningAnswers(pack.services, calendars, analyzer) if pack.services else None
        self.agenda = AgendaAnswers(pack.events, analyzer) if pack.events else None

    def read(self, text: str, now: datetime, terms: dict[str, float]) -> Question:
        when = find_when(text, now, self.holidays)
        places = tuple(self.streets.find(text))
        return Question(text, fold_words(text), terms, now, when, places, asked_part(text))

    def answer(self, question: Question, context: Context, faq: FaqEntry | None) -> Reply | None:
        """A dated reply, or None when the FAQ should answer (`faq`: the entry that would,
        when the matcher is confident)."""
        faq_confident = faq is not None
        hours = self.opening
        if hours is not None and not hours.is_about_opening(question, faq):
            hours = None
        agenda = self.agenda
        event = agenda if agenda is not None and agenda.is_about_event(question) else None
        # "la déchetterie est ouverte ce soir ? j'ai des cartons": not the collection of
        # cardboard (a street named is the collection's: "rue X, ramassé malgré la fermeture ?";
        # an event named is the agenda's: "la Nuit de la lecture, c'est à quelle heure ?")
        if hours and not question.places and event is None and question.asks(HOURS_WORDS):
            return Reply(hours.answer(question), "horaires", 1.0)
        collecte = self.collecte is not None and self.collecte.is_about_collection(question)
        if collecte and question.places:
            return self._collecte(question, context, faq_confident)
        if event is not None:
            return Reply(event.answer(self._without_title_dates(question)), "agenda", 1.0)
        if self.menus is not None and self.menus.is_about_menus(question):
            return Reply(self.menus.answer(question), "menus", 1.0)
        if collecte:
            reply = self._collecte(question, context, faq_confident)
            if reply is not None:
                return reply
        if hours:
            return Reply(hours.answer(question), "horaires", 1.0)
        if self.agenda is not None and self.agenda.is_listing(question):
            return Reply(self.agenda.answer(question), "agenda", 1.0)
        return None

    def _collecte(self, question: Question, context: Context, faq_confident: bool) -> Reply | None:
        assert self.collecte is not None
        if question.says(NOT_COLLECTION_DAY) and not question.says(r"repass\w*"):
            return None
        asks_other = question.says(ASKS_OTHER) or (
            question.says(ASKS_MAY) and not question.says(ASKS_WHERE)
        )
        if asks_other and not question.says(ASKS_WHEN_ONLY):
            return None
        named = question.places
        dated = question.when is not None and question.when.specific
        asks = (
            bool(self.collecte.streams_in(question)) or question.says(COLLECTION_NAMED)
        ) and question.says(ASKS_WHEN)
        if not named and not dated and not asks:
            return None
        if not named and faq_confident and not dated and context.place is None:
            return None
        if not self.collecte.needs_place(question):
            return Reply(self.collecte.answer_anywhere(question), "collecte", 1.0)
        if len({p.zone for p in named}) > 1:
            return self.ask_street(named)
        place = named[0] if named else context.place
        if place is None:
            return self.ask_street(())
        return Reply(self.collecte.answer(question, place), "collecte", 1.0, place=place)

    def _without_title_dates(self, question: Question) -> Question:
        """Date words that belong to an event's title ("marché de Noël") do not date it."""
        assert self.agenda is not None
        titles = " ".join(normalise(e.title) for e in self.agenda.matching(question))
        kept = " ".join(w for w in question.folded.split() if w not in titles.split())
        when = find_when(kept, question.now, self.holidays)
        return replace(question, when=when)

    @staticmethod
    def ask_street(candidates: tuple[Place, ...]) -> Reply:
        if not candidates:
            return Reply(phrases.ASK_STREET, "collecte", 1.0, awaiting_street=True)
        names = [p.name for p in candidates]
        return Reply(
            phrases.ASK_STREET_AMBIGUOUS.format(choices=phrases.join(names)),
            "collecte",
            1.0,
            tuple(Suggestion(p.name, STREET_CHOICE + p.name) for p in candidates),
            awaiting_street=True,
        )
