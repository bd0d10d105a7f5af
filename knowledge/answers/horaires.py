"""Opening-hours answers: is a place open on the day meant, and when it opens next."""

from __future__ import annotations

import re
from datetime import date, time

from knowledge import phrases
from knowledge.analysis import Analyzer
from knowledge.answers.question import Question
from knowledge.calendars.opening import DayHours, OpeningCalendar
from knowledge.pack.calendar_models import Service
from knowledge.pack.models import FaqEntry

HOURS_WORDS = (
    r"ouvert|ouverte|ouverts|ouvertes|ouvre|ouvrent|ouvrira|rouvre|rouvrent|rouvrira|reouverture|"
    r"ferme|fermee|fermes|fermees|fermeture|horaires?|heures? d ouverture|quelle heure|"
    r"quelles heures|permanences?"
)
# with a date: "on peut y aller samedi ?", not "pour aller travailler"
OPENING_WORDS = (
    HOURS_WORDS + r"|possible|y aller|aller a|aller au|aller a la|nager|se baigner|baignade"
)
REOPENS_WORDS = r"rouvre|rouvrent|rouvrira|reouverture"
NOW_WORDS = REOPENS_WORDS + r"|maintenant|en ce moment|actuellement"
# Words of many places' names ("Services techniques municipaux", "Salle communale"): alone,
# they name no place in particular.
GENERIC_PLACE_WORDS = (
    "municipal municipale municipaux municipales communal communale communaux communales "
    "intercommunal intercommunale service services centre public publique espace maison "
    "salle local lieu"
)
NOT_ABOUT_HOURS = (
    r"inscriptions?|inscrire|tarifs?|prix|combien|coute|coutent|reserv\w*|obten\w*|obtien\w*|"
    r"badges?|pass|cartes? d acces|perdu\w*|egare\w*|vole|volee|voles|volees"
)
MAX_DAYS = 16
# "9h", "14 h 30", "8h-12h"; not "24 h/24", which says a line never closes
_GIVES_HOURS = re.compile(r"\b\d{1,2} ?h(?: ?\d{2})?\b(?! ?/)")
_PART_BOUNDS = {
    "matin": (time(0, 0), time(12, 0)),
    "midi": (time(11, 30), time(14, 0)),
    "apres-midi": (time(12, 0), time(18, 30)),
    "soir": (time(18, 0), time(23, 59)),
}


class OpeningAnswers:
    """Answers about the opening hours of the pack's places (`services.yaml`)."""

    def __init__(
        self,
        services: tuple[Service, ...],
        calendars: dict[str, OpeningCalendar],
        analyzer: Analyzer,
    ) -> None:
        self.services = {service.id: service for service in services}
        self.calendars = calendars
        self._generic = frozenset(analyzer.analyze(GENERIC_PLACE_WORDS))
        self._names = {
            service.id: tuple(
                frozenset(
                    term
                    for term, share in analyzer.analyze_weighted(name).items()
                    # "mercredi" of "garderie du mercredi" is a day, it names no place
                    if share == 1.0 and term not in analyzer.weak_terms
                )
                for name in (service.name, *service.aliases, service.id.replace("-", " "))
            )
            for service in services
        }
        # The word a place's name begins with, the kind of place it is ("Piscine du Val de
        # Brume"): alone, it names the place. Not a later word: "les enfants" do not name the
        # "Accueil de loisirs Les Loupiots".
        self._heads = {
            service.id: head if head in self._names[service.id][0] else None
            for service in services
            for head in [
                next((t for t in analyzer.analyze(service.name) if t not in self._generic), None)
            ]
        }

    def service_in(self, question: Question) -> Service | None:
        """The place the question names: the word its name begins with, or more than half the
        words of its name, an alias or its id ("la piscine" and "le Val de Brume" for the
        "Piscine du Val de Brume", not "la Brume"; "récupérer" alone does not name the post
        office's "retrait des colis").
        With a date, any word counts ("la salle, samedi ?"); without one, only words of its
        own ("horaires de la piscine municipale" names no "service technique municipal")."""
        dated = question.when is not None and question.when.specific
        best, best_score = None, 0
        for service_id, names in self._names.items():
            head = self._heads[service_id]
            headed = head is not None and question.terms.get(head) == 1.0
            score = 0
            for name in names:
                terms = name if dated else name - self._generic
                # a word that is only part of another phrase ("nationale" of the identity
                # card) names no place
                said = sum(1 for t in terms if question.terms.get(t, 0.0) == 1.0)
                if 2 * said > len(terms) or headed:
                    score = max(score, said)
            if score > best_score:
                best, best_score = service_id, score
        return self.services[best] if best is not None else None

    def is_about_opening(self, question: Question, faq: FaqEntry | None) -> bool:
        """Whether the question asks when a place of the pack is open. Without a date, only
        if the FAQ entry that would answer (`faq`) gives no hours: the mairie's also says
        where and how to reach it, but "la médiathèque ouvre quand ?" is not answered by how
        to join it."""
        if not question.asks(OPENING_WORDS) or self.service_in(question) is None:
            return False
        if question.says(NOT_ABOUT_HOURS):  # "quand ouvrent les inscriptions…"
            return False
        when = question.when
        return (
            (when is not None and when.specific)
            or question.says(NOW_WORDS)
            or (  # no date, or a weekday every week: "la poste ouvre le lundi ?"
                (when is None or not when.specific)
                and question.says(HOURS_WORDS)
                and (faq is None or not _GIVES_HOURS.search(faq.answer))
            )
        )

    def answer(self, question: Question) -> str:
        service = self.service_in(question)
        assert service is not None
        calendar = self.calendars[service.id]
        name = phrases.capital(service.name)
        when = question.when
        today = question.today
        if when is None or not when.specific:
            if not question.says(NOW_WORDS):  # "horaires de la poste ?": the coming week
                week = [calendar.day(date.fromordinal(today.toordinal() + n)) for n in range(7)]
                return self._period(name, week, today, calendar)
            current = calendar.day(today)
            if current.is_open and not question.says(REOPENS_WORDS):
                return self._open(name, current, today)
            return self._closed(name, current, today, calendar, None)
        days = [
            calendar.day(date.fromordinal(n))
            for n in range(when.start.toordinal(), when.end.toordinal() + 1)
        ]
        if len(days) == 1:
            day = days[0]
            ranges = _in_part(day, when.part)
            if ranges:
                return self._open(name, day, today, ranges)
            return self._closed(name, day, today, calendar, when.part if day.is_open else None)
        return self._period(name, days[:MAX_DAYS], today, calendar)

    def _period(
        self, name: str, days: list[DayHours], today: date, calendar: OpeningCalendar
    ) -> str:
        """One line per day of a range, then the next opening if it ends closed."""
        lines = [phrases.PERIOD_HEADER.format(name=name)]
        for day in days:
            when = phrases.capital(phrases.day(day.day, today))
            if day.is_open:
                hours = phrases.hours([(r.start, r.end) for r in day.ranges])
                lines.append(f"- {when} : {hours}{self._why(day)}")
            else:
                lines.append(f"- {when} : {phrases.CLOSED_WORD}{self._why(day)}")
        if not days[-1].is_open:
            following = calendar.next_open_day(days[-1].day)
            if following is not None:
                hours = phrases.hours([(r.start, r.end) for r in following.ranges])
                day_text = phrases.day(following.day, today)
                lines.append(phrases.NEXT_OPENING.format(day=day_text, ranges=hours))
        return "\n".join(lines)

    @staticmethod
    def _why(day: DayHours) -> str:
        if day.note:
            return phrases.WHY_NOTE.format(note=day.note)
        if day.holiday:
            return phrases.WHY_HOLIDAY.format(holiday=day.holiday)
        return ""

    def _open(
        self,
        name: str,
        day: DayHours,
        today: date,
        ranges: tuple[tuple[time, time], ...] | None = None,
    ) -> str:
        shown = ranges or tuple((r.start, r.end) for r in day.ranges)
        return phrases.OPEN_DAY.format(
            name=name,
            day=phrases.day(day.day, today),
            ranges=phrases.hours(shown),
            why=self._why(day),
        )

    def _closed(
        self, name: str, day: DayHours, today: date, calendar: OpeningCalendar, part: str | None
    ) -> str:
        when = phrases.day(day.day, today)
        if part is not None:  # open that day, but not at the time asked: say when it is
            text = phrases.CLOSED_PART.format(
                name=name, day=when, part=phrases.PARTS[part], why=self._why(day)
            )
            hours = phrases.hours([(r.start, r.end) for r in day.ranges])
            return text + " " + phrases.OPEN_THAT_DAY.format(ranges=hours)
        text = phrases.CLOSED_DAY.format(name=name, day=when, why=self._why(day))
        following = calendar.next_open_day(day.day)
        if following is not None:
            hours = phrases.hours([(r.start, r.end) for r in following.ranges])
            text += " " + phrases.NEXT_OPENING.format(
                day=phrases.day(following.day, today), ranges=hours
            )
        return text


def _in_part(day: DayHours, part: str | None) -> tuple[tuple[time, time], ...]:
    ranges = tuple((r.start, r.end) for r in day.ranges)
    if part is None:
        return ranges
    low, high = _PART_BOUNDS[part]
    return tuple((max(s, low), min(e, high)) for s, e in ranges if s < high and e > low)
