"""Agenda answers: when and where an event takes place, or what is on in a period."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from knowledge import phrases
from knowledge.analysis import Analyzer, numeric
from knowledge.answers.question import Question
from knowledge.pack.calendar_models import Event

# "sorties" only in the plural: "la sortie de mon garage" is a way out, not an outing.
# "Prévu" and "organisé" only as asked ("qu'est-ce qui est prévu ?", "rien d'organisé ?"),
# not of a named thing ("une coupure prévue mardi", "on organise un repas de quartier").
LISTING_WORDS = (
    r"se passe|se passera|se passeront|programme|agenda|evenements?|animations?|sorties|"
    r"manifestations?|festivites?|a faire|quoi de neuf|qu est ce qu il y a|y a quoi|"
    r"il y a quoi|ya quoi|"
    r"(?:qui est|qui sera|il y a de|quoi de|quelque chose de|rien de|y a t il de|ce qui est|"
    r"est|sont|sera) (?:prevue?s?|organisee?s?)|(?:qu|que|rien d|quelque chose d) organisee?s?|"
    r"(?:prevue?s?|organisee?s?) quoi|"
    r"(?:y a t il|y aura t il|y aura|il y a|y a|il y aura) (?:un|une|des|du) (?:concerts?|"
    r"spectacles?|festivals?|expositions?|expos?|brocantes?|vide greniers?|lotos?|bals?|"
    r"conferences?|feux? d artifice|marches? de noel|fetes?)"
)
# "Comment ça se passe ?" asks how a procedure goes, and "qu'est-ce qu'il faut faire en
# arrivant samedi ?" or "un truc obligatoire à faire ?" what one must do: none asks what is on.
NOT_LISTING = (
    r"comment (?:ca |cela )?se passe|faut|dois|doit|doivent|devons|devez|obligatoires?|"
    r"obligation|formalites?|demarches?"
)
# A named event, but another matter: something lost there, helping, taking part, what was
# decided there, getting there, or what else to do.
NOT_ABOUT_EVENT = (
    r"perdue?s?|oubliee?s?|volee?s?|trouvee?s?|rapporte\w*|benevol\w*|coup de main|aider|"
    r"participer|exposant|exposer|stand|inscri\w*|contacter|qui dois|qui doit|qui faut|"
    r"qui appeler|plainte|demarches?|lire|consulter|compte rendu|deliberations?|navette|garer|"
    r"parking"
)
ASK_WORDS = (
    r"quand|quel jour|quels jours|quelle date|date|dates|a quelle heure|prochain|prochaine|"
    r"bientot|a venir|"
    # where it is: "le carnaval part d'où ?", "c'est où, la brocante ?"
    r"d ou|c est ou|ca se passe ou|ou ca se passe|ou se trouve|ou a lieu|ou se deroule"
)
TITLE_COVERAGE = 0.6
# What an answer about an event says: when and where it is, whether it is on, what it is.
# Without a word asking when, a question on anything else about a named event ("les chiens
# sont-ils acceptés au marché de Noël ?", "quel film au cinéma en plein air du 9 juillet ?")
# is not answered with its date.
EVENT_DETAILS = (
    "ouvert ouverte ouvre ouvrent ferme fermé fermée horaires heure heures lieu adresse "
    "programme annulé annulée maintenu maintenue reporté reportée prévu prévue commence "
    "termine finit dure durée gratuit entrée"
)


class AgendaAnswers:
    """Answers about the pack's dated events (`events.yaml`)."""

    def __init__(self, events: tuple[Event, ...], analyzer: Analyzer) -> None:
        self.events = events
        self._details = frozenset(analyzer.analyze(EVENT_DETAILS)) | analyzer.weak_terms
        self._titles = [
            {
                t
                for t, share in analyzer.analyze_weighted(_main_title(event.title)).items()
                if share == 1.0
            }
            for event in events
        ]

    def matching(self, question: Question) -> list[Event]:
        """Events whose title the question says (most of its words), in date order."""
        return [event for event, _ in self._said(question)]

    def _said(self, question: Question) -> list[tuple[Event, set[str]]]:
        return [
            (event, terms)
            for event, terms in zip(self.events, self._titles, strict=True)
            if terms and len(terms & question.terms.keys()) / len(terms) >= TITLE_COVERAGE
        ]

    def is_about_event(self, question: Question) -> bool:
        said = self._said(question)
        if not said or (question.says(NOT_ABOUT_EVENT) and not question.says(ASK_WORDS)):
            return False
        if question.says(ASK_WORDS):
            return True
        titles = set().union(*(terms for _, terms in said))
        other = [
            t
            for t, share in question.terms.items()
            if share == 1.0 and t not in titles and t not in self._details and not numeric(t)
        ]
        return question.when is not None and not other

    def is_listing(self, question: Question) -> bool:
        return (
            question.says(LISTING_WORDS)
            and question.when is not None
            and not question.says(NOT_LISTING)
        )

    def answer(self, question: Question) -> str:
        events = self.matching(question)
        now = question.now
        if events:
            start = question.when.start if question.when and question.when.specific else now.date()
            upcoming = [e for e in events if _end(e).date() >= start]
            if question.says(r"prochain|prochaine") or len(upcoming) > 3:
                upcoming = upcoming[:1]
            if not upcoming:
                return phrases.EVENT_NONE_UPCOMING
            return "\n".join(self._event(e, now) for e in upcoming)
        when = question.when
        assert when is not None
        period = when.label if when.label not in ("date",) else "ce jour-là"
        listed = [
            e for e in self.events if e.start.date() <= when.end and _end(e).date() >= when.start
        ]
        if not listed:
            return phrases.EVENTS_NONE.format(period=period)
        intro = phrases.EVENTS_IN_PERIOD.format(period=period)
        return intro + "\n" + "\n".join("- " + self._event(e, now) for e in listed)

    @staticmethod
    def _event(event: Event, now: datetime) -> str:
        today = now.date()
        start, end = event.start.astimezone(now.tzinfo), _end(event).astimezone(now.tzinfo)
        if start.date() == end.date() or (end - start) < timedelta(hours=12):
            when = phrases.EVENT_SAME_DAY.format(
                day=phrases.day(start.date(), today),
                start=phrases.hour(start.time()),
                end=phrases.hour(end.time()),
            )
        else:
            when = phrases.EVENT_SPAN.format(
                start=phrases.day(start.date(), today), end=phrases.day(end.date(), today)
            )
        place = phrases.EVENT_PLACE.format(place=event.place) if event.place else ""
        text = phrases.EVENT_ONE.format(title=event.title, when=when, place=place)
        return text + (f" {event.description.strip()}" if event.description else "")


def _main_title(title: str) -> str:
    """The title without its parenthesised details: "Conseil municipal (vote du budget)"."""
    return re.sub(r"\([^)]*\)", " ", title)


def _end(event: Event) -> datetime:
    return event.end or event.start
