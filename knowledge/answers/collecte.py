"""Waste-collection answers: which stream, where the resident lives, and the day meant."""

from __future__ import annotations

import re
from datetime import date, timedelta

from knowledge import phrases
from knowledge.analysis import Analyzer
from knowledge.answers.question import Question
from knowledge.calendars.collection import Collection, CollectionCalendar
from knowledge.pack.calendar_models import Collecte, Stream
from knowledge.places import Place
from knowledge.text import fold

# The collection itself, named without a stream ("le camion poubelle passe quel jour ?");
# not "bac" alone, which is also a sandpit or a flower box.
COLLECTION_NAMED = (
    r"collectes?|ramassages?|ramassee?s?|eboueurs?|poubelles?|camion poubelle|camion benne"
)
# Any word of the collection, the bins included: enough to call a question one about it.
COLLECTE_WORDS = COLLECTION_NAMED + r"|ramasses?|tournee|bacs?"
LATE_HOUR = 12  # asked after noon, today's collection has already passed


class CollecteAnswers:
    """Answers about waste collection, from the pack's `collecte.yaml`."""

    def __init__(
        self, collecte: Collecte, calendar: CollectionCalendar, analyzer: Analyzer
    ) -> None:
        self.collecte = collecte
        self.calendar = calendar
        self._zones = {zone.id: zone for zone in collecte.zones}
        self._aliases = [
            (alias, re.compile(r" " + re.escape(alias) + r"s? "), stream_id)
            for alias, stream_id in sorted(
                (
                    (fold(alias), stream_id)
                    for stream_id, stream in collecte.streams.items()
                    for alias in (stream.name, *stream.aliases, stream_id)
                ),
                key=lambda item: -len(item[0]),
            )
        ]
        # Beyond the aliases as written, a stream is recognised by its synonym concepts
        # ("poubelle" -> household waste), not by any word its aliases share.
        self._stream_terms = {
            stream_id: {
                term
                for alias in (stream.name, *stream.aliases)
                for term in analyzer.analyze_weighted(alias)
                if term.startswith("~")
            }
            for stream_id, stream in collecte.streams.items()
        }

    def streams_in(self, question: Question) -> list[str]:
        """Streams named in the question, most specific wording first."""
        found: list[str] = []
        text = question.folded
        for alias, pattern, stream_id in self._aliases:
            if alias in text and stream_id not in found and pattern.search(text):
                found.append(stream_id)
                text = text.replace(f" {alias} ", " ")
        if found:
            return found
        best, best_score = None, 0
        for stream_id, terms in self._stream_terms.items():
            score = len(terms & question.terms.keys())
            if score > best_score:
                best, best_score = stream_id, score
        return [best] if best else []

    def is_about_collection(self, question: Question) -> bool:
        return bool(self.streams_in(question)) or question.says(COLLECTE_WORDS)

    def needs_place(self, question: Question) -> bool:
        """Streams collected by appointment are the same everywhere: no street needed."""
        streams = self.streams_in(question)
        return not streams or any(self.collecte.streams[s].mode != "appointment" for s in streams)

    def answer_anywhere(self, question: Question) -> str:
        return "\n".join(
            self._appointment(self.collecte.streams[s]) for s in self.streams_in(question)
        )

    def answer(self, question: Question, place: Place) -> str:
        zone = self._zones[place.zone]
        streams = self.streams_in(question) or [
            s for s, stream in self.collecte.streams.items() if stream.mode == "door"
        ]
        header = phrases.COLLECTE_PLACE.format(place=phrases.capital(place.name), zone=zone.name)
        parts = [self._stream(question, place, stream_id) for stream_id in streams[:3]]
        return f"{header} : " + "\n".join(p for p in parts if p)

    def _stream(self, question: Question, place: Place, stream_id: str) -> str:
        stream = self.collecte.streams[stream_id]
        if stream.mode == "drop_off":
            return self._drop_off(place, stream_id, stream)
        if stream.mode == "appointment":
            return self._appointment(stream)
        if stream_id not in self._zones[place.zone].rules:
            return f"pas de collecte des {stream.name.lower()} à domicile dans votre secteur."
        when = question.when
        period = self.collecte.period
        if when is not None and when.specific and not period.start <= when.start <= period.end:
            return phrases.PERIOD_OUT_OF_RANGE.format(
                start=f"{phrases.day(period.start)} {period.start.year}",
                end=f"{phrases.day(period.end)} {period.end.year}",
            )
        if when is not None and when.specific:
            text = self._in_period(
                question, place.zone, stream_id, when.start, when.end, when.label
            )
        else:
            text = self._next(question, place.zone, stream_id)
        return phrases.capital(text) + self._start_hint(stream)

    def _in_period(
        self, question: Question, zone: str, stream_id: str, start: date, end: date, label: str
    ) -> str:
        name = self.collecte.streams[stream_id].name.lower()
        found = self.calendar.collections(zone, stream_id, start, end)
        if found:
            return " ; ".join(self._describe(c, name, question.today) for c in found) + "."
        period = "ce jour-là" if start == end else label
        text = phrases.COLLECTE_NONE_IN_RANGE.format(stream=name, period=period)
        following = self.calendar.next_collections(zone, stream_id, end + timedelta(days=1))
        for collection in following:  # the cancelled ones before the next that is held
            if collection.cancelled:
                text += " ; " + self._describe(collection, name, question.today)
            else:
                text += " ; " + self._next_text(collection, name, question.today)
        return text + "."

    def _next(self, question: Question, zone: str, stream_id: str) -> str:
        name = self.collecte.streams[stream_id].name.lower()
        after = question.today
        if question.now.hour >= LATE_HOUR:
            after += timedelta(days=1)
        upcoming = self.calendar.next_collections(zone, stream_id, after, count=1)
        cancelled = [c for c in upcoming if c.cancelled]
        held = [c for c in upcoming if not c.cancelled]
        texts = [self._describe(c, name, question.today) for c in cancelled]
        if held:
            season = self._season_gap(stream_id, after, held[0])
            texts.append(season or self._next_text(held[0], name, question.today))
        elif not cancelled:
            end = self.collecte.period.end
            return phrases.COLLECTE_NO_MORE.format(
                stream=name, day=phrases.day(end, question.today)
            )
        return " ; ".join(texts) + "."

    def _season_gap(self, stream_id: str, after: date, first: Collection) -> str | None:
        stream = self.collecte.streams[stream_id]
        if stream.season is None or first.actual is None or (first.actual - after).days < 21:
            return None
        return phrases.COLLECTE_OUT_OF_SEASON.format(
            stream=stream.name.lower(),
            day=phrases.day(first.actual, after),
            instructions=(stream.instructions or "").strip(),
        )

    def _next_text(self, collection: Collection, name: str, today: date) -> str:
        if collection.moved:
            return self._describe(collection, name, today)
        assert collection.actual is not None
        return phrases.COLLECTE_NEXT.format(day=phrases.day(collection.actual, today)) + (
            f" ({name})"
        )

    def _describe(self, collection: Collection, name: str, today: date) -> str:
        planned = phrases.day(collection.planned, today)
        if collection.cancelled:
            text = phrases.COLLECTE_CANCELLED.format(stream=name, day=planned)
            return text + (f" ({collection.reason})" if collection.reason else "")
        assert collection.actual is not None
        actual = phrases.day(collection.actual, today)
        if collection.change == "holiday" and collection.reason:
            return (
                phrases.COLLECTE_MOVED_HOLIDAY.format(
                    stream=name, day=actual, reason=phrases.of_holiday(collection.reason)
                )
                + " (jour férié)"
            )
        if collection.change == "exception":
            if collection.actual == collection.planned:
                text = phrases.COLLECTE_ON.format(stream=name, day=actual)
            else:
                text = phrases.COLLECTE_MOVED_NOTE.format(stream=name, day=actual)
            return text + (f" ({collection.reason})" if collection.reason else "")
        return phrases.COLLECTE_ON.format(stream=name, day=actual)

    def _start_hint(self, stream: Stream) -> str:
        if stream.start_time is None:
            return ""
        container = stream.container or "bac"
        return " " + phrases.COLLECTE_START.format(
            hour=phrases.hour(stream.start_time), container=container.split("(")[0].strip()
        )

    def _drop_off(self, place: Place, stream_id: str, stream: Stream) -> str:
        zone = self._zones[place.zone]
        points = zone.drop_off.get(stream_id, ())
        listed = phrases.join(
            [f"{p.place}" + (f" ({p.address})" if p.address else "") for p in points]
        )
        text = phrases.COLLECTE_DROP_OFF.format(
            stream=stream.name.lower(), zone=zone.name, places=listed or "voir la mairie"
        )
        return text + (f" {stream.instructions.strip()}" if stream.instructions else "")

    def _appointment(self, stream: Stream) -> str:
        booking = stream.booking
        parts = []
        if booking is not None:
            if booking.who:
                parts.append(booking.who)
            if booking.phone:
                parts.append(f"au {booking.phone}")
            if booking.email:
                parts.append(booking.email)
        text = phrases.COLLECTE_APPOINTMENT.format(
            stream=stream.name.lower(), booking=", ".join(parts) or "contactez la mairie"
        )
        return text + (f" {stream.instructions.strip()}" if stream.instructions else "")
